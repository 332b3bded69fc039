"""Layer 3, the client: validation, the accounts file and ``AsyncClient`` / ``Client``.

A client publishes, reads and measures across accounts, with no database.
"""

from govsocial.client._client import AsyncClient, Client, ClientOptions

__all__ = ["AsyncClient", "Client", "ClientOptions"]
