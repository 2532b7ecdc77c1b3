"""The web process killed between committing a send and putting its jobs on Redis: the rows are
committed, granted to jobs Redis never got; the sweeper gives them new ones within seconds, and
each patient gets the message once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

from app.models.status import Status
from tests import factories
from tests.conftest import child_environment
from tests.faults.servers import ROOT, STARTUP_SECONDS, wait_for

PATIENTS = 12
GRACE_SECONDS = 2
# The README's bound for work whose job vanished, with the default sweep interval (10 s).
RECOVERY_SECONDS = 30
# A send as the compose page makes it, in a process that dies (SIGKILL) the moment its rows are
# committed, before a single job reaches Redis.
SEND_THEN_DIE = """
import os, signal, sys
from app import create_app
from app.extensions import db
from app.models.user import User
from app.schemas import read
from app.schemas.send import SendRequest
from app.services import outbox

outbox.enqueue_jobs = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
app = create_app()
with app.app_context():
    request = read(SendRequest, {"type": "treatment_update", "recipient_ids": [int(i) for i in sys.argv[2:]],
                                 "channels": ["sms"], "title": "Rest well", "body": "Rest well after your session."})
    outbox.create_send(db.session.get(User, int(sys.argv[1])), request)
"""


def test_a_send_whose_web_process_died_before_enqueueing_is_sent_once_by_the_sweeper(
    app, redis_server, start_worker, fake_twilio, practitioner
):
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198769{i:05d}",
                                         preferred_channels=["sms"]) for i in range(PATIENTS)]
    env = {**child_environment(app.config), "REDIS_URL": redis_server.url}
    web = subprocess.run([sys.executable, "-c", SEND_THEN_DIE, str(practitioner.id), *(str(p.id) for p in patients)],
                         cwd=ROOT, env=env, capture_output=True, timeout=STARTUP_SECONDS)
    assert web.returncode == -9, web.stderr.decode()
    rows = factories.notifications()
    assert len(rows) == PATIENTS and {row.status for row in rows} == {Status.QUEUED}  # committed
    assert redis_server.client.keys("rq:job:*") == []  # and never enqueued

    start_worker(**fake_twilio.settings(PROVIDER_TIMEOUT_SECONDS=10, SWEEP_GRACE_SECONDS=GRACE_SECONDS))
    wait_for(lambda: redis_server.client.scard("rq:workers") == 1, STARTUP_SECONDS, "the worker up")
    up_at = time.monotonic()
    wait_for(lambda: all(n.status is Status.SENT for n in factories.notifications()), RECOVERY_SECONDS,
             "every notification sent")

    copies = Counter(message["to"] for message in fake_twilio.received)
    assert copies == Counter({patient.phone: 1 for patient in patients})  # none lost, none twice
    assert time.monotonic() - up_at < RECOVERY_SECONDS
