"""CSV exports as spreadsheets will open them: text that cannot run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

Row = TypeVar("Row")

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


def csv_in_chunks(header: Sequence[str], read: Callable[[int | None, int], list[Row]],
                  record: Callable[[Row], Sequence[object]], key: Callable[[Row], int],
                  chunk: int) -> Iterator[str]:
    """A header, then every row `read(after, limit)` gives, `chunk` rows at a time.

    Each chunk is its own keyset query, so no transaction or cursor stays open for the whole
    download and memory stays flat however many rows match.
    """
    yield csv_text([header])
    after = None
    while True:
        rows = read(after, chunk)
        if not rows:
            return
        yield csv_text(record(row) for row in rows)
        if len(rows) < chunk:
            return
        after = key(rows[-1])
