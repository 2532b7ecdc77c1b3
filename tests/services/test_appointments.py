"""Appointments: booking confirms and plans reminders; moving and cancelling keep them right."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.appointment import Appointment
from app.models.status import Status
from app.models.user import User
from app.services import appointments
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.scheduler import enqueue_due
from app.vocabulary import AppointmentStatus, NotificationType
from tests import factories

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 11:30 in the clinic (Asia/Kolkata)
R = NotificationType.APPOINTMENT_REMINDER


@pytest.fixture(autouse=True)
def _templates(templates):
    """Every appointment notification is written from the clinic's templates."""


def book(actor, patient, *, starts_in=timedelta(days=3), now=NOW, **fields):
    raw = {"patient_id": patient.id, "starts_at": (now + starts_in).isoformat(), "treatment": "Abhyanga", **fields}
    return appointments.book(actor, raw, now=now)


def of_type(appointment, type_, *statuses):
    return [n for n in appointments.notifications_of(appointment)
            if n.type is type_ and (not statuses or n.status in statuses)]


def reminder_times(appointment):
    """When each pending reminder goes (one per channel: a set of times)."""
    return sorted({n.scheduled_at for n in of_type(appointment, R, Status.SCHEDULED)})


def test_booking_confirms_at_once_on_the_patients_channels(practitioner, patient):
    appointment = book(practitioner, patient)
    confirmations = of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)
    assert {n.channel.value for n in confirmations} == {"in_app", "email", "sms", "push"}
    assert {n.status for n in confirmations} == {Status.QUEUED}


def test_booking_plans_a_reminder_24_and_2_hours_before(practitioner, patient):
    appointment = book(practitioner, patient)
    assert reminder_times(appointment) == [appointment.starts_at - timedelta(hours=24),
                                           appointment.starts_at - timedelta(hours=2)]


def test_booking_an_hour_ahead_makes_no_reminder_whose_time_has_passed(practitioner, patient):
    appointment = book(practitioner, patient, starts_in=timedelta(hours=1))
    assert reminder_times(appointment) == []
    assert of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)


def test_booking_five_hours_ahead_makes_only_the_2_hour_reminder(practitioner, patient):
    appointment = book(practitioner, patient, starts_in=timedelta(hours=5))
    assert reminder_times(appointment) == [appointment.starts_at - timedelta(hours=2)]


def test_the_reminder_hours_are_the_clinics_setting(app, practitioner, patient):
    app.config["APPOINTMENT_REMINDER_HOURS"] = (48.0,)
    appointment = book(practitioner, patient)
    assert reminder_times(appointment) == [appointment.starts_at - timedelta(hours=48)]


def test_the_message_states_the_time_in_the_patients_zone_without_naming_the_clinics(practitioner, patient):
    appointment = book(practitioner, patient, starts_in=timedelta(days=5))  # Mon 7 Dec, 11:30 IST
    [in_app] = of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)[:1]
    assert "Mon 7 Dec, 11:30" in in_app.message and "(" not in in_app.data["when"]


def test_a_patient_abroad_reads_their_own_time_with_its_zone(practitioner):
    abroad = factories.create_patient(practitioner=practitioner, timezone="America/New_York")
    appointment = book(practitioner, abroad, starts_in=timedelta(days=5))
    [confirmation, *_] = of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)
    assert confirmation.data["when"] == "Mon 7 Dec, 01:00 (Eastern Standard Time)"


def test_a_hindi_speaking_patient_reads_the_time_in_hindi(practitioner):
    hindi = factories.create_patient(practitioner=practitioner, locale="hi")
    appointment = book(practitioner, hindi, starts_in=timedelta(days=5))
    [confirmation, *_] = of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)
    assert confirmation.data["when"].startswith("सोम 7 दिस॰")
    assert confirmation.title == "अपॉइंटमेंट की पुष्टि"


def test_rescheduling_replaces_the_pending_reminders_and_tells_the_patient_once(practitioner, patient):
    appointment = book(practitioner, patient)
    later = appointment.starts_at + timedelta(days=2)
    change = appointments.reschedule(practitioner, appointment.public_id, later.isoformat(), now=NOW)
    assert change.reminders_cancelled == 2 * 4  # two reminders on four channels
    assert reminder_times(appointment) == [later - timedelta(hours=24), later - timedelta(hours=2)]
    confirmations = {n.group_id for n in of_type(appointment, NotificationType.APPOINTMENT_CONFIRMATION)}
    assert len(confirmations) == 2  # the booking's, and the one notice of the move
    assert appointment.status is AppointmentStatus.RESCHEDULED


def test_two_reschedules_in_quick_succession_leave_exactly_one_set_of_reminders(practitioner, patient):
    appointment = book(practitioner, patient)
    for days in (4, 5):
        appointments.reschedule(practitioner, appointment.public_id, (NOW + timedelta(days=days)).isoformat(), now=NOW)
    final = NOW + timedelta(days=5)
    assert reminder_times(appointment) == [final - timedelta(hours=24), final - timedelta(hours=2)]
    assert len(of_type(appointment, R, Status.SCHEDULED)) == 2 * 4


def test_cancelling_cancels_the_reminders_and_sends_a_notice(practitioner, patient):
    appointment = book(practitioner, patient)
    change = appointments.cancel(practitioner, appointment.public_id, now=NOW)
    assert change.reminders_cancelled == 8
    assert of_type(appointment, R, Status.SCHEDULED) == []
    notices = of_type(appointment, NotificationType.APPOINTMENT_CANCELLATION)
    assert notices and all("cancelled" in n.title.lower() for n in notices)
    assert appointment.status is AppointmentStatus.CANCELLED


