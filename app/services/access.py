"""The one query helper for what a user may see; views and the socket relay all use it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.models.notification import Notification, NotificationGroup
from app.models.status import UNREAD_INBOX, Status
from app.models.user import User
from app.services.errors import NotFound
from app.services.input_rules import as_id
from app.vocabulary import Channel, Role

IN_INBOX = UNREAD_INBOX | {Status.READ}  # a scheduled in-app item is not in the inbox yet


def visible_notifications(user: User) -> sa.Select:
    """Notifications `user` may see: a patient the in-app items that have reached them, a
    practitioner those of their patients and those they sent, an admin all."""
    stmt = sa.select(Notification)
    if user.role is Role.ADMIN:
        return stmt
    if user.role is Role.PRACTITIONER:
        return stmt.where(
            sa.or_(Notification.sender_id == user.id, Notification.user_id.in_(_own_patient_ids(user)))
        )
    return stmt.where(
        Notification.user_id == user.id,
        Notification.channel == Channel.IN_APP,
        Notification.status.in_(IN_INBOX),
    )


def visible_notification(user: User, public_id: str) -> Notification:
    """One notification `user` may see; NotFound (never 403) hides whether it exists."""
    item = db.session.scalar(visible_notifications(user).where(Notification.public_id == public_id))
    if item is None:
        raise NotFound("No such notification")
    return item


def visible_message(user: User, send_id: str, patient_id: int) -> list[Notification]:
    """Every channel of one message (what send `send_id` said to one patient) `user` may see;
    NotFound when there is none."""
    if as_id(patient_id) is None:  # beyond any row (and beyond what PostgreSQL compares with)
        raise NotFound("No such message")
    items = list(
        db.session.scalars(
            visible_notifications(user)
            .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
            .where(NotificationGroup.public_id == send_id, Notification.user_id == patient_id)
            .order_by(Notification.id)
        )
    )
    if not items:
        raise NotFound("No such message")
    return items


def visible_patient(user: User, patient_id: int) -> User:
    """One patient `user` may act for; NotFound (never 403) hides whether they exist."""
    patient = db.session.scalar(visible_patients(user).where(User.id == patient_id))
    if patient is None:
        raise NotFound("No such patient")
    return patient


def of_visible_patient(user: User, patient_id: InstrumentedAttribute[int]) -> sa.ColumnElement[bool]:
    """Whether a clinic record of the patient `patient_id` (a medication course, a treatment plan)
    is `user`'s to see: a practitioner's own patients', every one for an admin, none for a patient."""
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.PRACTITIONER:
        return patient_id.in_(_own_patient_ids(user))
    return sa.false()


def _own_patient_ids(practitioner: User) -> sa.Select:
    return sa.select(User.id).where(User.practitioner_id == practitioner.id)


def visible_patients(user: User) -> sa.Select:
    stmt = sa.select(User).where(User.role == Role.PATIENT)
    if user.role is Role.ADMIN:
        return stmt
    if user.role is Role.PRACTITIONER:
        return stmt.where(User.practitioner_id == user.id)
    return stmt.where(sa.false())
