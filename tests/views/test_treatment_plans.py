"""The treatment plan pages: starting a plan, its page with progress, and the patient's page."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.notification import Notification
from app.models.treatment_plan import TreatmentPlan, TreatmentProgress
from app.services import treatment_plans
from app.vocabulary import TreatmentPlanStatus
from tests import factories
from tests.pages import error_summary, field_error, one, text, texts

PHASES = [
    {"name": "Purvakarma", "starts_on": "2026-12-01", "ends_on": "2026-12-07", "description": "Preparation"},
    {"name": "Pradhanakarma", "starts_on": "2026-12-08", "ends_on": "2026-12-20", "description": "Virechana"},
    {"name": "Paschatkarma", "starts_on": "2026-12-21", "ends_on": "2026-12-31", "description": "Recovery"},
]


@pytest.fixture(autouse=True)
def _templates(templates):
    """Progress records send their update from the clinic's templates."""


@pytest.fixture
def staff(client_request, practitioner):
    return client_request.login(practitioner)


def plan_form(patient, phases=PHASES, **fields) -> dict:
    form = {"patient_id": str(patient.id), "name": "Panchakarma", **fields}
    for n, phase in enumerate(phases):  # every row, as a browser sends the empty ones too
        form.update({f"phases-{n}-{key}": phase.get(key, "") for key in ("name", "starts_on", "ends_on",
                                                                         "description")})
    return form


def create_plan(practitioner, patient) -> TreatmentPlan:
    return treatment_plans.create_plan(practitioner, {"patient_id": patient.id, "name": "Panchakarma",
                                                      "phases": PHASES})


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_starting_a_plan_from_the_form_opens_its_page(staff, patient):
    staff.get(f"/treatment-plans/new?patient={patient.id}")
    staff.post("/treatment-plans/new", data=plan_form(patient))
    [plan] = db.session.scalars(sa.select(TreatmentPlan)).all()
    page = staff.get(f"/treatment-plans/{plan.public_id}")
    assert text(one(page, "h1")) == "Panchakarma for Priya Sharma"
    assert texts(page, "table.treatment-phases tbody td:first-child")[1:] == ["Pradhanakarma", "Paschatkarma"]


def test_empty_phase_rows_are_skipped(staff, patient):
    staff.get("/treatment-plans/new")
    staff.post("/treatment-plans/new", data=plan_form(patient, phases=[{}, PHASES[0], {}]))
    [plan] = db.session.scalars(sa.select(TreatmentPlan)).all()
    assert [p.name for p in plan.phases] == ["Purvakarma"]


@pytest.mark.parametrize(("phases", "field", "message"), [
    ([PHASES[0], {**PHASES[1], "starts_on": "2026-12-06"}], "phases-1-starts_on",
     "This overlaps Purvakarma, which ends on 2026-12-07; start it after that"),
    ([PHASES[1], PHASES[0]], "phases-1-starts_on",
     "Phases come in the order they happen: this starts before Pradhanakarma"),
    ([{**PHASES[0], "ends_on": "2026-11-20"}], "phases-0-ends_on", "A phase ends on or after the day it starts"),
    ([], "phases-0-name", "Give the plan at least one phase"),
    ([{**PHASES[0], "description": "d" * 501}], "phases-0-description",
     "The description is 501 characters; the limit is 500"),
])
def test_a_bad_phase_is_named_at_its_row_and_nothing_is_written(staff, patient, phases, field, message):
    staff.get("/treatment-plans/new")
    page = staff.post("/treatment-plans/new", data=plan_form(patient, phases=phases), expected_status=422)
    assert field_error(page, field) == message
    assert error_summary(page)[field] == message
    assert count(TreatmentPlan) == 0


def test_a_phase_error_is_shown_at_the_row_it_was_typed_in_after_an_empty_row(staff, patient):
    staff.get("/treatment-plans/new")
    page = staff.post("/treatment-plans/new", data=plan_form(patient, phases=[{}, {**PHASES[0], "name": ""}]),
                      expected_status=422)
    assert field_error(page, "phases-1-name") == "Name the phase, e.g. Purvakarma"


