"""Operator commands."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, User
from app.models.enums import Role
from app.models.status import Status


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


def test_seed_demo_runs_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert "admin@sutra.example" in first.output
    assert "already there" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 8


def test_seed_demo_sends_some_notifications_through_the_pipeline(app, run_worker):
    app.test_cli_runner().invoke(args=["seed-demo"])
    run_worker()
    statuses = {n.status for n in db.session.scalars(sa.select(Notification))}
    assert Status.SCHEDULED in statuses and Status.DELIVERED in statuses
