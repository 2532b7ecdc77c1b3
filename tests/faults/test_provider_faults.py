"""Providers answering errors, rate limits and nothing at all, on both channels: real worker
processes make every notification final within the retry policy's own window, lose none, and
send one twice only after an attempt that timed out once its request had gone (ambiguous)."""

from __future__ import annotations

import time
from collections import Counter

import sqlalchemy as sa

from app.extensions import db
from app.models import NotificationEvent
from app.models.status import Status
from app.vocabulary import Channel
from tests import factories
from tests.faults.servers import STARTUP_SECONDS, wait_for

PATIENTS = 15  # an SMS and an email each
TIMEOUT = 0.5
RETRY_BASE, RETRY_MAX, MAX_ATTEMPTS, RETRY_AFTER = 0.5, 2.0, 5, 1
# Drawn for every request, as bench/chaos.py does at scale: 30% HTTP 500, 10% 429, and 5% timeouts,
# half of them accepted by the provider before it answered too late.
MIX = {
    "server_error": (0.30, {}),
    "rate_limited": (0.10, {"retry_after": RETRY_AFTER}),
    "timeout": (0.025, {"hold": 3}),
    "slow": (0.025, {"delay": TIMEOUT + 0.5}),
}
# Per attempt, on top of the policy's waits: the scheduler's tick and a job's pickup, with room for
# a loaded two-core runner.
PICKUP_SECONDS = 4.0


def policy_window() -> float:
    """The longest the policy lets a notification take: every wait at its ceiling (or the
    Retry-After), every attempt a timeout."""
    waits = sum(max(min(RETRY_MAX, RETRY_BASE * 2 ** (n - 1)), RETRY_AFTER) for n in range(1, MAX_ATTEMPTS))
    return waits + MAX_ATTEMPTS * (TIMEOUT + PICKUP_SECONDS)


def pending() -> int:
    return sum(not n.status.is_final for n in factories.notifications())


def test_every_notification_ends_final_within_the_retry_window_and_only_ambiguous_attempts_repeat(
    app, redis_server, start_worker, fake_twilio, fake_sendgrid, practitioner
):
    settings = {**fake_twilio.settings(), **fake_sendgrid.settings(), "PROVIDER_TIMEOUT_SECONDS": TIMEOUT,
                "RETRY_BASE_SECONDS": RETRY_BASE, "RETRY_MAX_SECONDS": RETRY_MAX, "DELIVERY_BATCH_SIZE": 5,
                "DELIVERY_CONCURRENCY": 3}
    start_worker(**settings), start_worker(**settings)
    wait_for(lambda: redis_server.client.scard("rq:workers") == 2, STARTUP_SECONDS, "both workers up")
    for seed, fake in enumerate((fake_twilio, fake_sendgrid)):
        fake.fail_randomly(MIX, seed=seed)
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198768{i:05d}",
                                         email=f"faults{i}@clinic.test", preferred_channels=["sms", "email"])
                for i in range(PATIENTS)]
    started = time.monotonic()
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms", "email"])

    wait_for(lambda: pending() == 0, 3 * policy_window(), "every notification final")
    took = time.monotonic() - started
    rows = factories.notifications()
    assert took < policy_window(), f"{took:.1f} s, beyond the policy's {policy_window():.1f} s"
    copies = Counter(m["to"] for m in fake_twilio.received) + Counter(m["to"] for m in fake_sendgrid.received)
    for row in rows:
        address = row.recipient.phone if row.channel is Channel.SMS else row.recipient.email
        if row.status is Status.SENT:
            assert copies[address] >= 1, "taken for sent, yet the provider has nothing"  # none lost
        else:
            assert (row.status, row.attempts) == (Status.FAILED, MAX_ATTEMPTS), "given up before the policy did"
    ambiguous = db.session.scalar(sa.select(sa.func.count()).where(NotificationEvent.ambiguous.is_(True)))
    assert sum(count - 1 for count in copies.values()) <= ambiguous, copies