def test_a_plan_without_a_name_is_refused_at_its_field(staff, patient):
    staff.get("/treatment-plans/new")
    page = staff.post("/treatment-plans/new", data=plan_form(patient, name=""), expected_status=422)
    assert field_error(page, "name") == "Name the plan, e.g. Panchakarma"


def test_a_second_active_plan_is_refused_at_the_patient(staff, practitioner, patient):
    create_plan(practitioner, patient)
    staff.get("/treatment-plans/new")
    page = staff.post("/treatment-plans/new", data=plan_form(patient, name="Rasayana"), expected_status=422)
    assert "still active" in field_error(page, "patient_id")
    assert count(TreatmentPlan) == 1


def test_recording_progress_from_the_plan_page_shows_the_update_and_its_channels(staff, practitioner, patient):
    plan = create_plan(practitioner, patient)
    staff.get(f"/treatment-plans/{plan.public_id}")
    staff.post(f"/treatment-plans/{plan.public_id}/progress",
               data={"phase_id": str(plan.phases[0].id), "percent": "30", "next_milestone": "Snehapana day 4",
                     "notes": "Sleeping better."})
    page = staff.get(f"/treatment-plans/{plan.public_id}")
    assert "The patient has been sent the update" in text(one(page, ".flashes"))
    assert text(one(page, "[data-latest-percent]")) == "30% complete"
    [row] = page.select("table.treatment-updates tbody tr")
    assert texts(row, "td")[1:5] == ["Purvakarma", "30%", "Snehapana day 4", "Sleeping better."]
    assert {li["data-channel"] for li in row.select("[data-channel]")} == {"in_app", "email", "sms", "push"}


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"percent": "140"}, "percent", "A percent is 0 to 100, not 140"),
    ({"percent": "lots"}, "percent", "Give the percent complete as a whole number from 0 to 100"),
    ({"percent": ""}, "percent", "Give the percent complete, 0 to 100"),
    ({"phase_id": "999999"}, "phase_id", "Choose one of this plan's phases"),
    ({"next_milestone": "m" * 121}, "next_milestone", "The milestone is 121 characters; the limit is 120"),
    ({"notes": "n" * 281}, "notes", "The note is 281 characters; the limit is 280"),
])
def test_a_bad_progress_record_is_named_at_its_field_and_sends_nothing(staff, practitioner, patient, fields, field,
                                                                       message):
    plan = create_plan(practitioner, patient)
    staff.get(f"/treatment-plans/{plan.public_id}")
    page = staff.post(f"/treatment-plans/{plan.public_id}/progress",
                      data={"phase_id": str(plan.phases[0].id), "percent": "30", **fields}, expected_status=422)
    assert field_error(page, field) == message
    assert (count(TreatmentProgress), count(Notification)) == (0, 0)


def test_progress_going_backwards_is_refused_at_the_percent(staff, practitioner, patient):
    plan = create_plan(practitioner, patient)
    treatment_plans.record_progress(practitioner, plan.public_id, {"phase_id": plan.phases[0].id, "percent": 50})
    staff.get(f"/treatment-plans/{plan.public_id}")
    page = staff.post(f"/treatment-plans/{plan.public_id}/progress",
                      data={"phase_id": str(plan.phases[0].id), "percent": "40"}, expected_status=422)
    assert field_error(page, "percent") == "The plan is at 50% already; progress is recorded forward only"
    assert count(TreatmentProgress) == 1


def test_a_stopped_plan_takes_no_progress_and_offers_no_form(staff, practitioner, patient):
    plan = create_plan(practitioner, patient)
    staff.get(f"/treatment-plans/{plan.public_id}")
    staff.post(f"/treatment-plans/{plan.public_id}/close", data={"status": "stopped"})
    page = staff.get(f"/treatment-plans/{plan.public_id}")
    assert one(page, "[data-plan-status]")["data-plan-status"] == "stopped"
    assert page.select("form[action$='/progress']") == []
    page = staff.post(f"/treatment-plans/{plan.public_id}/progress",
                      data={"phase_id": str(plan.phases[0].id), "percent": "30"}, expected_status=422)
    assert "active plan only" in text(one(page, ".error-summary"))
    assert count(Notification) == 0


