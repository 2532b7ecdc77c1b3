"""Treatment plans: phases in order, progress forward only, and each record tells the patient once."""

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.notification import Notification, NotificationGroup
from app.models.status import Status
from app.models.treatment_plan import TreatmentPlan, TreatmentProgress
from app.models.user import User
from app.services import treatment_plans
from app.services.errors import Conflict, NotFound, ValidationError
from app.vocabulary import Channel, NotificationType, TreatmentPlanStatus
from tests import factories

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
PHASES = [
    {"name": "Purvakarma", "starts_on": "2026-12-01", "ends_on": "2026-12-07", "description": "Preparation"},
    {"name": "Pradhanakarma", "starts_on": "2026-12-08", "ends_on": "2026-12-20", "description": "Virechana"},
    {"name": "Paschatkarma", "starts_on": "2026-12-21", "ends_on": "2026-12-31", "description": "Recovery"},
]


@pytest.fixture(autouse=True)
def _templates(templates):
    """Each progress record's update is written from the clinic's treatment_update templates."""


@pytest.fixture
def patient(practitioner):
    """A patient on the default preferences: the inbox and email."""
    return factories.create_patient(practitioner=practitioner, name="Priya Sharma", email="priya@clinic.test")


def create_plan(actor, patient, **fields):
    raw = {"patient_id": patient.id, "name": "Panchakarma", "phases": PHASES, **fields}
    return treatment_plans.create_plan(actor, raw, now=NOW)


def record(actor, plan, *, phase=0, percent=20, **fields):
    raw = {"phase_id": plan.phases[phase].id, "percent": percent, **fields}
    return treatment_plans.record_progress(actor, plan.public_id, raw, now=NOW)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_plan_is_created_with_its_phases_in_order(practitioner, patient):
    plan = create_plan(practitioner, patient)
    assert (plan.name, plan.status, plan.practitioner_id) == ("Panchakarma", TreatmentPlanStatus.ACTIVE,
                                                              practitioner.id)
    assert [(p.name, p.starts_on, p.ends_on) for p in plan.phases] == [
        ("Purvakarma", date(2026, 12, 1), date(2026, 12, 7)),
        ("Pradhanakarma", date(2026, 12, 8), date(2026, 12, 20)),
        ("Paschatkarma", date(2026, 12, 21), date(2026, 12, 31)),
    ]


def test_an_admin_creates_a_plan_in_the_name_of_the_patients_practitioner(admin, practitioner, patient):
    assert create_plan(admin, patient).practitioner_id == practitioner.id


def test_a_patient_has_one_active_plan_at_a_time(practitioner, patient):
    create_plan(practitioner, patient)
    with pytest.raises(ValidationError) as caught:
        create_plan(practitioner, patient, name="Rasayana")
    assert "still active" in caught.value.errors["patient_id"]
    assert count(TreatmentPlan) == 1


def test_a_completed_plan_makes_room_for_the_next(practitioner, patient):
    first = create_plan(practitioner, patient)
    treatment_plans.close_plan(practitioner, first.public_id, TreatmentPlanStatus.COMPLETED, now=NOW)
    assert create_plan(practitioner, patient, name="Rasayana").status is TreatmentPlanStatus.ACTIVE


def test_recording_progress_sends_one_treatment_update_by_email_and_inbox(
    run_worker, fake_sendgrid, use_fake, practitioner, patient
):
    use_fake(fake_sendgrid)
    plan = create_plan(practitioner, patient)
    record(practitioner, plan, percent=40, next_milestone="Virechana on 8 Dec", notes="Keep meals light.")
    run_worker()
    [group] = db.session.scalars(sa.select(NotificationGroup)).all()
    assert group.type is NotificationType.TREATMENT_UPDATE
    rows = {n.channel: n for n in db.session.scalars(sa.select(Notification))}
    assert set(rows) == {Channel.IN_APP, Channel.EMAIL}
    assert (rows[Channel.IN_APP].status, rows[Channel.EMAIL].status) == (Status.DELIVERED, Status.SENT)
    [mail] = fake_sendgrid.received
    assert mail["to"] == "priya@clinic.test"
    assert mail["subject"] == "Treatment Progress Update - 40% Complete"
    assert "Purvakarma: 40% complete.\nNext: Virechana on 8 Dec.\n\nKeep meals light." in mail["text"]
    assert rows[Channel.IN_APP].title == "Treatment Progress Update - 40% Complete"


