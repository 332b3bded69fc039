"""One thing wrong with a post, found before it is sent: what ValidationError carries.

It lives apart from :mod:`govsocial.core.models` so that :mod:`govsocial.core.errors` can name
it without an import cycle (models raise errors; errors carry problems).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Problem"]


class Problem(BaseModel):
    """One thing wrong with a post for a platform, found before it is sent.

    ``severity`` is ``"error"`` (the post cannot go as it is: publishing refuses it) or
    ``"warning"`` (it goes, but something is lost, such as alt text on a platform without
    any; ``govsocial validate`` shows it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    field: str | None = None
    platform: str | None = None
    limit: int | None = None
    severity: Literal["error", "warning"] = "error"
