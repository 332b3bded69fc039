"""The inbox's re-labels as training data: a DataFrame, or a JSON Lines or CSV file.

Each row is one item a person labelled (its latest label) with the message's text, the
language read, the person's intent and sentiment and the machine's answer before it
(:meth:`govsocial.inbox.Inbox.labels`). The file is for training or measuring a
classifier; it holds citizens' words, so keep it where the inbox is kept, and an erased
item leaves it (the rows are read from the inbox when the file is written).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govsocial.analytics._csv import csv_row
from govsocial.core.errors import ConfigurationError
from govsocial.inbox.items import Inbox
from govsocial.workspace.core import HasCore, WorkspaceCore

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]  # no pandas-stubs

__all__ = ["LABEL_COLUMNS", "export_labels", "labels_frame"]

#: The columns of the training data, in order.
LABEL_COLUMNS = (
    "item",
    "account",
    "text",
    "language",
    "intent",
    "sentiment",
    "machine_intent",
    "machine_sentiment",
    "machine_classifier",
    "labelled_by",
    "labelled_at",
)


def labels_frame(core: WorkspaceCore | HasCore) -> pd.DataFrame:
    """The re-labels as a pandas DataFrame, one row per labelled item (needs pandas)."""
    try:
        import pandas as pd
    except ImportError:
        raise ConfigurationError(
            "the labels as a DataFrame need pandas",
            field="labels",
            hint="pip install 'govsocial[notebook]', or export_labels() to a file",
        ) from None
    return pd.DataFrame(Inbox(core).labels(), columns=list(LABEL_COLUMNS))


def export_labels(
    core: WorkspaceCore | HasCore, path: str | Path, format: str | None = None
) -> int:
    """Write the re-labels to ``path``: JSON Lines (``.jsonl``) or CSV (``.csv``; cells a
    spreadsheet would run as formulas are quoted). ``format`` overrides the suffix. Returns
    the number of rows written."""
    target = Path(path)
    kind = (format or target.suffix.lstrip(".")).lower()
    if kind not in ("jsonl", "csv"):
        raise ConfigurationError(
            f"cannot write labels as {kind or 'a file without a suffix'!r}",
            field="format",
            hint="a .jsonl or .csv file, or format='jsonl' / 'csv'",
        )
    rows: list[dict[str, Any]] = Inbox(core).labels()
    with target.open("w", encoding="utf-8", newline="") as out:
        if kind == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(out)
            writer.writerow(csv_row(LABEL_COLUMNS))
            for row in rows:
                writer.writerow(csv_row(row[c] for c in LABEL_COLUMNS))
    return len(rows)
