"""The appointment pages: a day's list, booking, and one appointment's page."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.appointment import Appointment
from app.services import appointments
from app.vocabulary import AppointmentStatus
from tests.pages import error_summary, field_error, one, text, texts


@pytest.fixture(autouse=True)
def _templates(templates):
    """Booking writes the confirmation and reminders from the clinic's templates."""


@pytest.fixture
def staff(client_request, practitioner):
    return client_request.login(practitioner)


def in_days(practitioner, days: int, hour: int = 10) -> datetime:
    today = datetime.now(practitioner.zone).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def booking_form(patient, when: datetime, **fields) -> dict:
    return {"patient_id": str(patient.id), "day": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M"),
            "duration_minutes": "60", "treatment": "Shirodhara", "location": "Room 2", "notes": "", **fields}


def book(practitioner, patient, days: int = 3) -> Appointment:
    return appointments.book(practitioner, {"patient_id": patient.id, "starts_at": in_days(practitioner, days),
                                            "treatment": "Abhyanga"})


def count_appointments() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appointment))


def test_booking_from_the_form_opens_the_appointment_with_its_notifications(staff, practitioner, patient):
    staff.get("/appointments/new")
    page = staff.post("/appointments/new", data=booking_form(patient, in_days(practitioner, 3)), expected_status=302)
    [appointment] = db.session.scalars(sa.select(Appointment)).all()
    page = staff.get(f"/appointments/{appointment.public_id}")
    assert text(one(page, "h1")) == "Shirodhara with Priya Sharma"
    kinds = texts(page, "table.appointment-notifications tbody td:first-child")
    assert "Appointment confirmation" in kinds and "Appointment reminder" in kinds


def test_the_booking_form_offers_only_the_practitioners_own_active_patients(staff, patient, other_practitioner):
    from tests import factories

    factories.create_patient(practitioner=other_practitioner, name="Not Mine")
    page = staff.get("/appointments/new")
    assert texts(page, "#patient_id option")[1:] == ["Priya Sharma"]


def test_a_booking_in_the_past_is_refused_at_its_field_and_writes_nothing(staff, practitioner, patient):
    staff.get("/appointments/new")
    page = staff.post("/appointments/new", data=booking_form(patient, in_days(practitioner, -1)), expected_status=422)
    assert field_error(page, "day") == "Choose a time that has not passed"
    assert count_appointments() == 0


def test_every_problem_of_a_booking_is_named_at_once(staff, practitioner, patient):
    staff.get("/appointments/new")
    page = staff.post("/appointments/new", data=booking_form(patient, in_days(practitioner, 2), treatment="",
                                                               day="", duration_minutes="0"), expected_status=422)
    assert set(error_summary(page)) == {"day", "treatment", "duration_minutes"}
    assert count_appointments() == 0


def test_booking_for_another_practitioners_patient_is_not_found(staff, practitioner, other_practitioner):
    from tests import factories

    theirs = factories.create_patient(practitioner=other_practitioner)
    staff.get("/appointments/new")
    staff.post("/appointments/new", data=booking_form(theirs, in_days(practitioner, 2)), expected_status=404)
    assert count_appointments() == 0


def test_the_day_lists_its_appointments_in_time_order(staff, practitioner, patient):
    late, early = book(practitioner, patient, days=1), appointments.book(
        practitioner, {"patient_id": patient.id, "starts_at": in_days(practitioner, 1, hour=8), "treatment": "Nasya"})
    page = staff.get(f"/appointments?day={in_days(practitioner, 1):%Y-%m-%d}")
    assert texts(page, "table.appointments tbody tr td:nth-child(3)") == ["Nasya", "Abhyanga"]
    assert early.starts_at < late.starts_at


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "0001-01-01", "\x00"])
def test_a_day_that_cannot_be_read_shows_today(staff, day):
    page = staff.get("/appointments", query_string={"day": day})
    assert text(one(page, "h1")).startswith("Appointments, ")


def test_moving_an_appointment_from_its_page_replaces_its_reminders(staff, practitioner, patient):
    appointment = book(practitioner, patient)
    new_time = in_days(practitioner, 6, hour=15)
    staff.get(f"/appointments/{appointment.public_id}")
    staff.post(f"/appointments/{appointment.public_id}/reschedule",
               data={"day": new_time.strftime("%Y-%m-%d"), "time": "15:00"})
    db.session.expire_all()
    assert appointment.starts_at == new_time
    assert appointment.status is AppointmentStatus.RESCHEDULED


def test_moving_an_appointment_into_the_past_is_an_inline_error(staff, practitioner, patient):
    appointment = book(practitioner, patient)
    staff.get(f"/appointments/{appointment.public_id}")
    page = staff.post(f"/appointments/{appointment.public_id}/reschedule",
                      data={"day": in_days(practitioner, -2).strftime("%Y-%m-%d"), "time": "10:00"},
                      expected_status=422)
    assert field_error(page, "day") == "Choose a time that has not passed"


def test_cancelling_from_the_page_cancels_and_says_the_patient_was_told(staff, practitioner, patient):
    appointment = book(practitioner, patient)
    staff.get(f"/appointments/{appointment.public_id}")
    staff.post(f"/appointments/{appointment.public_id}/cancel")
    page = staff.get(f"/appointments/{appointment.public_id}")
    assert "The patient has been told" in text(one(page, ".flashes"))
    assert one(page, "[data-appointment-status]")["data-appointment-status"] == "cancelled"
    assert page.select("form[action$='/reschedule']") == []


def test_a_cancel_without_the_form_token_is_refused(staff, practitioner, patient):
    appointment = book(practitioner, patient)
    staff.post(f"/appointments/{appointment.public_id}/cancel", csrf=False, expected_status=400)
    db.session.expire_all()
    assert appointment.status is AppointmentStatus.BOOKED


def test_another_practitioners_appointment_is_not_found(client_request, other_practitioner, practitioner, patient):
    appointment = book(practitioner, patient)
    client_request.login(other_practitioner).get(f"/appointments/{appointment.public_id}", expected_status=404)


def test_patients_cannot_open_the_appointment_pages(client_request, patient):
    client_request.login(patient).get("/appointments", expected_status=403)


def test_a_patients_appointments_are_listed_on_their_page(staff, practitioner, patient):
    book(practitioner, patient)
    page = staff.get(f"/appointments?patient={patient.id}")
    assert text(one(page, "h1")) == "Appointments of Priya Sharma"
    assert texts(page, "table.appointments tbody td:nth-child(2)") == ["Abhyanga"]


def test_a_clinic_without_appointment_templates_is_told_so_and_nothing_is_booked(staff, practitioner, patient):
    from app.models import Template

    db.session.execute(sa.delete(Template))
    db.session.commit()
    staff.get("/appointments/new")
    page = staff.post("/appointments/new", data=booking_form(patient, in_days(practitioner, 3)), expected_status=422)
    assert "There are no templates for appointment confirmation yet" in text(one(page, ".error-summary"))
    assert count_appointments() == 0
