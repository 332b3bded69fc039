"""CSV cells that a spreadsheet will not run: every CSV govsocial writes goes through here.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV or formula injection); such text gets a leading
apostrophe, as OWASP advises, so the spreadsheet shows it as text. Numbers stay numbers: a
negative figure (an ``int`` or ``float``) is written as ``-3``, not ``'-3``; only text is
changed, even text that looks like a number (a person id ``+1`` is written ``'+1``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["csv_cell", "csv_row"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` safe as a CSV cell: text that a spreadsheet would read as a formula gets a
    leading ``'``; numbers, booleans and None are returned unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Any) -> list[Any]:
    """Each of ``values`` through :func:`csv_cell`."""
    return [csv_cell(value) for value in values]
