"""Every status write is in app/services/transitions.py, checked while it runs and in the source."""

from __future__ import annotations

import ast
import re
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, User
from app.models.status import Status
from app.services.inbox import mark_all_read, mark_read
from app.services.provider_events import apply_twilio_status
from app.services.scheduling import cancel_notification, reschedule_notification
from app.services.sweeper import sweep
from app.services.transitions import claim
from app.vocabulary import Channel
from tests import factories

APP = Path(__file__).resolve().parents[2] / "app"
THE_WRITER = "app/services/transitions.py"
UPDATE_SET = re.compile(r"^\s*UPDATE\s+\"?notifications\"?\s+SET\s+(?P<set>.*?)\s+WHERE\b", re.I | re.S)
OWN_STATUSES = ("appointment", "plan", "course")  # records whose `status` is not a notification's
SETS_STATUS = re.compile(r"(^|,)\s*\"?status\"?\s*=")


def _issuing_module() -> str:
    """The app module whose code led to the statement being executed (the nearest frame)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("app."):
            return name
        frame = frame.f_back
    return "<not the app>"


@pytest.fixture
def status_updates(app):
    """(module, statement) for every UPDATE of notifications.status the app executes."""
    seen: list[tuple[str, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        match = UPDATE_SET.match(statement)
        if match and SETS_STATUS.search(match["set"]):
            seen.append((_issuing_module(), statement))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


def public_id(result) -> str:
    return result.items[0].notification_id


def test_only_transitions_updates_a_status_while_the_whole_pipeline_runs(
    status_updates, run_worker, redis, fake_twilio, use_fake, practitioner
):
    use_fake(fake_twilio)
    everything = {"practitioner": practitioner, "preferred_channels": ["in_app", "sms", "email"]}
    patient = factories.create_patient(phone="+919800000071", **everything)
    other_patient = factories.create_patient(phone="+919800000072", **everything)
    sleeper = factories.create_patient(phone="+919800000073", quiet_hours=(time(0, 0), time(23, 59)), **everything)
    fake_twilio.fail_for(other_patient.phone, "server_error", times=1)
    factories.create_send(sender=practitioner, recipients=[patient, other_patient, sleeper],
                          channels=["sms", "in_app"])  # sent, retried, deferred, delivered
    factories.create_send(sender=practitioner, recipients=[other_patient], channels=["email"])
    db.session.execute(sa.update(User).where(User.id == other_patient.id).values(email_opted_out_at=datetime.now(UTC)))
    db.session.commit()  # opted out after the send: suppressed at delivery
    run_worker()
    run_worker(scheduled=True)  # the retry (and the deferred SMS, as if quiet hours had ended)
    sid = db.session.scalars(sa.select(Notification.provider_message_id).where(
        Notification.user_id == patient.id, Notification.provider == "twilio")).one()
    apply_twilio_status(sid, "delivered")
    mark_read(patient, db.session.scalars(sa.select(Notification.public_id).where(
        Notification.user_id == patient.id, Notification.channel == Channel.IN_APP)).one())
    mark_all_read(other_patient)
    later = datetime.now(UTC) + timedelta(hours=1)
    cancel_notification(practitioner, public_id(factories.create_send(sender=practitioner, recipients=[patient],
                                                                      channels=["sms"], scheduled_at=later)))
    reschedule_notification(practitioner, public_id(factories.create_send(sender=practitioner, recipients=[patient],
                                                                          channels=["sms"], scheduled_at=later)),
                            later + timedelta(hours=1))
    lost = public_id(factories.create_send(sender=practitioner, recipients=[other_patient], channels=["in_app"]))
    redis.flushdb()
    sweep(now=datetime.now(UTC) + timedelta(minutes=5))  # requeues what Redis lost
    row = db.session.scalars(sa.select(Notification).where(Notification.public_id == lost)).one()
    claim([row.id], row.job_id, now=datetime.now(UTC))  # ... and then a worker dies holding it
    db.session.commit()
    sweep(now=datetime.now(UTC) + timedelta(days=1))  # recovers it
    run_worker()

    statuses = set(db.session.scalars(sa.select(Notification.status)))
    assert statuses == {Status.SENT, Status.DELIVERED, Status.READ, Status.SCHEDULED, Status.CANCELLED,
                        Status.SUPPRESSED}, "the run did not go through every kind of status change"
    assert {module for module, _ in status_updates} == {"app.services.transitions"}, status_updates


def writes_outside_transitions(source: str) -> list[str]:
    """Lines of `source` that update notifications or set a status some other way."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "update" and node.args and "Notification" in ast.unparse(node.args[0]):
                found.append(f"{node.lineno}: an UPDATE of notifications")
            if name == "values" and (
                any(k.arg == "status" for k in node.keywords)
                or any(isinstance(a, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "status"
                                                       for k in a.keys) for a in node.args)
            ):
                found.append(f"{node.lineno}: .values(status=...)")
        elif isinstance(node, ast.Attribute) and node.attr == "__table__" and ast.unparse(node.value) == "Notification":
            found.append(f"{node.lineno}: Notification.__table__ (a Core statement on notifications)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            # An appointment's, a treatment plan's and a medication course's status are their own
            # (app/services/appointments.py, treatment_plans.py, medication.py), not a notification's.
            found.extend(f"{node.lineno}: .status assigned" for t in targets
                         if isinstance(t, ast.Attribute) and t.attr == "status"
                         and not any(own in ast.unparse(t.value) for own in OWN_STATUSES))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(
            r"\bUPDATE\s+\"?notifications\b", node.value, re.I
        ):
            found.append(f"{node.lineno}: SQL text updating notifications")
    return found


def test_no_module_but_transitions_writes_a_status():
    offenders = {}
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP.parent).as_posix()
        if relative != THE_WRITER:
            found = writes_outside_transitions(path.read_text())
            if found:
                offenders[relative] = found
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "sa.update(Notification).where(Notification.id == 1).values(job_id=None)",
        "table = Notification.__table__",
        "stmt = update(Notification.__table__)",
        "db.session.execute(sa.update(Other).values(status=Status.SENT))",
        "db.session.execute(sa.update(Other).values({'status': 'sent'}))",
        "item.status = Status.SENT",
        "db.session.execute(sa.text('update notifications set status = :s'))",
    ],
)
def test_the_source_check_catches_each_way_of_writing_a_status(source):
    assert writes_outside_transitions(source)


def test_the_source_check_leaves_other_tables_alone():
    assert writes_outside_transitions("sa.update(Device).values(invalidated_at=now); row.update(b=1)") == []
