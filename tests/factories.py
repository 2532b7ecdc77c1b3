"""Keyword-only factories for test rows. Passwords are hashed once, not per user.

Sends go through the real outbox, so their rows, first events and jobs are the product's own;
a notification wanted in a later status is then put there directly.
"""

from __future__ import annotations

import itertools
import time as time_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import pyotp
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.notification import Notification
from app.models.status import Status
from app.models.user import Device, User
from app.schemas import read
from app.schemas.send import SendRequest
from app.services import lease, outbox
from app.services.accounts import hash_password
from app.services.channel_choice import same_for_every_type
from app.vocabulary import Role

TEST_PASSWORD = "correct horse battery"
_HASH = hash_password(TEST_PASSWORD)
_sequence = itertools.count(1)


def create_user(
    *,
    role: Role,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    timezone: str = "Asia/Kolkata",
    locale: str = "en",
    practitioner: User | None = None,
    preferred_channels: Sequence[str] | None = ("in_app", "email"),
    quiet_hours: tuple[time, time] | None = None,
    active: bool = True,
    devices: int = 0,
) -> User:
    n = next(_sequence)
    user = User(
        role=role,
        name=name or f"{role.value.capitalize()} {n}",
        email=email if email is not None else f"{role.value}{n}@clinic.test",
        phone=phone,
        timezone=timezone,
        locale=locale,
        password_hash=_HASH,
        practitioner_id=practitioner.id if practitioner else None,
        channel_choices=same_for_every_type(preferred_channels),
        quiet_hours_start=quiet_hours[0] if quiet_hours else None,
        quiet_hours_end=quiet_hours[1] if quiet_hours else None,
        active=active,
    )
    db.session.add(user)
    db.session.flush()
    for i in range(devices):
        db.session.add(Device(user_id=user.id, token=f"device-{user.id}-{i}", kind="fcm"))
    db.session.commit()
    return user


def create_admin(**fields) -> User:
    return create_user(role=Role.ADMIN, **fields)


def create_practitioner(**fields) -> User:
    return create_user(role=Role.PRACTITIONER, **fields)


def create_patient(*, practitioner: User | None, **fields) -> User:
    return create_user(role=Role.PATIENT, practitioner=practitioner, **fields)


def create_patients(count: int, *, practitioner: User, **fields) -> list[User]:
    return [create_patient(practitioner=practitioner, **fields) for _ in range(count)]


@dataclass(frozen=True)
class Enrolment:
    secret: str
    recovery_codes: list[str]


def code_for(secret: str, *, seconds_from_now: float = 0) -> str:
    """The authenticator code an app holding `secret` shows at that moment."""
    return pyotp.TOTP(secret).at(time_module.time() + seconds_from_now)


def enrol_two_factor(user: User) -> Enrolment:
    """Turn two-factor sign-in on for `user` through the real service, confirmed with the
    previous step's code, so the code an app shows now is still unused."""
    from app.services import two_factor

    secret = two_factor.pending_secret(user)
    codes = two_factor.confirm_enrolment(user, code_for(secret, seconds_from_now=-30))
    return Enrolment(secret=secret, recovery_codes=codes)


def reload(user: User) -> User:
    """`user` as the database has it now."""
    db.session.refresh(user)
    return user


def create_send(
    *,
    sender: User | None,
    recipients: Sequence[User] = (),
    type: str = "treatment_update",
    channels: Sequence[str] | None = ("in_app",),
    title: str = "Rest well",
    body: str = "Rest well after your session.",
    now: datetime | None = None,
    status: Status | None = None,
    **fields: Any,
) -> outbox.SendResult:
    """A send through the real outbox: an in-app treatment update in free text unless told.

    `fields` are the rest of a send request (scheduled_at, priority, data, ...). With `status`,
    every notification of the send is then put in that status (the result still says what the
    outbox answered).
    """
    request = read(SendRequest, dict(
        type=type, recipient_ids=[r.id for r in recipients], channels=None if channels is None else list(channels),
        title=title, body=body, **fields,
    ))
    result = outbox.create_send(sender, request, now=now)
    if status is not None:
        put_in_status(notifications_of(result), status)
    return result


def create_notification(
    *, sender: User | None, recipient: User, channel: str = "in_app", status: Status | None = None, **fields: Any
) -> Notification:
    """One notification to `recipient` on `channel`; `status` and `fields` as for `create_send`."""
    [notification] = notifications_of(
        create_send(sender=sender, recipients=[recipient], channels=[channel], status=status, **fields)
    )
    return notification


# What the pipeline stamps on the way to each status.
_STAMPS = {
    Status.SENT: ("sent_at",),
    Status.DELIVERED: ("sent_at", "delivered_at"),
    Status.READ: ("sent_at", "delivered_at", "read_at"),
    Status.FAILED: ("failed_at",),
    Status.CANCELLED: ("cancelled_at",),
}


def put_in_status(rows: Sequence[Notification], status: Status) -> None:
    """Put `rows` in `status` as the pipeline would leave them, without the events on the way.

    Legal or not: tests use it to set up races (a report arriving while a row is `sending`).
    A `sending` row holds a claim's lease; a row past `sending` is granted to no job.
    """
    now = utcnow()
    values: dict[str, Any] = {"status": status, "updated_at": now, **{stamp: now for stamp in _STAMPS.get(status, ())}}
    if status is Status.SENDING:
        values.update(lease.claim_terms(None, now)[1])
    elif not status.is_pending:
        values.update(lease.granted_to(None))
    db.session.execute(sa.update(Notification).where(Notification.id.in_([r.id for r in rows])).values(values))
    db.session.commit()
    db.session.expire_all()


def notifications() -> list[Notification]:
    """Every notification, oldest first, as the database has it now."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).order_by(Notification.id)))


def notifications_of(result: outbox.SendResult) -> list[Notification]:
    """The notifications a send created, in the order of its result."""
    public_ids = [item.notification_id for item in result.items]
    by_public_id = {n.public_id: n for n in db.session.scalars(
        sa.select(Notification).where(Notification.public_id.in_(public_ids)))}
    return [by_public_id[p] for p in public_ids]


def create_api_key(*, admin: User, scopes: Sequence[str] = ("send", "read"), name: str = "Clinic records") -> str:
    """A key made through the real service, as the admin's page makes it; returns its token."""
    from app.services import api_keys

    _, token = api_keys.create_key(admin, name, scopes)
    return token
