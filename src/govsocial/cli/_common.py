"""What every command module of the ``govsocial`` command line shares.

The arguments several commands take (``--image``/``--alt``, ``--by``), reading a post or a
text from the arguments or standard input, opening the workspace named by ``--db``, and
printing JSON. Command modules import this module (and, inside their handlers, what the
handler runs: ``demo``, ``platform_table``), never the package itself, so the package has
no import cycle: :mod:`govsocial.cli` imports the command modules, and each adds its own
subcommands (``add_parsers(commands)``), binding its handler with
``set_defaults(handler=...)``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from govsocial.core.errors import GovSocialError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from govsocial.adapters.upload import UploadProgress
    from govsocial.app import Workspace
    from govsocial.core.models import Post
    from govsocial.workspace.signing import SigningKey

    #: what ``add_parsers`` and the ``register_commands`` hook receive: the ``govsocial``
    #: parser's subcommands, to call ``add_parser(name, help=...)`` on.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "ProgressBar",
    "by_arg",
    "locked_note",
    "media_args",
    "signing_key",
    "models_json",
    "needs_by",
    "open_workspace",
    "post_from_args",
    "print_json",
    "shown",
    "text_from_args",
]


def media_args(parser: argparse.ArgumentParser) -> None:
    """``--image PATH`` and ``--alt TEXT``, both repeatable, paired by position."""
    parser.add_argument(
        "--image", action="append", default=[], metavar="PATH", help="attach an image (repeatable)"
    )
    parser.add_argument(
        "--alt",
        action="append",
        default=[],
        metavar="TEXT",
        help="alt text for the image in the same position (repeatable)",
    )


def by_arg(parser: argparse.ArgumentParser) -> None:
    """``--by PERSON``: who acts (needed on accounts under appointments), and ``--key PATH``:
    their signing key (needed when they sign)."""
    parser.add_argument(
        "--by",
        default=os.environ.get("GOVSOCIAL_ACTOR") or None,
        metavar="PERSON",
        help="who does this (needed on accounts under appointments, and for changes once "
        "the workspace has a head of office; default $GOVSOCIAL_ACTOR)",
    )
    parser.add_argument(
        "--key",
        default=os.environ.get("GOVSOCIAL_KEY") or None,
        metavar="PATH",
        help="the signing key file of --by, when they sign (`govsocial keys new NAME`; "
        "default $GOVSOCIAL_KEY)",
    )


def signing_key(args: argparse.Namespace) -> SigningKey | None:
    """The key ``--key`` (or ``$GOVSOCIAL_KEY``) names, loaded; None when none is named."""
    path = getattr(args, "key", None)
    if not path:
        return None
    from govsocial.workspace.signing import SigningKey

    return SigningKey.load(path)


def text_from_args(value: str) -> str:
    """``value`` itself, or standard input when it is ``-``."""
    return sys.stdin.read() if value == "-" else value


def post_from_args(args: argparse.Namespace) -> Post:
    """The post that ``TEXT``, ``--image``, ``--alt`` and ``--language`` describe.

    :raises GovSocialError: more ``--alt`` than ``--image`` (field ``alt``).
    """
    from govsocial.core.models import Media, Post

    text = text_from_args(args.text)
    if len(args.alt) > len(args.image):
        raise GovSocialError(
            f"{len(args.alt)} --alt given for {len(args.image)} --image",
            field="alt",
            hint="give one --alt after each --image",
        )
    alts = args.alt + [""] * (len(args.image) - len(args.alt))
    media = [
        Media(path=Path(path), alt_text=alt) for path, alt in zip(args.image, alts, strict=True)
    ]
    return Post(text, media=media, language=getattr(args, "language", None))


def open_workspace(args: argparse.Namespace, **options: Any) -> Workspace:
    """The workspace named by ``--db`` (default ``$GOVSOCIAL_DB``, then ``./govsocial.db``),
    or, with ``--workspace NAME`` (or ``$GOVSOCIAL_WORKSPACE``), that registered workspace
    of it.

    It must exist: only ``govsocial init`` creates one, so a mistyped ``--db`` is an error
    naming the fix rather than a new, empty workspace. ``options`` as for
    :meth:`govsocial.Workspace.open`.
    """
    from govsocial.app import Workspace

    return Workspace.open(
        args.db, create=False, workspace=getattr(args, "workspace", None), **options
    )


def needs_by(command: str) -> GovSocialError:
    """The error for ``command`` run without ``--by`` (or ``$GOVSOCIAL_ACTOR``)."""
    from govsocial.core.errors import ConfigurationError

    return ConfigurationError(f"{command} needs --by PERSON (or GOVSOCIAL_ACTOR)", field="by")


#: Characters that reorder or hide text on a terminal: the bidirectional embeddings,
#: overrides and isolates, the directional marks, and the zero-width joiners and spaces.
_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _visible(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\u23ce"  # ⏎
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if char in _INVISIBLE:
        return f"\\u{code:04x}"
    return char


def shown(value: object) -> str:
    """``value`` as text safe to print on a terminal: every command prints what came from
    outside (citizens' messages, authors, handles, names, platform errors, post text) through
    this.

    C0 and C1 control characters (escape sequences such as ``ESC [2J`` or an OSC 52 clipboard
    write, BEL, backspace, carriage return, tab) are shown as ``\\x1b``-style escapes, a
    line break as ``⏎`` (so one item stays one line), and bidirectional overrides, isolates
    and zero-width characters as ``\\u202e``-style escapes. Everything else, accents and
    scripts included, is kept as it is.
    """
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return "".join(_visible(char) for char in text)


def locked_note(lock: tuple[str, float, str | None]) -> str:
    """How an account lock (``WorkspaceCore.account_locks()``'s value) reads in a listing:
    ``locked since 2026-12-06 07:00Z: <why>``."""
    from datetime import UTC, datetime

    reason, at, _ = lock
    since = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%MZ")
    return f"locked since {since}: {reason}"


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    print(json.dumps(value, indent=2))


def models_json(models: Iterable[BaseModel]) -> list[Any]:
    """Pydantic models as JSON values (datetimes as ISO strings, as ``model_dump_json`` does)."""
    return [json.loads(model.model_dump_json()) for model in models]


class ProgressBar:
    """Draws each chunked upload's progress on one line of a terminal (``on_progress``).

    ``media[0]  [#########-----------]  48.0 of 200.0 MB  24%``, redrawn in place, and a
    line of its own when the upload finishes. Silent when ``stream`` is not a terminal
    (a log or a pipe would fill with redraws).
    """

    def __init__(self, stream: Any = None, *, width: int = 20) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, progress: UploadProgress) -> None:
        """Redraw the line for ``progress``."""
        if not self.enabled:
            return
        filled = round(progress.fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if progress.sent >= progress.size else ""
        self.stream.write(
            f"\r{shown(progress.name)}  [{bar}]  {progress.sent / 1e6:.1f} of "
            f"{progress.size / 1e6:.1f} MB  {progress.fraction:4.0%}{end}"
        )
        self.stream.flush()
