"""Example house rules: plugins that add checks through the ``validate_post`` hook.

An institution turns a rule on by registering it::

    from govsocial.plugin.house_rules import AltTextRequired
    from govsocial.plugin.manager import default_plugins

    default_plugins().register(AltTextRequired(), name="alt-text-required")

or, for every script on a machine, by publishing it as an entry point in the ``govsocial``
group of its own package (see docs/plugins.md).
"""

from __future__ import annotations

from govsocial.adapters.platform import Limits
from govsocial.core.models import Post, Problem
from govsocial.plugin.spec import hookimpl

__all__ = ["AltTextRequired"]


class AltTextRequired:
    """Every image and video must carry alt text, on every platform that has alt text.

    Public institutions owe accessible content to every citizen; a screen reader user
    cannot see a poster.
    """

    @hookimpl
    def validate_post(self, post: Post, platform: str, limits: Limits) -> list[Problem]:
        """A problem for each image or video without alt text, where the platform has alt text."""
        if not limits.alt_text:
            return []
        return [
            Problem(
                code="alt_text_required",
                message=(
                    f"media {index + 1} ({media.source}) has no alt text; house rule: describe "
                    "every image for people who cannot see it"
                ),
                field=f"media[{index}].alt_text",
            )
            for index, media in enumerate(post.media)
            if not media.alt_text.strip()
        ]
