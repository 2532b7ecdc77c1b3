"""API keys: how a clinic system proves who it is to the JSON API.

A key is a random 32-byte token, shown once when an admin creates it. Only its SHA-256 digest
is stored. A slow password hash (argon2, as for passwords) would add its cost to every API
request and buys nothing here: it exists to make guessing a low-entropy password from its hash
expensive, and a 256-bit random token cannot be guessed from a fast hash either. The digest is
looked up by equality on a unique index, so checking a key costs one indexed read.

A key acts with the rights of the admin who made it, and stops working the moment it is
revoked or that admin is deactivated. Its use is recorded as a last-used time, written at most
once a minute (`USE_RECORDED_EVERY`), so reads do not each write; what a key changes is in the
audit log naming the key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.api_key import ApiKey
from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ValidationError
from app.services.input_rules import as_id, has_control_characters
from app.vocabulary import ApiScope, Role

TOKEN_PREFIX = "sutra_"  # says what a leaked string is, for secret scanners and for people
PREFIX_SHOWN = len(TOKEN_PREFIX) + 6
NAME_MAX = 80
USE_RECORDED_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(admin: User, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
    """A new key and its token: the token is not stored and cannot be shown again.

    Raises:
        Forbidden: only admins make keys.
        ValidationError: no name, too long a name, or no (or an unknown) scope.
    """
    if admin.role is not Role.ADMIN:
        raise Forbidden("Only an admin can create API keys")
    name = (name or "").strip()
    chosen = list(dict.fromkeys(scopes))
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Name the key after the system that will use it"
    elif len(name) > NAME_MAX or has_control_characters(name):
        errors["name"] = f"A key's name is at most {NAME_MAX} characters of plain text"
    if not chosen:
        errors["scopes"] = "Choose at least one scope"
    elif unknown := [s for s in chosen if not ApiScope.has_value(s)]:
        errors["scopes"] = f"Unknown scope(s): {', '.join(str(s)[:20] for s in unknown[:5])}"
    if errors:
        raise ValidationError(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=token[:PREFIX_SHOWN], token_hash=token_digest(token),
                 scopes=[ApiScope(s).value for s in chosen], created_by_id=admin.id, created_at=utcnow())
    db.session.add(key)
    db.session.flush()
    audit.record(AuditAction.API_KEY_CREATED, actor_id=admin.id,
                 detail={"key": str(key.id), "scopes": key.scopes})
    db.session.commit()
    return key, token


def all_keys() -> list[ApiKey]:
    """Every key, live ones first, newest first."""
    return list(db.session.scalars(
        sa.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
    ))


def revoke_key(admin: User, key_id: int) -> ApiKey:
    """Revoke a key: the next request with it is refused.

    Raises:
        NotFound: no such key.
        Conflict: it was already revoked.
    """
    key = db.session.get(ApiKey, key_id) if as_id(key_id) is not None else None
    if key is None:
        raise NotFound("No such API key")
    now = utcnow()
    revoked = db.session.execute(
        sa.update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=admin.id)
    )
    if not revoked.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        raise Conflict(f"The key {key.name!r} was already revoked")
    audit.record(AuditAction.API_KEY_REVOKED, actor_id=admin.id, detail={"key": str(key_id)})
    db.session.commit()
    db.session.refresh(key)
    return key


def authenticate(token: str, *, now: datetime | None = None) -> ApiKey | None:
    """The live key `token` names (None for an unknown or revoked key, or one whose admin was
    deactivated), its use recorded."""
    if not token or len(token) > 200:
        return None
    key = db.session.scalar(
        sa.select(ApiKey).join(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.token_hash == token_digest(token), ApiKey.revoked_at.is_(None),
               User.active.is_(True), User.role == Role.ADMIN)
    )
    if key is not None:
        _record_use(key, now or utcnow())
    return key


def _record_use(key: ApiKey, now: datetime) -> None:
    """At most one write a minute per key, whatever the request rate: a conditional UPDATE, so
    concurrent requests write it once between them."""
    if key.last_used_at is not None and key.last_used_at > now - USE_RECORDED_EVERY:
        return
    db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id,
               sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - USE_RECORDED_EVERY))
        .values(last_used_at=now)
    )
    db.session.commit()


def has_scope(key: ApiKey, scope: ApiScope) -> bool:
    return scope.value in key.scopes


def record_use(key: ApiKey, what: str, **detail: audit.DetailValue) -> None:
    """Name the key in the audit log for a change it makes, in the change's transaction."""
    audit.record(AuditAction.API_KEY_USED, actor_id=key.created_by_id,
                 detail={"key": str(key.id), "did": what, **detail})
