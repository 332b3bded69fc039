"""Layer 5, the inbox: citizens' replies and mentions, service hours and response times."""

from govsocial.inbox.items import InboxItem, SyncResult
from govsocial.inbox.service_hours import ServiceHours

__all__ = ["InboxItem", "ServiceHours", "SyncResult"]
