"""Idempotency for the JSON API's POSTs: a retried request gets the first answer, once.

A clinic system that times out cannot know whether its send went. It retries with the same
`Idempotency-Key` header, and the API answers as it did the first time (same status, same
body) without doing the work again. The answer is stored per API key, in the transaction of the
work itself, so the work and its answer are kept together or not at all. The same key with a
different request is refused: silently answering for another request would hide a client's bug.
Which keys are valid is the outbox's rule (`app.services.idempotency`), one rule for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.models.api_key import ApiIdempotencyKey
from app.services import idempotency
from app.services.errors import Conflict, ServiceError, ValidationError

HEADER = "Idempotency-Key"


class KeyReused(ServiceError):
    """The key named a different request before."""

    status_code = 422


@dataclass(frozen=True)
class Answer:
    """What the API answers, and what to do once the answer's transaction is committed."""

    status: int
    body: dict[str, Any]
    after_commit: Callable[[], None] = field(default=lambda: None)


def check_key(key: str | None) -> None:
    """Raises ValidationError, under the header's name, for a key the outbox would refuse."""
    if key is not None and not idempotency.is_valid_key(key):
        raise ValidationError({HEADER: idempotency.KEY_RULE})


def fingerprint(method: str, path: str, body: Mapping[str, Any] | None) -> str:
    return idempotency.fingerprint({"method": method, "path": path, "body": body})


def answer_once(api_key_id: int, key: str | None, request_fingerprint: str, work: Callable[[], Answer]) -> Answer:
    """Do `work` and commit it with its answer, or give the answer stored for `key`.

    `work` writes in the session and may commit itself (a cancel does); the stored answer is
    added before it runs, so it is in the work's transaction either way.

    Raises:
        KeyReused: `key` was used with a different request.
        Conflict: the first request with `key` is still being answered.
    """
    check_key(key)
    if key is None:
        answer = _do(work)
        answer.after_commit()
        return answer
    earlier = _stored(api_key_id, key, request_fingerprint)
    if earlier is not None:
        return earlier
    row = ApiIdempotencyKey(api_key_id=api_key_id, key=key, request_fingerprint=request_fingerprint,
                            created_at=utcnow())
    try:
        db.session.add(row)
        db.session.flush()

        def work_and_keep() -> Answer:
            answer = work()
            row.status_code, row.response = answer.status, answer.body
            return answer

        answer = _do(work_and_keep)
    except IntegrityError:
        # Another request with this key won the race: answer as it did.
        db.session.rollback()
        earlier = _stored(api_key_id, key, request_fingerprint)
        if earlier is None:
            raise
        return earlier
    answer.after_commit()
    return answer


def _do(work: Callable[[], Answer]) -> Answer:
    try:
        answer = work()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return answer


def _stored(api_key_id: int, key: str, request_fingerprint: str) -> Answer | None:
    row = db.session.scalar(
        sa.select(ApiIdempotencyKey).where(ApiIdempotencyKey.api_key_id == api_key_id, ApiIdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.request_fingerprint != request_fingerprint:
        raise KeyReused(f"This {HEADER} was already used for a different request")
    if row.status_code is None or row.response is None:
        raise Conflict(f"The first request with this {HEADER} is still being answered; retry shortly")
    return Answer(row.status_code, row.response)
