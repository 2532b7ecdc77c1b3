"""Idempotency keys: the same request sent twice with one key is one send.

A caller (a double-clicked form, a retrying clinic system) names its request with a key. The
first send stores the key with a fingerprint of what was asked; a later request with that key
and the same fingerprint gets the first send back, and one with another fingerprint is a
conflict rather than a silent second send.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models.notification import NotificationGroup
from app.services.errors import Conflict

KEY_MAX = 255
KEY_RULE = f"An idempotency key is 1 to {KEY_MAX} printable characters"


def is_valid_key(key: object) -> bool:
    """Whether `key` can name a request (and be stored: PostgreSQL refuses NUL in text)."""
    return isinstance(key, str) and 0 < len(key) <= KEY_MAX and key.isprintable() and bool(key.strip())


def fingerprint(asked: Mapping[str, Any]) -> str:
    """A digest of what was asked, so a reused key with a different request is caught."""
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def earlier_send(sender_id: int | None, key: str, request_fingerprint: str) -> int | None:
    """The id of the send this sender already made with `key`, if any.

    Raises:
        Conflict: the key was used before for a different request.
    """
    group = db.session.scalar(
        sa.select(NotificationGroup).where(
            NotificationGroup.sender_id.is_(None) if sender_id is None else NotificationGroup.sender_id == sender_id,
            NotificationGroup.idempotency_key == key,
        )
    )
    if group is None:
        return None
    if group.request_fingerprint != request_fingerprint:
        raise Conflict("This idempotency key was already used for a different request")
    return group.id
