"""The transaction type every repository method takes, and how each engine spells parameters.

Every statement in govsocial is written once, with ``?`` marking each parameter (SQLite's own
``qmark`` style), and lives in this package. SQLite runs it as written. PostgreSQL (psycopg,
``format`` style) gets it through :func:`to_format`, which reads the statement token by token:
a ``?`` inside a string literal, a quoted name or a comment stays a ``?``, and every ``%``
becomes ``%%`` so psycopg never mistakes a ``LIKE 'x%'`` pattern for a parameter. Values are
always passed as parameters, never put into the text, so a ``?`` or ``%`` in a value is
nothing to either engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, Protocol

__all__ = ["Database", "Render", "Tx", "as_is", "to_format"]


class Tx(Protocol):
    """An open transaction: the DB-API cursor a store's ``transaction()`` yields.

    Repository methods take one so that several of them, and the audit entry recording
    them, commit together or not at all.
    """

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""

    def execute(self, sql: Any, params: Sequence[Any] = ..., /) -> Any:
        """Run one statement already in the engine's own parameter style."""

    def executemany(self, sql: Any, params: Any, /) -> Any:
        """Run one statement for each parameter row."""

    def fetchone(self) -> Any:
        """The next row of the last query, or None."""

    def fetchall(self) -> list[Any]:
        """The remaining rows of the last query."""


#: Turns a statement written with ``?`` into the engine's parameter style.
Render = Callable[[str], str]


class Database(Protocol):
    """What a repository needs of its store: transactions, and statements run in them."""

    engine: str

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction (nested calls join the outer one)."""

    def execute(self, tx: Tx, sql: str, params: Sequence[Any] = ()) -> Tx:
        """Run ``sql`` (written with ``?``) in ``tx``; the cursor, for its rows."""

    def executemany(self, tx: Tx, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` (written with ``?``) once per parameter row in ``tx``."""


_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")


def as_is(sql: str) -> str:
    """SQLite: statements are written in its own ``qmark`` style."""
    return sql


@lru_cache(maxsize=4096)  # statements are constants: each is read once per process
def to_format(sql: str) -> str:
    """PostgreSQL (psycopg): ``?`` outside literals (``'...'`` and ``$tag$...$tag$``), quoted
    names and comments becomes ``%s``; every ``%`` becomes ``%%``, inside literals too
    (psycopg reads ``%`` everywhere)."""
    return "".join(_format_tokens(sql))


def _format_tokens(sql: str) -> Iterator[str]:
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":  # a string literal or a quoted name, with '' or "" as an escape
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            yield sql[i : j + 1].replace("%", "%%")
            i = j + 1
        elif c == "$" and (tag := _DOLLAR_TAG.match(sql, i)) is not None:
            end = sql.find(tag.group(0), tag.end())  # a dollar-quoted body, as written
            j = n if end < 0 else end + len(tag.group(0))
            yield sql[i:j].replace("%", "%%")
            i = j
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield sql[i:j].replace("%", "%%")
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield sql[i:j].replace("%", "%%")
            i = j
        elif c == "?":
            yield "%s"
            i += 1
        elif c == "%":
            yield "%%"
            i += 1
        else:
            j = i
            while j < n and sql[j] not in "'\"?%-/$":
                j += 1
            if j == i:  # a lone - or / that starts no comment, or a $ that quotes nothing
                j = i + 1
            yield sql[i:j]
            i = j
