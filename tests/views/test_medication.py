"""The medication course pages, and the patient's "taken" from a reminder in the inbox."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.medication import MedicationCourse, MedicationDose
from app.models.status import Status
from app.services import medication
from app.vocabulary import Channel, MedicationCourseStatus
from tests import factories
from tests.pages import error_summary, field_error, one, text, texts


@pytest.fixture(autouse=True)
def _templates(templates):
    """Reminders are written from the clinic's templates."""


@pytest.fixture
def staff(client_request, practitioner):
    return client_request.login(practitioner)


def today(user) -> date:
    return datetime.now(user.zone).date()


def course_form(patient, **fields) -> dict:
    start = today(patient)
    return {"patient_id": str(patient.id), "medicine": "Ashwagandha", "dosage": "2 tablets",
            "times_of_day": "08:00, 20:00", "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=14)).isoformat(), "instructions": "After food", **fields}


def prescribe(practitioner, patient) -> MedicationCourse:
    return medication.prescribe(practitioner, course_form(patient))


def count_courses() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MedicationCourse))


def test_prescribing_from_the_form_opens_the_course_with_its_reminders(staff, patient):
    staff.get(f"/medication/new?patient={patient.id}")
    staff.post("/medication/new", data=course_form(patient))
    [course] = db.session.scalars(sa.select(MedicationCourse)).all()
    page = staff.get(f"/medication/{course.public_id}")
    assert text(one(page, "h1")) == "Ashwagandha for Priya Sharma"
    assert text(one(page, ".adherence")) == "No dose reminded yet"
    assert set(texts(page, "table.medication-reminders tbody td:first-child")) == {"Medication reminder"}
    assert one(page, "[data-course-status]")["data-course-status"] == "active"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"times_of_day": ""}, "times_of_day", "Give at least one time of day, like 08:00"),
    ({"times_of_day": "08:00, 08:00"}, "times_of_day", "08:00 is given more than once"),
    ({"times_of_day": "8pm"}, "times_of_day",
     "'8pm': Give a time of day as HH:MM on the 24-hour clock, like 08:00 or 20:30"),
    ({"end_date": "2026-01-01"}, "end_date", "The end date is before the start date"),
    ({"start_date": "2020-01-01", "end_date": ""}, "start_date", "A course starts no more than 30 days ago"),
    ({"medicine": "x" * 121}, "medicine", "Field cannot be longer than 120 characters."),
    ({"medicine": ""}, "medicine", "Name the medicine"),
])
def test_a_bad_prescription_is_an_error_at_its_field_and_writes_nothing(staff, patient, fields, field, message):
    staff.get("/medication/new")
    page = staff.post("/medication/new", data=course_form(patient, **fields), expected_status=422)
    assert field_error(page, field) == message
    assert count_courses() == 0


def test_every_problem_of_a_prescription_is_named_at_once(staff, patient):
    staff.get("/medication/new")
    page = staff.post("/medication/new", data=course_form(patient, medicine="", times_of_day="", start_date="soon"),
                      expected_status=422)
    assert set(error_summary(page)) == {"medicine", "times_of_day", "start_date"}


