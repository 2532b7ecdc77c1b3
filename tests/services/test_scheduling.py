"""Cancelling and rescheduling a message: every unclaimed channel, and an exact account of it."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.channels import dev_outbox
from app.extensions import db
from app.models import Notification, NotificationEvent
from app.models.notification import EventKind
from app.models.status import Status
from app.services.errors import NotFound
from app.services.scheduler import enqueue_due
from app.services.scheduling import (
    ChannelChange,
    cancel_message,
    cancel_notification,
    reschedule_message,
    reschedule_notification,
)
from app.vocabulary import Channel
from tests import factories
from tests.conftest import queued_job_ids

THREE = ["in_app", "sms", "email"]


def schedule(sender, patient, channels=THREE, hours: int = 1):
    return factories.create_send(sender=sender, recipients=[patient], type="appointment_reminder", channels=channels,
                                 title="Shirodhara tomorrow", body="Please arrive at 9:30.",
                                 scheduled_at=datetime.now(UTC) + timedelta(hours=hours))


def by_channel() -> dict[Channel, Notification]:
    db.session.expire_all()
    return {n.channel: n for n in db.session.scalars(sa.select(Notification))}


def test_cancelling_a_message_cancels_every_channel_and_none_is_sent(run_worker, redis, practitioner, patient):
    result = schedule(practitioner, patient)
    change = cancel_message(practitioner, result.group_id, patient.id)
    assert change.changed == (Channel.SMS, Channel.EMAIL, Channel.IN_APP) and change.untouched == ()
    run_worker(scheduled=True)
    assert {n.status for n in by_channel().values()} == {Status.CANCELLED}
    assert dev_outbox.recent(redis, Channel.SMS) == [] and dev_outbox.recent(redis, Channel.EMAIL) == []


def test_cancelling_a_message_leaves_what_already_went_and_says_so(run_worker, practitioner, patient):
    result = schedule(practitioner, patient)
    reschedule_notification(practitioner, by_channel()[Channel.IN_APP].public_id, datetime.now(UTC))
    run_worker()
    change = cancel_message(practitioner, result.group_id, patient.id)
    assert change.changed == (Channel.SMS, Channel.EMAIL)
    assert change.untouched == ((Channel.IN_APP, Status.DELIVERED),)
    assert change.sentence("Cancelled", too_late="Too late to cancel") == (
        "Cancelled SMS and email; in-app was already delivered.")
    assert by_channel()[Channel.IN_APP].status is Status.DELIVERED


def test_a_channel_a_worker_has_claimed_is_not_cancelled(practitioner, patient):
    result = schedule(practitioner, patient)
    factories.put_in_status([by_channel()[Channel.SMS]], Status.SENDING)
    change = cancel_message(practitioner, result.group_id, patient.id)
    assert change.untouched == ((Channel.SMS, Status.SENDING),)
    assert by_channel()[Channel.SMS].status is Status.SENDING
    assert by_channel()[Channel.EMAIL].status is Status.CANCELLED


def test_cancelling_only_one_channel_leaves_the_others(practitioner, patient):
    schedule(practitioner, patient)
    change = cancel_notification(practitioner, by_channel()[Channel.SMS].public_id)
    assert change.changed == (Channel.SMS,)
    assert {c: n.status for c, n in by_channel().items()} == {
        Channel.SMS: Status.CANCELLED, Channel.EMAIL: Status.SCHEDULED, Channel.IN_APP: Status.SCHEDULED}


def test_rescheduling_a_message_moves_every_unclaimed_channel_to_go_in_one_job(redis, practitioner, patient):
    result = schedule(practitioner, patient)
    factories.put_in_status([by_channel()[Channel.EMAIL]], Status.SENDING)
    later = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    change = reschedule_message(practitioner, result.group_id, patient.id, later)
    assert change.changed == (Channel.SMS, Channel.IN_APP) and change.run_at == later
    rows = by_channel()
    assert rows[Channel.SMS].next_attempt_at == later == rows[Channel.IN_APP].next_attempt_at
    assert rows[Channel.EMAIL].status is Status.SENDING
    assert enqueue_due(now=later) == 2
    rows = by_channel()
    assert queued_job_ids(redis)["default"] == [rows[Channel.SMS].job_id] == [rows[Channel.IN_APP].job_id]


def test_the_reschedule_event_keeps_the_new_time_as_data(practitioner, patient):
    result = schedule(practitioner, patient, channels=["sms"])
    later = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    reschedule_notification(practitioner, by_channel()[Channel.SMS].public_id, later)
    first, last = db.session.scalars(sa.select(NotificationEvent).order_by(NotificationEvent.id)).all()
    assert (first.kind, first.scheduled_for) == (EventKind.SCHEDULED, result.scheduled_at)
    assert (last.kind, last.scheduled_for) == (EventKind.RESCHEDULED, later)
    assert last.detail == "rescheduled by Dr. Vaidya Ramesh"


def test_a_message_someone_may_not_see_is_not_found(practitioner, other_practitioner, patient):
    result = schedule(practitioner, patient)
    with pytest.raises(NotFound):
        cancel_message(other_practitioner, result.group_id, patient.id)
    with pytest.raises(NotFound):
        cancel_message(practitioner, result.group_id, factories.create_patient(practitioner=practitioner).id)
    assert {n.status for n in by_channel().values()} == {Status.SCHEDULED}


@pytest.mark.parametrize("change,sentence", [
    (ChannelChange((Channel.SMS, Channel.EMAIL, Channel.IN_APP), ()), "Cancelled SMS, email and in-app."),
    (ChannelChange((Channel.SMS,), ((Channel.EMAIL, Status.SENT), (Channel.IN_APP, Status.DELIVERED))),
     "Cancelled SMS; email was already sent and in-app was already delivered."),
    (ChannelChange((), ((Channel.SMS, Status.SENDING),)), "Too late to cancel: SMS is being sent now."),
    (ChannelChange((), ((Channel.SMS, Status.READ), (Channel.EMAIL, Status.READ))),
     "Too late to cancel: SMS and email were already read."),
    (ChannelChange((Channel.EMAIL,), ((Channel.PUSH, Status.SUPPRESSED),)), "Cancelled email; push was skipped."),
])
def test_the_sentence_names_what_was_cancelled_and_what_had_gone(change, sentence):
    assert change.sentence("Cancelled", too_late="Too late to cancel") == sentence


def test_a_reschedule_sentence_says_when():
    change = ChannelChange((Channel.SMS,), ((Channel.IN_APP, Status.FAILED),))
    assert change.sentence("Rescheduled", too_late="Too late", when=" for Tue 2 Dec, 07:00") == (
        "Rescheduled SMS for Tue 2 Dec, 07:00; in-app had already failed.")
