"""Layer 5, the inbox: citizens' replies and mentions, service hours and response times."""

from govsocial.inbox.erasure import Erasure
from govsocial.inbox.items import InboxItem, SyncResult
from govsocial.inbox.service_hours import ServiceHours

__all__ = ["Erasure", "InboxItem", "ServiceHours", "SyncResult"]
