"""Medication courses: reminders written a window ahead, right across clock changes, replaced or
withdrawn by a change, and the doses the patient says they took."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.medication import MedicationCourse, MedicationDose
from app.models.notification import Notification
from app.models.status import Status
from app.services import medication
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.scheduler import enqueue_due
from app.vocabulary import Channel, MedicationCourseStatus, Priority
from tests import factories

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata
# 20:00 and 08:00 in Kolkata (UTC+05:30), from the evening of 2 December on.
DEC_2_EVENING = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
DEC_3_MORNING = datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
DEC_3_EVENING = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
DEC_4_MORNING = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _templates(templates):
    """Every reminder is written from the clinic's templates."""


@pytest.fixture
def patient(practitioner):
    """A patient who never chose how to get medication reminders: the clinic's default (push),
    and the inbox."""
    return factories.create_patient(name="Priya Sharma", email="priya@clinic.test", phone="+919876543210",
                                    practitioner=practitioner, preferred_channels=None, devices=1)


def prescribe(actor, patient, *, now=NOW, **fields):
    raw = {"patient_id": patient.id, "medicine": "Triphala churna", "dosage": "1 teaspoon",
           "times_of_day": ["08:00", "20:00"], "start_date": "2026-12-02", "end_date": "2026-12-31", **fields}
    return medication.prescribe(actor, raw, now=now)


def details(course, **fields):
    return {"medicine": course.medicine, "dosage": course.dosage, "times_of_day": course.times_of_day,
            "start_date": course.start_date, "end_date": course.end_date, **fields}


def live_doses(course):
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(MedicationDose.due_at).where(
        MedicationDose.course_id == course.id, MedicationDose.cancelled_at.is_(None))))


def reminders(course, *statuses):
    db.session.expire_all()
    return [n for n in medication.notifications_of(course) if not statuses or n.status in statuses]


# --- the window -------------------------------------------------------------------------------


def test_prescribing_writes_the_reminders_of_the_next_48_hours_only(practitioner, patient):
    course = prescribe(practitioner, patient)
    assert live_doses(course) == [DEC_2_EVENING, DEC_3_MORNING, DEC_3_EVENING, DEC_4_MORNING]
    assert course.reminders_through == NOW + timedelta(hours=48)


def test_each_dose_is_reminded_by_push_and_in_app_by_default_on_the_high_queue(practitioner, patient):
    course = prescribe(practitioner, patient)
    rows = reminders(course)
    assert len(rows) == 4 * 2
    assert {n.channel for n in rows} == {Channel.IN_APP, Channel.PUSH}
    assert {(n.status, n.priority) for n in rows} == {(Status.SCHEDULED, Priority.HIGH)}
    assert "Triphala churna (1 teaspoon)" in next(n for n in rows if n.channel is Channel.IN_APP).message


def test_reminders_follow_the_patients_own_choice_for_medication_reminders(practitioner):
    by_sms = factories.create_patient(practitioner=practitioner, phone="+919812345678", preferred_channels=["sms"])
    course = prescribe(practitioner, by_sms)
    assert {(n.channel, n.status) for n in reminders(course)} == {(Channel.IN_APP, Status.SCHEDULED),
                                                                   (Channel.SMS, Status.SCHEDULED)}


def test_the_window_is_a_setting(app, practitioner, patient):
    app.config["MEDICATION_REMINDER_WINDOW_HOURS"] = 24
    assert live_doses(prescribe(practitioner, patient)) == [DEC_2_EVENING, DEC_3_MORNING]


def test_topping_up_again_writes_no_duplicate(practitioner, patient):
    course = prescribe(practitioner, patient)
    assert medication.top_up_reminders(now=NOW + timedelta(hours=2)) == 0
    assert medication.top_up_reminders(now=NOW + timedelta(hours=2)) == 0
    assert live_doses(course) == [DEC_2_EVENING, DEC_3_MORNING, DEC_3_EVENING, DEC_4_MORNING]
    assert len(reminders(course)) == 4 * 2


def test_a_course_whose_window_is_still_full_is_not_touched(practitioner, patient):
    course = prescribe(practitioner, patient)
    medication.top_up_reminders(now=NOW + timedelta(minutes=30))
    db.session.expire_all()
    assert course.reminders_through == NOW + timedelta(hours=48)


def test_a_run_after_a_missed_day_catches_up_without_duplicates(practitioner, patient):
    course = prescribe(practitioner, patient)
    written = medication.top_up_reminders(now=NOW + timedelta(hours=36))
    assert written == 3
    assert live_doses(course) == [DEC_2_EVENING, DEC_3_MORNING, DEC_3_EVENING, DEC_4_MORNING,
                                  DEC_4_MORNING + timedelta(hours=12), DEC_4_MORNING + timedelta(days=1),
                                  DEC_4_MORNING + timedelta(days=1, hours=12)]


