"""How many rows an UPDATE or DELETE changed.

SQLAlchemy types `Session.execute` as returning a `Result`, whatever the statement; for an UPDATE
or a DELETE it is a `CursorResult`, the kind that has a `rowcount`. Saying so once here keeps
the type checker honest at every call.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa


def changed_rows(result: sa.Result[Any]) -> int:
    """The rows the UPDATE or DELETE behind `result` changed (matched, on most databases)."""
    return cast("sa.CursorResult[Any]", result).rowcount