def test_the_record_keeps_the_send_that_told_the_patient(practitioner, patient):
    plan = create_plan(practitioner, patient)
    progress = record(practitioner, plan, percent=10)
    [entry] = treatment_plans.progress_of(plan)
    assert entry.record.id == progress.id
    assert {n.channel for n in entry.notifications} == {Channel.IN_APP, Channel.EMAIL}
    assert entry.record.group_id == progress.group_id


def test_an_sms_opt_out_keeps_the_update_off_sms(practitioner):
    opted_out = factories.create_patient(practitioner=practitioner, phone="+919876543210",
                                         preferred_channels=["in_app", "sms"])
    opted_out.sms_opted_out_at = NOW
    db.session.commit()
    plan = create_plan(practitioner, opted_out)
    record(practitioner, plan)
    rows = {n.channel: n for n in db.session.scalars(sa.select(Notification))}
    assert rows[Channel.SMS].status is Status.SUPPRESSED
    assert rows[Channel.IN_APP].status is Status.QUEUED


def test_a_refused_record_writes_nothing_and_sends_nothing(run_worker, fake_sendgrid, use_fake, practitioner,
                                                           patient):
    use_fake(fake_sendgrid)
    plan = create_plan(practitioner, patient)
    with pytest.raises(ValidationError):
        record(practitioner, plan, percent=140)
    with pytest.raises(ValidationError):
        record(practitioner, plan, percent=40, notes="x" * 281)
    run_worker()
    assert (count(TreatmentProgress), count(NotificationGroup), count(Notification)) == (0, 0, 0)
    assert fake_sendgrid.received == []


def test_progress_going_backwards_is_refused(practitioner, patient):
    plan = create_plan(practitioner, patient)
    record(practitioner, plan, percent=50)
    with pytest.raises(ValidationError) as caught:
        record(practitioner, plan, percent=45)
    assert caught.value.errors == {"percent": "The plan is at 50% already; progress is recorded forward only"}
    assert count(TreatmentProgress) == 1


@pytest.mark.parametrize("status", [TreatmentPlanStatus.COMPLETED, TreatmentPlanStatus.STOPPED])
def test_no_progress_is_recorded_on_a_closed_plan(practitioner, patient, status):
    plan = create_plan(practitioner, patient)
    treatment_plans.close_plan(practitioner, plan.public_id, status, now=NOW)
    with pytest.raises(ValidationError) as caught:
        record(practitioner, plan)
    assert "active plan only" in caught.value.errors["plan"]
    assert (count(TreatmentProgress), count(NotificationGroup)) == (0, 0)


def test_a_closed_plan_cannot_be_closed_again(practitioner, patient):
    plan = create_plan(practitioner, patient)
    treatment_plans.close_plan(practitioner, plan.public_id, TreatmentPlanStatus.STOPPED, now=NOW)
    with pytest.raises(Conflict):
        treatment_plans.close_plan(practitioner, plan.public_id, TreatmentPlanStatus.COMPLETED, now=NOW)


def test_a_phase_of_another_plan_is_an_unknown_phase(practitioner, patient, other_patient):
    plan = create_plan(practitioner, patient)
    elsewhere = create_plan(practitioner, other_patient)
    with pytest.raises(ValidationError) as caught:
        treatment_plans.record_progress(practitioner, plan.public_id,
                                        {"phase_id": elsewhere.phases[0].id, "percent": 10}, now=NOW)
    assert caught.value.errors == {"phase_id": "Choose one of this plan's phases"}


def test_another_practitioners_patient_has_no_plan_to_them(practitioner, other_practitioner, patient):
    plan = create_plan(practitioner, patient)
    with pytest.raises(NotFound):
        create_plan(other_practitioner, patient)
    with pytest.raises(NotFound):
        record(other_practitioner, plan)
    with pytest.raises(NotFound):
        treatment_plans.visible_plan(other_practitioner, plan.public_id)
    assert count(TreatmentProgress) == 0


