"""Workers ride out a Redis restart: no process exits, every SMS of a send in progress ends
sent once, and each worker says Redis was gone rather than repeating it every retry."""

from __future__ import annotations

import time
from collections import Counter

from app.models.status import Status
from tests import factories
from tests.faults.servers import STARTUP_SECONDS, wait_for

PATIENTS = 30
SENDING_SLOTS = 2
SWEEP_SETTINGS = {"SWEEP_INTERVAL_SECONDS": 1, "SWEEP_GRACE_SECONDS": 2}


def final_count() -> int:
    return sum(n.status in (Status.SENT, Status.FAILED) for n in factories.notifications())


def test_workers_carry_on_after_redis_restarts_mid_send(
    redis_server, start_worker, fake_twilio, practitioner, tmp_path
):
    fake_twilio.set_latency(0.1)
    settings = fake_twilio.settings(PROVIDER_TIMEOUT_SECONDS=10, DELIVERY_BATCH_SIZE=5,
                                    DELIVERY_CONCURRENCY=SENDING_SLOTS, **SWEEP_SETTINGS)
    workers = [start_worker(**settings), start_worker(**settings)]
    wait_for(lambda: redis_server.client.scard("rq:workers") == 2, STARTUP_SECONDS, "both workers up")
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198765{i:05d}",
                                         preferred_channels=["sms"]) for i in range(PATIENTS)]
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])

    wait_for(lambda: len(fake_twilio.received) >= 5, 60, "the send under way")
    redis_server.stop()
    time.sleep(3)  # down long enough for every worker to notice
    redis_server.start()

    wait_for(lambda: final_count() == PATIENTS, 90, "every notification final")
    assert all(worker.poll() is None for worker in workers), "a worker exited"
    assert {n.status for n in factories.notifications()} == {Status.SENT}
    copies = Counter(message["to"] for message in fake_twilio.received)
    assert set(copies) == {p.phone for p in patients}  # none lost
    assert max(copies.values()) == 1  # Redis carries jobs only: its loss sends nothing twice
    wait_for(lambda: redis_server.client.scard("rq:workers") == 2, 30, "both workers registered again")
    for log in tmp_path.glob("worker-*.log"):
        text = log.read_text()
        assert "Traceback" not in text and "could not connect to Redis" not in text, text
        assert text.count("Redis unavailable") <= 2, text  # the worker and its scheduler, once each
        assert text.count("Redis is back") <= 2, text