def test_closing_a_plan_as_anything_but_completed_or_stopped_changes_nothing(staff, practitioner, patient):
    plan = create_plan(practitioner, patient)
    staff.get(f"/treatment-plans/{plan.public_id}")
    staff.post(f"/treatment-plans/{plan.public_id}/close", data={"status": "paused"})
    db.session.expire_all()
    assert plan.status is TreatmentPlanStatus.ACTIVE


def test_another_practitioners_patients_plan_is_not_found(client_request, other_practitioner, practitioner,
                                                          patient):
    plan = create_plan(practitioner, patient)
    theirs = client_request.login(other_practitioner)
    theirs.get(f"/treatment-plans/{plan.public_id}", expected_status=404)
    theirs.get("/treatment-plans/new")
    theirs.post(f"/treatment-plans/{plan.public_id}/progress",
                data={"phase_id": str(plan.phases[0].id), "percent": "30"}, expected_status=404)
    theirs.post("/treatment-plans/new", data=plan_form(patient, name="Rasayana"), expected_status=404)
    assert (count(TreatmentPlan), count(TreatmentProgress)) == (1, 0)


def test_an_admin_opens_any_plan(client_request, admin, practitioner, patient):
    plan = create_plan(practitioner, patient)
    page = client_request.login(admin).get(f"/treatment-plans/{plan.public_id}")
    assert text(one(page, "h1")) == "Panchakarma for Priya Sharma"


def test_a_patient_cannot_reach_the_staff_pages(client_request, practitioner, patient):
    plan = create_plan(practitioner, patient)
    as_patient = client_request.login(patient)
    as_patient.get(f"/treatment-plans/{plan.public_id}", expected_status=403)
    as_patient.get("/treatment-plans/new", expected_status=403)
    as_patient.get(f"/appointments?patient={patient.id}", expected_status=403)


def test_the_patients_page_shows_the_plan_and_its_updates(staff, practitioner, patient):
    plan = create_plan(practitioner, patient)
    treatment_plans.record_progress(practitioner, plan.public_id, {"phase_id": plan.phases[1].id, "percent": 55,
                                                                   "next_milestone": "Basti"})
    page = staff.get(f"/appointments?patient={patient.id}")
    section = one(page, "section.treatment-plan")
    assert text(one(section, "h2")) == "Panchakarma"
    assert text(one(section, "[data-current-phase]")) == "Pradhanakarma"
    assert text(one(section, "[data-latest-percent]")) == "55% complete"
    assert texts(section, "table.treatment-phases tbody td:first-child") == [
        "Purvakarma", "Pradhanakarma (current)", "Paschatkarma"]
    [update] = section.select("table.treatment-updates tbody tr")
    assert {li["data-status"] for li in update.select("[data-status]")} == {"queued"}


def test_the_patients_page_offers_a_new_plan_only_without_an_active_one(staff, practitioner, patient):
    page = staff.get(f"/appointments?patient={patient.id}")
    assert texts(page, "a[href^='/treatment-plans/new']") == ["Start a treatment plan"]
    create_plan(practitioner, patient)
    page = staff.get(f"/appointments?patient={patient.id}")
    assert page.select("a[href^='/treatment-plans/new']") == []


def test_the_patient_reads_the_update_in_their_inbox(client_request, practitioner, run_worker):
    patient = factories.create_patient(practitioner=practitioner, name="Priya Sharma")
    plan = create_plan(practitioner, patient)
    treatment_plans.record_progress(practitioner, plan.public_id, {"phase_id": plan.phases[0].id, "percent": 20})
    run_worker()
    page = client_request.login(patient).get("/inbox")
    assert "Purvakarma: 20% complete." in text(page.select_one("main"))
