"""CSV exports as spreadsheets will open them: text that cannot run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A spreadsheet runs a cell that starts with one of these as a formula; free text from
# providers and people's names must not be able to do that on the admin's machine.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(records: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text, to stream a chunk at a time."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(records)
    return buffer.getvalue()


def inert(text: str | None) -> str:
    """Free text as a spreadsheet will show, not run, it."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