def test_doses_whose_time_passed_while_nothing_ran_are_not_reminded_late(practitioner, patient):
    course = prescribe(practitioner, patient)
    later = NOW + timedelta(days=5)
    medication.top_up_reminders(now=later)
    assert [d for d in live_doses(course) if DEC_4_MORNING < d <= later] == []
    assert min(d for d in live_doses(course) if d > later) == DEC_2_EVENING + timedelta(days=5)


def test_no_reminder_is_written_before_the_start_or_after_the_end(practitioner, patient):
    course = prescribe(practitioner, patient, start_date="2026-12-03", end_date="2026-12-03")
    assert live_doses(course) == [DEC_3_MORNING, DEC_3_EVENING]
    assert medication.top_up_reminders(now=NOW + timedelta(days=1)) == 0


# --- clock changes (America/New_York: forward 8 March 2026 at 02:00, back 1 November at 02:00) ---


@pytest.fixture
def new_yorker(practitioner):
    return factories.create_patient(practitioner=practitioner, timezone="America/New_York",
                                    preferred_channels=None, devices=1)


def test_a_dose_at_08_00_stays_at_08_00_local_on_both_sides_of_the_spring_change(practitioner, new_yorker):
    now = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    course = prescribe(practitioner, new_yorker, now=now, times_of_day=["08:00"], start_date="2026-03-07",
                       end_date="2026-03-08")
    assert live_doses(course) == [datetime(2026, 3, 7, 13, 0, tzinfo=UTC),  # 08:00 EST (UTC-5)
                                  datetime(2026, 3, 8, 12, 0, tzinfo=UTC)]  # 08:00 EDT (UTC-4)


def test_a_time_the_clocks_skip_goes_the_gaps_length_later(practitioner, new_yorker):
    now = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    course = prescribe(practitioner, new_yorker, now=now, times_of_day=["02:30"], start_date="2026-03-07",
                       end_date="2026-03-09")
    assert live_doses(course) == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 03:30 EDT, an hour after the gap
                                  datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]  # 02:30 EDT


def test_a_skipped_time_that_lands_on_another_time_of_the_course_is_reminded_once(practitioner, new_yorker):
    now = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    course = prescribe(practitioner, new_yorker, now=now, times_of_day=["02:30", "03:30"], start_date="2026-03-08",
                       end_date="2026-03-08")
    assert live_doses(course) == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC)]


def test_a_time_that_happens_twice_goes_at_its_first_occurrence_only(practitioner, new_yorker):
    now = datetime(2026, 10, 31, 10, 0, tzinfo=UTC)
    course = prescribe(practitioner, new_yorker, now=now, times_of_day=["01:30", "08:00"], start_date="2026-11-01",
                       end_date="2026-11-01")
    assert live_doses(course) == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, the first of two
                                  datetime(2026, 11, 1, 13, 0, tzinfo=UTC)]  # 08:00 EST


# --- changing and stopping --------------------------------------------------------------------


def test_changing_the_times_replaces_the_reminders_not_yet_sent(practitioner, patient):
    course = prescribe(practitioner, patient)
    change = medication.change(practitioner, course.public_id, details(course, times_of_day="09:00"), now=NOW)
    assert (change.reminders_cancelled, change.reminders_already_sent) == (4 * 2, 0)
    assert live_doses(course) == [DEC_3_MORNING + timedelta(hours=1), DEC_4_MORNING + timedelta(hours=1)]
    assert {n.scheduled_at for n in reminders(course, Status.SCHEDULED)} == set(live_doses(course))


def test_changing_the_dosage_rewrites_the_reminders_with_it(practitioner, patient):
    course = prescribe(practitioner, patient)
    medication.change(practitioner, course.public_id, details(course, dosage="2 teaspoons"), now=NOW)
    pending = [n for n in reminders(course, Status.SCHEDULED) if n.channel is Channel.IN_APP]
    assert len(pending) == 4 and all("(2 teaspoons)" in n.message for n in pending)


def test_stopping_cancels_every_reminder_not_yet_sent(practitioner, patient):
    course = prescribe(practitioner, patient)
    change = medication.stop(practitioner, course.public_id, now=NOW)
    assert change.reminders_cancelled == 4 * 2
    assert {n.status for n in reminders(course)} == {Status.CANCELLED}
    assert live_doses(course) == []
    assert medication.status_of(change.course, NOW) is MedicationCourseStatus.STOPPED
    assert medication.top_up_reminders(now=NOW + timedelta(days=1)) == 0


