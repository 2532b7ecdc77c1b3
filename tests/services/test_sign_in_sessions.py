"""Old sign-ins are forgotten: ended or long-idle rows of login_sessions go after their retention."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import LoginSession
from app.services.sign_in_sessions import forget_old_sessions, start_session

RETENTION_DAYS = 30


@pytest.fixture
def sign_in_of(app, use_settings, patient):
    """A sign-in of the patient that ended (or was last seen) `days` ago."""
    use_settings(LOGIN_SESSION_RETENTION_DAYS=RETENTION_DAYS, STAFF_IDLE_TIMEOUT_MINUTES=30,
                 PATIENT_IDLE_TIMEOUT_MINUTES=1440)

    def make(*, ended_days_ago: float | None = None, seen_days_ago: float = 0) -> int:
        start_session(patient, client_address="203.0.113.9", user_agent="Phone")
        row = db.session.scalar(sa.select(LoginSession).order_by(LoginSession.id.desc()))
        row.last_seen_at = utcnow() - timedelta(days=seen_days_ago)
        if ended_days_ago is not None:
            row.ended_at, row.end_reason = utcnow() - timedelta(days=ended_days_ago), "signed out"
        db.session.commit()
        return row.id

    return make


def kept() -> set[int]:
    return set(db.session.scalars(sa.select(LoginSession.id)))


def test_a_sign_in_that_ended_past_the_retention_is_forgotten(sign_in_of):
    old, recent = sign_in_of(ended_days_ago=31), sign_in_of(ended_days_ago=29)
    assert forget_old_sessions() == 1
    assert kept() == {recent} and old not in kept()


def test_a_sign_in_idle_past_every_timeout_and_the_retention_is_forgotten(sign_in_of):
    expired = sign_in_of(seen_days_ago=RETENTION_DAYS + 1.1)  # a day's patient timeout, then the retention
    lingering = sign_in_of(seen_days_ago=RETENTION_DAYS + 0.9)
    assert forget_old_sessions() == 1
    assert kept() == {lingering} and expired not in kept()


def test_an_open_sign_in_is_kept(sign_in_of):
    open_now = sign_in_of()
    assert forget_old_sessions() == 0
    assert kept() == {open_now}