def test_the_current_phase_is_the_latest_records_or_else_the_days(practitioner, patient):
    plan = create_plan(practitioner, patient)
    assert plan.current_phase(date(2026, 12, 10)).name == "Pradhanakarma"
    record(practitioner, plan, phase=0, percent=15)
    db.session.expire_all()
    plan = treatment_plans.visible_plan(practitioner, plan.public_id)
    assert plan.current_phase(date(2026, 12, 10)).name == "Purvakarma"
    assert plan.latest_progress.percent == 15


@pytest.mark.parametrize(("phases", "field"), [
    ([], "phases"),
    ([{**PHASES[0], "ends_on": "2026-11-30"}], "phases.0.ends_on"),  # ends before it starts
    ([PHASES[0], {**PHASES[1], "starts_on": "2026-12-05"}], "phases.1.starts_on"),  # overlaps
    ([PHASES[1], PHASES[0]], "phases.1.starts_on"),  # out of order
    ([{**PHASES[0], "name": ""}], "phases.0.name"),
    ([{**PHASES[0], "name": "P" * 61}], "phases.0.name"),
    ([{**PHASES[0], "starts_on": "the first"}], "phases.0.starts_on"),
    ([{**PHASES[0], "description": "d" * 501}], "phases.0.description"),
])
def test_a_bad_plan_is_refused_at_its_phase_and_writes_nothing(practitioner, patient, phases, field):
    with pytest.raises(ValidationError) as caught:
        create_plan(practitioner, patient, phases=phases)
    assert field in caught.value.errors
    assert count(TreatmentPlan) == 0


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": ""}, "name"),
    ({"name": "N" * 81}, "name"),
    ({"name": "Panchakarma\x1b[2J"}, "name"),
    ({"patient_id": "Priya"}, "patient_id"),
])
def test_a_bad_plan_field_is_refused_by_name(practitioner, patient, fields, field):
    with pytest.raises(ValidationError) as caught:
        create_plan(practitioner, patient, **fields)
    assert field in caught.value.errors
    assert count(TreatmentPlan) == 0


@pytest.mark.parametrize(("fields", "field"), [
    ({"percent": "101"}, "percent"),
    ({"percent": "-1"}, "percent"),
    ({"percent": "forty"}, "percent"),
    ({"percent": "40.5"}, "percent"),
    ({"percent": ""}, "percent"),
    ({"phase_id": "Purvakarma"}, "phase_id"),
    ({"phase_id": "999999"}, "phase_id"),
    ({"next_milestone": "m" * 121}, "next_milestone"),
    ({"notes": "n" * 281}, "notes"),
])
def test_a_bad_progress_record_is_refused_by_field_and_sends_nothing(practitioner, patient, fields, field):
    plan = create_plan(practitioner, patient)
    raw = {"phase_id": plan.phases[0].id, "percent": "30", **fields}
    with pytest.raises(ValidationError) as caught:
        treatment_plans.record_progress(practitioner, plan.public_id, raw, now=NOW)
    assert field in caught.value.errors
    assert (count(TreatmentProgress), count(Notification)) == (0, 0)


def test_two_plans_started_at_the_same_moment_leave_one_active(app, practitioner, patient):
    practitioner_id, patient_id = practitioner.id, patient.id
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def start(name: str) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, practitioner_id)
                ready.wait(timeout=10)
                treatment_plans.create_plan(actor, {"patient_id": patient_id, "name": name, "phases": PHASES},
                                            now=NOW)
                outcomes.append("created")
            except ValidationError as error:
                outcomes.append(error.errors["patient_id"])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start, args=(name,)) for name in ("Panchakarma", "Rasayana")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("created") == 1
    [refusal] = [outcome for outcome in outcomes if outcome != "created"]
    assert "is still active" in refusal
    assert count(TreatmentPlan) == 1


def test_a_hindi_speaking_patient_reads_the_update_in_hindi(run_worker, practitioner):
    meera = factories.create_patient(name="Meera Iyer", email="meera@clinic.test", practitioner=practitioner,
                                     locale="hi", preferred_channels=["in_app"])
    plan = create_plan(practitioner, meera)
    record(practitioner, plan, percent=40, next_milestone="Virechana")
    run_worker()
    [item] = db.session.scalars(sa.select(Notification)).all()
    assert item.title == "उपचार प्रगति अपडेट - 40% पूर्ण"
    assert "आगे: Virechana।" in item.message