def test_a_reminder_whose_job_is_already_on_redis_never_goes_out_once_the_course_is_stopped(
        practitioner, patient, run_worker, fake_fcm, use_fake):
    use_fake(fake_fcm)
    course = prescribe(practitioner, patient)
    enqueue_due(now=DEC_2_EVENING)  # the first dose's jobs are on Redis
    assert all(n.job_id for n in reminders(course) if n.scheduled_at == DEC_2_EVENING)
    medication.stop(practitioner, course.public_id, now=NOW)
    run_worker()
    assert {n.status for n in reminders(course)} == {Status.CANCELLED}
    assert fake_fcm.received == []


def test_a_reminder_a_worker_claimed_first_is_reported_as_already_on_its_way(practitioner, patient):
    course = prescribe(practitioner, patient)
    claimed = [n for n in reminders(course) if n.scheduled_at == DEC_2_EVENING]
    factories.put_in_status(claimed, Status.SENDING)
    change = medication.stop(practitioner, course.public_id, now=NOW)
    assert (change.reminders_cancelled, change.reminders_already_sent) == (3 * 2, 2)
    assert live_doses(course) == [DEC_2_EVENING]  # that dose is being reminded: it counts


def test_a_stopped_course_cannot_change_or_stop_again(practitioner, patient):
    course = prescribe(practitioner, patient)
    medication.stop(practitioner, course.public_id, now=NOW)
    with pytest.raises(Conflict):
        medication.change(practitioner, course.public_id, details(course, dosage="2 teaspoons"), now=NOW)
    with pytest.raises(Conflict):
        medication.stop(practitioner, course.public_id, now=NOW)


def test_a_course_past_its_end_date_has_ended(practitioner, patient):
    course = prescribe(practitioner, patient, end_date="2026-12-03")
    assert medication.status_of(course, NOW) is MedicationCourseStatus.ACTIVE
    assert medication.status_of(course, datetime(2026, 12, 3, 19, 0, tzinfo=UTC)) is MedicationCourseStatus.ENDED
    with pytest.raises(Conflict):
        medication.stop(practitioner, course.public_id, now=datetime(2026, 12, 4, tzinfo=UTC))


def test_a_practitioner_cannot_see_or_change_another_practitioners_course(practitioner, other_practitioner, patient):
    course = prescribe(practitioner, patient)
    with pytest.raises(NotFound):
        medication.stop(other_practitioner, course.public_id, now=NOW)
    assert medication.of_patient(other_practitioner, patient.id) == []


def test_an_admin_prescribes_in_the_name_of_the_patients_practitioner(admin, practitioner, patient):
    assert prescribe(admin, patient).practitioner_id == practitioner.id


# --- taken, and adherence ---------------------------------------------------------------------


def delivered_in_app(course, *moments):
    rows = [n for n in reminders(course) if n.channel is Channel.IN_APP and n.scheduled_at in moments]
    factories.put_in_status(rows, Status.DELIVERED)
    return {n.scheduled_at: n for n in rows}


def test_the_patient_says_a_dose_was_taken_from_its_reminder(practitioner, patient):
    course = prescribe(practitioner, patient)
    item = delivered_in_app(course, DEC_2_EVENING)[DEC_2_EVENING]
    at = DEC_2_EVENING + timedelta(minutes=5)
    dose = medication.mark_taken(patient, item.public_id, now=at)
    assert (dose.due_at, dose.taken_at) == (DEC_2_EVENING, at)


def test_saying_taken_twice_keeps_the_first_time(practitioner, patient):
    course = prescribe(practitioner, patient)
    item = delivered_in_app(course, DEC_2_EVENING)[DEC_2_EVENING]
    medication.mark_taken(patient, item.public_id, now=DEC_2_EVENING)
    again = medication.mark_taken(patient, item.public_id, now=DEC_2_EVENING + timedelta(hours=1))
    assert again.taken_at == DEC_2_EVENING


def test_another_patient_cannot_say_a_dose_was_taken(practitioner, patient, other_patient):
    course = prescribe(practitioner, patient)
    item = delivered_in_app(course, DEC_2_EVENING)[DEC_2_EVENING]
    with pytest.raises(NotFound):
        medication.mark_taken(other_patient, item.public_id, now=DEC_2_EVENING)
    assert db.session.scalar(sa.select(sa.func.count()).where(MedicationDose.taken_at.is_not(None))) == 0


def test_a_reminder_not_yet_in_the_inbox_cannot_be_taken(practitioner, patient):
    course = prescribe(practitioner, patient)
    [item] = [n for n in reminders(course) if n.channel is Channel.IN_APP and n.scheduled_at == DEC_2_EVENING]
    with pytest.raises(NotFound):
        medication.mark_taken(patient, item.public_id, now=NOW)