def test_a_reminder_whose_job_is_already_on_redis_never_goes_out_once_the_appointment_is_cancelled(
        app, practitioner, patient, run_worker):
    appointment = book(practitioner, patient, starts_in=timedelta(hours=3))
    enqueue_due(now=appointment.starts_at - timedelta(hours=2))  # the 2 h reminder's jobs are on Redis
    assert any(n.job_id for n in of_type(appointment, R))
    appointments.cancel(practitioner, appointment.public_id, now=NOW)
    run_worker()
    db.session.expire_all()
    assert {n.status for n in of_type(appointment, R)} == {Status.CANCELLED}


def test_a_reminder_a_worker_claimed_first_is_reported_as_already_on_its_way(practitioner, patient):
    appointment = book(practitioner, patient, starts_in=timedelta(hours=3))
    [claimed, *_] = of_type(appointment, R)
    db.session.execute(sa.update(type(claimed)).where(type(claimed).id == claimed.id).values(status=Status.SENDING))
    db.session.commit()
    change = appointments.cancel(practitioner, appointment.public_id, now=NOW)
    assert (change.reminders_cancelled, change.reminders_already_sent) == (3, 1)


def test_a_cancelled_appointment_cannot_be_moved(practitioner, patient):
    appointment = book(practitioner, patient)
    appointments.cancel(practitioner, appointment.public_id, now=NOW)
    with pytest.raises(Conflict):
        appointments.reschedule(practitioner, appointment.public_id, (NOW + timedelta(days=9)).isoformat(), now=NOW)


def test_a_practitioner_cannot_book_for_another_practitioners_patient(other_practitioner, patient):
    with pytest.raises(NotFound):
        book(other_practitioner, patient)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_a_practitioner_cannot_see_or_change_another_practitioners_appointment(practitioner, other_practitioner,
                                                                                patient):
    appointment = book(practitioner, patient)
    with pytest.raises(NotFound):
        appointments.cancel(other_practitioner, appointment.public_id, now=NOW)


def test_an_admin_books_in_the_name_of_the_patients_practitioner(admin, practitioner, patient):
    assert book(admin, patient).practitioner_id == practitioner.id


@pytest.mark.parametrize(("fields", "field"), [
    ({"starts_at": "2026-12-01T10:00:00+05:30"}, "starts_at"),  # has passed
    ({"starts_at": "2028-01-01T10:00:00+05:30"}, "starts_at"),  # over a year ahead
    ({"starts_at": "tomorrow at ten"}, "starts_at"),
    ({"starts_at": ""}, "starts_at"),
    ({"treatment": ""}, "treatment"),
    ({"treatment": "Abhyanga\x00"}, "treatment"),
    ({"duration_minutes": "0"}, "duration_minutes"),
    ({"duration_minutes": "forever"}, "duration_minutes"),
    ({"patient_id": "Priya"}, "patient_id"),
    ({"notes": "x" * 2001}, "notes"),
])
def test_a_bad_booking_is_refused_by_field_and_writes_nothing(practitioner, patient, fields, field):
    raw = {"patient_id": patient.id, "starts_at": (NOW + timedelta(days=2)).isoformat(), "treatment": "Abhyanga",
           **fields}
    with pytest.raises(ValidationError) as caught:
        appointments.book(practitioner, raw, now=NOW)
    assert field in caught.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_the_outcome_is_recorded_once_the_appointment_has_started(practitioner, patient):
    appointment = book(practitioner, patient, starts_in=timedelta(hours=3))
    with pytest.raises(Conflict):
        appointments.record_outcome(practitioner, appointment.public_id, AppointmentStatus.COMPLETED, now=NOW)
    change = appointments.record_outcome(practitioner, appointment.public_id, AppointmentStatus.NO_SHOW,
                                         now=NOW + timedelta(hours=4))
    assert change.appointment.status is AppointmentStatus.NO_SHOW


def test_a_day_lists_the_practitioners_own_appointments_in_time_order(practitioner, other_practitioner, patient):
    late = book(practitioner, patient, starts_in=timedelta(days=1, hours=5))
    early = book(practitioner, patient, starts_in=timedelta(days=1, hours=1))
    assert appointments.day_of(practitioner, (NOW + timedelta(days=1)).date(), practitioner.zone) == [early, late]
    assert appointments.day_of(other_practitioner, (NOW + timedelta(days=1)).date(), practitioner.zone) == []


def test_two_reschedules_at_the_same_moment_leave_exactly_one_set_of_reminders(app, practitioner, patient):
    appointment = book(practitioner, patient)
    public_id, practitioner_id = appointment.public_id, practitioner.id
    ready = threading.Barrier(2)
    failures: list[BaseException] = []

    def move(days: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, practitioner_id)
                ready.wait(timeout=10)
                appointments.reschedule(actor, public_id, (NOW + timedelta(days=days)).isoformat(), now=NOW)
            except BaseException as exc:
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=move, args=(days,)) for days in (4, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    db.session.expire_all()
    final = db.session.get(Appointment, appointment.id).starts_at
    assert reminder_times(appointment) == [final - timedelta(hours=24), final - timedelta(hours=2)]
    assert len(of_type(appointment, R, Status.SCHEDULED)) == 2 * 4
