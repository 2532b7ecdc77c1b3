"""Operator commands."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, User
from app.models.status import Status
from app.vocabulary import Role
from tests import passwords


def test_create_user_makes_a_practitioner(app):
    result = app.test_cli_runner().invoke(args=["create-user", "--role", "practitioner", "--name", "Dr. Rao",
                                                "--email", "rao@clinic.example", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "rao@clinic.example"))
    assert user.role is Role.PRACTITIONER and user.password_hash.startswith("$argon2")


def test_create_user_explains_bad_input(app):
    result = app.test_cli_runner().invoke(args=["create-user", "--role", "patient", "--name", "X",
                                                "--email", "not-an-email", "--phone", "12", "--password", ""])
    assert result.exit_code != 0
    assert "email" in result.output and "phone" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_send_from_the_shell_goes_through_the_pipeline(app, patient):
    result = app.test_cli_runner().invoke(args=["send", "--to", patient.email, "--type", "health_alert",
                                                "--channel", "in_app", "--title", "Heat", "--body", "Drink water."])
    assert result.exit_code == 0, result.output
    row = db.session.scalar(sa.select(Notification))
    assert row.status is Status.QUEUED and row.job_id


def test_send_reports_suppressed_channels(app, practitioner):
    from tests import factories

    nophone = factories.create_patient(practitioner=practitioner, phone=None)
    result = app.test_cli_runner().invoke(args=["send", "--to", str(nophone.id), "--type", "treatment_update",
                                                "--channel", "sms", "--body", "Hello"])
    assert result.exit_code == 0
    assert "suppressed (no phone number)" in result.output


def test_send_refuses_bad_input_clearly(app, patient):
    result = app.test_cli_runner().invoke(args=["send", "--to", patient.email, "--type", "treatment_update",
                                                "--body", "x", "--at", "yesterday"])
    assert result.exit_code != 0
    assert "scheduled_at" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_send_refuses_unparseable_data(app, patient):
    result = app.test_cli_runner().invoke(args=["send", "--to", patient.email, "--type", "appointment_reminder",
                                                "--data", "{not json"])
    assert result.exit_code != 0 and "JSON" in result.output


def refused_in_one_line(app, *args: str) -> str:
    """Run `flask send ...`, expect a one-line refusal (no traceback) and nothing written."""
    result = app.test_cli_runner().invoke(args=["send", "--type", "treatment_update", "--body", "Rest well", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a ClickException, not a crash
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    return result.output


def test_send_refuses_control_characters_in_data_in_one_line(app, patient):
    output = refused_in_one_line(app, "--to", patient.email, "--data", '{"name": "\\u0000"}')
    assert "data.name: “Name”: remove the control characters from this field" in output


@pytest.mark.parametrize("data", ["[1,2]", '"when"', "7", "[" * 100_000])
def test_send_refuses_data_that_is_not_an_object(app, patient, data):
    output = refused_in_one_line(app, "--to", patient.email, "--data", data)
    assert "--data" in output


def test_send_refuses_a_time_at_the_start_of_the_calendar(app, patient):
    output = refused_in_one_line(app, "--to", patient.email, "--at", "0001-01-01T00:00:00+05:30")
    assert "scheduled_at: Enter a date between 1970 and 2999" in output


@pytest.mark.parametrize("recipient", ["9" * 25, "²", "-4", "priya"])
def test_send_refuses_a_recipient_that_is_no_email_or_id(app, patient, recipient):
    output = refused_in_one_line(app, "--to", recipient)
    assert "--to takes a patient's email, id or 'all'" in output


def test_send_refuses_an_email_with_control_characters_as_unknown(app, patient):
    assert "no user with email" in refused_in_one_line(app, "--to", "priya\x00@clinic.test")


def test_seed_demo_creates_the_clinic_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert "Created the demo clinic." in first.output and "Created" not in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 8


def test_seed_demo_prints_the_logins_on_every_run(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo"]).output
    assert "Demo logins (password for all: ayurveda-demo):" in again
    assert "admin@sutra.example" in again and "priya@sutra.example" in again


def test_seed_demo_leaves_out_demo_accounts_that_were_deactivated(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    db.session.execute(sa.update(User).where(User.email == "priya@sutra.example").values(active=False))
    db.session.commit()
    again = runner.invoke(args=["seed-demo"]).output
    assert "admin@sutra.example" in again and "priya@sutra.example" not in again


def test_seed_demo_prints_no_logins_where_the_clinic_is_not_the_demo(app, admin):
    assert "Demo logins" not in app.test_cli_runner().invoke(args=["seed-demo"]).output


def test_seed_demo_sends_some_notifications_through_the_pipeline(app, run_worker):
    app.test_cli_runner().invoke(args=["seed-demo"])
    run_worker()
    statuses = {n.status for n in db.session.scalars(sa.select(Notification))}
    assert Status.SCHEDULED in statuses and Status.DELIVERED in statuses


@pytest.mark.parametrize("password,message", passwords.REFUSED)
def test_create_user_refuses_each_weak_password_with_its_rule(app, password, message):
    result = app.test_cli_runner().invoke(args=["create-user", "--role", "practitioner", "--name", passwords.NAME,
                                                "--email", passwords.EMAIL, "--password", password])
    assert result.exit_code == 1
    assert f"password: {message}" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