def test_prescribing_for_another_practitioners_patient_is_an_error_at_the_patient(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    staff.get("/medication/new")
    page = staff.post("/medication/new", data=course_form(theirs), expected_status=422)
    assert field_error(page, "patient_id") == "Choose one of your patients"
    assert count_courses() == 0


def test_a_patients_courses_are_listed_on_their_page(staff, practitioner, patient):
    course = prescribe(practitioner, patient)
    page = staff.get(f"/appointments?patient={patient.id}")
    assert texts(page, "table.medication-courses tbody td:first-child") == ["Ashwagandha · 2 tablets"]
    assert page.select_one(f"a[href='/medication/{course.public_id}']") is not None


def test_changing_the_times_from_the_edit_page_replaces_the_reminders(staff, practitioner, patient):
    course = prescribe(practitioner, patient)
    page = staff.get(f"/medication/{course.public_id}/edit")
    assert one(page, "#times_of_day")["value"] == "08:00, 20:00"
    staff.post(f"/medication/{course.public_id}/edit", data={**course_form(patient, times_of_day="09:15")})
    db.session.expire_all()
    assert course.times_of_day == ["09:15"]
    pending = {n.scheduled_at.astimezone(patient.zone).strftime("%H:%M")
               for n in medication.notifications_of(course) if n.status is Status.SCHEDULED}
    assert pending == {"09:15"}


def test_a_bad_change_is_an_error_at_its_field(staff, practitioner, patient):
    course = prescribe(practitioner, patient)
    staff.get(f"/medication/{course.public_id}/edit")
    page = staff.post(f"/medication/{course.public_id}/edit", data=course_form(patient, times_of_day="noon"),
                      expected_status=422)
    assert "HH:MM" in field_error(page, "times_of_day")


def test_stopping_from_the_page_cancels_the_reminders(staff, practitioner, patient):
    course = prescribe(practitioner, patient)
    staff.get(f"/medication/{course.public_id}")
    staff.post(f"/medication/{course.public_id}/stop")
    page = staff.get(f"/medication/{course.public_id}")
    assert "No further reminders will be sent" in text(one(page, ".flashes"))
    assert one(page, "[data-course-status]")["data-course-status"] == "stopped"
    assert set(texts(page, "table.medication-reminders tbody td:nth-child(4)")) == {"Cancelled"}
    assert page.select("form[action$='/stop']") == []


def test_a_stop_without_the_form_token_is_refused(staff, practitioner, patient):
    course = prescribe(practitioner, patient)
    staff.post(f"/medication/{course.public_id}/stop", csrf=False, expected_status=400)
    db.session.expire_all()
    assert course.status is MedicationCourseStatus.ACTIVE


def test_another_practitioners_course_is_not_found(client_request, other_practitioner, practitioner, patient):
    course = prescribe(practitioner, patient)
    client_request.login(other_practitioner).get(f"/medication/{course.public_id}", expected_status=404)


def test_an_admin_opens_any_course(client_request, admin, practitioner, patient):
    course = prescribe(practitioner, patient)
    client_request.login(admin).get(f"/medication/{course.public_id}")


def test_patients_cannot_open_the_course_pages(client_request, practitioner, patient):
    course = prescribe(practitioner, patient)
    client_request.login(patient).get(f"/medication/{course.public_id}", expected_status=403)


# --- the patient's "taken" --------------------------------------------------------------------


def first_reminder_in_inbox(course):
    """The first dose's in-app reminder, delivered to the inbox."""
    rows = [n for n in medication.notifications_of(course) if n.channel is Channel.IN_APP]
    first = min(rows, key=lambda n: n.scheduled_at)
    factories.put_in_status([first], Status.DELIVERED)
    return first


def test_the_patient_says_taken_from_the_reminder_and_the_course_page_counts_it(client_request, practitioner,
                                                                                patient):
    course = prescribe(practitioner, patient)
    item = first_reminder_in_inbox(course)
    patient_pages = client_request.login(patient)
    patient_pages.get(f"/inbox/{item.public_id}")
    patient_pages.post(f"/inbox/{item.public_id}/taken", expected_redirect=f"/inbox/{item.public_id}")
    page = patient_pages.get(f"/inbox/{item.public_id}")
    assert one(page, "[data-taken]")["data-taken"] == "yes"
    assert page.select("form[action$='/taken']") == []
    [dose] = db.session.scalars(sa.select(MedicationDose).where(MedicationDose.taken_at.is_not(None))).all()
    assert dose.group_id == item.group_id


def test_saying_taken_twice_is_the_same_as_once(client_request, practitioner, patient):
    course = prescribe(practitioner, patient)
    item = first_reminder_in_inbox(course)
    patient_pages = client_request.login(patient)
    patient_pages.get(f"/inbox/{item.public_id}")
    patient_pages.post(f"/inbox/{item.public_id}/taken")
    first = db.session.scalar(sa.select(MedicationDose.taken_at).where(MedicationDose.group_id == item.group_id))
    patient_pages.post(f"/inbox/{item.public_id}/taken")
    db.session.expire_all()
    assert db.session.scalar(sa.select(MedicationDose.taken_at).where(MedicationDose.group_id == item.group_id)) \
        == first


def test_another_patient_saying_taken_gets_not_found(client_request, practitioner, patient, other_patient):
    course = prescribe(practitioner, patient)
    item = first_reminder_in_inbox(course)
    other = client_request.login(other_patient)
    other.get("/inbox")
    other.post(f"/inbox/{item.public_id}/taken", expected_status=404)
    assert db.session.scalar(sa.select(sa.func.count()).where(MedicationDose.taken_at.is_not(None))) == 0


def test_taken_without_the_form_token_is_refused(client_request, practitioner, patient):
    course = prescribe(practitioner, patient)
    item = first_reminder_in_inbox(course)
    client_request.login(patient).post(f"/inbox/{item.public_id}/taken", csrf=False, expected_status=400)
    assert db.session.scalar(sa.select(sa.func.count()).where(MedicationDose.taken_at.is_not(None))) == 0


def test_a_reminder_composed_by_hand_has_no_taken_button(client_request, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], type="medication_reminder",
                          template_key="medication_reminder", data={"medicine": "Triphala"}, channels=["in_app"])
    [item] = factories.notifications()
    factories.put_in_status([item], Status.DELIVERED)
    page = client_request.login(patient).get(f"/inbox/{item.public_id}")
    assert page.select("form[action$='/taken']") == []


def test_a_hindi_speaking_patient_is_asked_in_hindi(client_request, practitioner):
    hindi = factories.create_patient(practitioner=practitioner, locale="hi", preferred_channels=["in_app"])
    item = first_reminder_in_inbox(prescribe(practitioner, hindi))
    page = client_request.login(hindi).get(f"/inbox/{item.public_id}")
    assert text(one(page, "form[action$='/taken'] button")) == "मैंने दवा ले ली"