def test_adherence_counts_the_doses_reminded_so_far_and_those_taken(practitioner, patient):
    course = prescribe(practitioner, patient)
    items = delivered_in_app(course, DEC_2_EVENING, DEC_3_MORNING, DEC_3_EVENING, DEC_4_MORNING)
    for moment in (DEC_2_EVENING, DEC_3_MORNING, DEC_4_MORNING):
        medication.mark_taken(patient, items[moment].public_id, now=moment)
    figures = medication.adherence(course, DEC_4_MORNING)
    assert (figures.reminded, figures.taken, figures.summary) == (4, 3, "3 of 4 taken (75%)")
    assert [d.taken_at is not None for d in figures.doses] == [True, False, True, True]  # latest first
    assert medication.adherence(course, DEC_3_EVENING).summary == "2 of 3 taken (67%)"


def test_a_course_with_no_dose_yet_says_so(practitioner, patient):
    assert medication.adherence(prescribe(practitioner, patient), NOW).summary == "No dose reminded yet"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field"), [
    ({"end_date": "2026-12-01", "start_date": "2026-12-02"}, "end_date"),  # ends before it starts
    ({"times_of_day": []}, "times_of_day"),
    ({"times_of_day": ""}, "times_of_day"),
    ({"times_of_day": ["08:00", "8:00"]}, "times_of_day"),  # the same time twice
    ({"times_of_day": ["8 am"]}, "times_of_day"),
    ({"times_of_day": ["25:00"]}, "times_of_day"),
    ({"times_of_day": "08:00, 20:61"}, "times_of_day"),
    ({"start_date": "2026-09-01"}, "start_date"),  # three months ago
    ({"start_date": "0001-01-01"}, "start_date"),
    ({"end_date": "2026-12-01", "start_date": "2026-11-20"}, "end_date"),  # has passed
    ({"end_date": "2028-01-01"}, "end_date"),  # over a year
    ({"end_date": "soon"}, "end_date"),
    ({"medicine": ""}, "medicine"),
    ({"medicine": "x" * 121}, "medicine"),
    ({"dosage": "1 tablet\x1b[2J"}, "dosage"),
    ({"instructions": "x" * 1001}, "instructions"),
    ({"patient_id": "Priya"}, "patient_id"),
])
def test_a_bad_prescription_is_refused_by_field_and_writes_nothing(practitioner, patient, fields, field):
    with pytest.raises(ValidationError) as caught:
        prescribe(practitioner, patient, **fields)
    assert field in caught.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MedicationCourse)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_a_patient_who_is_not_yours_is_refused_at_the_patient_field(other_practitioner, patient):
    with pytest.raises(ValidationError) as caught:
        prescribe(other_practitioner, patient)
    assert caught.value.errors == {"patient_id": "Choose one of your patients"}


def test_a_running_course_keeps_a_start_date_long_past(practitioner, patient):
    course = prescribe(practitioner, patient, start_date="2026-11-15")
    later = NOW + timedelta(days=20)
    change = medication.change(practitioner, course.public_id, details(course, dosage="2 teaspoons"), now=later)
    assert change.course.start_date == date(2026, 11, 15)


def test_the_scheduler_tops_running_courses_up_when_it_sweeps(app, practitioner, patient):
    from app.clock import utcnow
    from app.services.scheduler import SchedulerThread

    yesterday = utcnow() - timedelta(days=1)
    start = yesterday.astimezone(patient.zone).date()
    course = prescribe(practitioner, patient, now=yesterday, start_date=start.isoformat(),
                       end_date=(start + timedelta(days=10)).isoformat())
    holder = SchedulerThread(app)
    try:
        holder._run_once()  # takes the lock, sweeps at once
    finally:
        holder._let_go()
    db.session.expire_all()
    assert course.reminders_through > utcnow() + timedelta(hours=47)
    assert len(live_doses(course)) == len(set(live_doses(course))) >= 6


def test_reminders_go_through_the_worker_by_push_and_to_the_inbox_where_the_patient_takes_them(
        practitioner, patient, run_worker, fake_fcm, use_fake):
    from app.clock import utcnow

    use_fake(fake_fcm)
    now = utcnow()
    start = now.astimezone(patient.zone).date()
    course = prescribe(practitioner, patient, now=now, start_date=start.isoformat(),
                       end_date=(start + timedelta(days=10)).isoformat())
    run_worker(scheduled=True)  # as if every dose's time had come
    assert [m["token"] for m in fake_fcm.received] == [f"device-{patient.id}-0"] * 4
    inbox = sorted((n for n in reminders(course) if n.channel is Channel.IN_APP), key=lambda n: n.scheduled_at)
    assert {n.status for n in inbox} == {Status.DELIVERED}
    medication.mark_taken(patient, inbox[0].public_id)
    assert medication.adherence(course, now + timedelta(days=2)).summary == "1 of 4 taken (25%)"
