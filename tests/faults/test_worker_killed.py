"""A worker killed mid-batch: its rows come back once their lease lapses, nothing is lost, and
the only messages sent twice are those it had out at the provider (one per sending slot)."""

from __future__ import annotations

import signal
import time
from collections import Counter

from app.models.status import Status
from tests import factories
from tests.faults.servers import STARTUP_SECONDS, wait_for

PATIENTS = 24
SENDING_SLOTS = 3
LEASE_SECONDS = 2


def sending_count() -> int:
    return sum(n.status is Status.SENDING for n in factories.notifications())


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_what_it_had_in_flight(
    redis_server, start_worker, fake_twilio, practitioner
):
    fake_twilio.set_latency(1.0)  # a batch takes seconds: the kill lands in its middle even under load
    settings = fake_twilio.settings(PROVIDER_TIMEOUT_SECONDS=10, DELIVERY_BATCH_SIZE=12,
                                    DELIVERY_CONCURRENCY=SENDING_SLOTS, LEASE_SECONDS=LEASE_SECONDS,
                                    SWEEP_INTERVAL_SECONDS=1)
    victim = start_worker(**settings)
    wait_for(lambda: redis_server.client.scard("rq:workers") == 1, STARTUP_SECONDS, "the worker up")
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198766{i:05d}",
                                         preferred_channels=["sms"]) for i in range(PATIENTS)]
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])

    wait_for(lambda: len(fake_twilio.received) >= 4, 60, "the first batch under way")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = time.monotonic()
    assert sending_count() > 0  # it died holding rows
    start_worker(**settings)

    wait_for(lambda: all(n.status is Status.SENT for n in factories.notifications()), 90, "every notification sent")
    recovered_in = time.monotonic() - killed_at
    copies = Counter(message["to"] for message in fake_twilio.received)
    assert set(copies) == {p.phone for p in patients}  # none lost
    duplicates = sum(count - 1 for count in copies.values())
    assert duplicates <= SENDING_SLOTS, copies
    assert recovered_in < 60, recovered_in
