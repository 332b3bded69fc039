"""The listening commands of the ``govsocial`` command line: ``classify``.

``classify TEXT`` says what a message is (intent, sentiment, confidence, the classifier
that decided and why), offline; the inbox's ``list --intent``, ``label`` and ``labels`` are in
:mod:`govsocial.cli.inbox`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from govsocial.cli._common import print_json, shown, text_from_args

if TYPE_CHECKING:
    from govsocial.cli._common import Commands

__all__ = ["add_parsers"]


def add_parsers(commands: Commands) -> None:
    """Add ``classify`` to the main parser."""
    classify = commands.add_parser(
        "classify", help="what a message is: question, complaint, praise, hoax report..."
    )
    classify.add_argument("text", help="the message ('-' reads it from standard input)")
    classify.add_argument("--language", choices=("id", "en"), help="default: detected")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.set_defaults(handler=_cmd_classify)


def _cmd_classify(args: argparse.Namespace) -> int:
    from govsocial.listening.classify import classify

    found = classify(text_from_args(args.text), args.language)
    if args.json:
        print_json(found.model_dump(mode="json"))
        return 0
    print(
        f"{found.intent}  sentiment {found.sentiment}  confidence {found.confidence:.2f}  "
        f"language {found.language or '?'}  by {shown(found.classifier)}"
    )
    for reason in found.reasons:
        print(f"  - {shown(reason)}")
    return 0
