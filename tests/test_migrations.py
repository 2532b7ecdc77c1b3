"""The schema the migrations build is the schema the models describe."""

import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_are_numbered_in_order_and_chained():
    files = sorted(VERSIONS.glob("*.py"))
    assert files, "no migrations"
    previous = None
    for number, path in enumerate(files, start=1):
        assert path.name.startswith(f"{number:04d}_"), path.name
        source = path.read_text()
        assert re.search(rf"^revision = '{number:04d}'$", source, re.M), path.name
        expected_down = "None" if previous is None else f"'{previous}'"
        assert re.search(rf"^down_revision = {expected_down}$", source, re.M), path.name
        previous = f"{number:04d}"


def test_rows_claimed_while_the_lease_migration_runs_keep_their_deadline(tmp_path, redis_url):
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import base_settings

    app = create_app(base_settings(f"sqlite:///{tmp_path / 'old.db'}", redis_url))
    claimed_at = datetime(2026, 12, 1, 9, 30)
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO users (id, role, name, timezone, locale, active, preferred_channels, created_at)"
                " VALUES (1, 'patient', 'P', 'UTC', 'en', 1, '[]', :at)",
                "INSERT INTO notification_groups (id, public_id, request_fingerprint, type, title, recipient_count,"
                " created_at) VALUES (1, 'g', 'f', 'treatment_update', 't', 1, :at)",
                *(
                    "INSERT INTO notifications (id, public_id, group_id, user_id, type, channel, priority, title,"
                    f" message, data, status, attempts, max_attempts, created_at, updated_at) VALUES ({n}, 'n{n}', 1,"
                    f" 1, 'treatment_update', 'sms', 'normal', 't', 'm', '{{}}', '{status}', 0, 5, :at, :at)"
                    for n, status in ((1, "sending"), (2, "queued"))
                ),
            ):
                connection.execute(sa.text(statement), {"at": claimed_at})
        upgrade(revision="0005")
        with db.engine.connect() as connection:
            leases = dict(connection.execute(
                sa.select(sa.column("id"), sa.column("lease_expires_at", sa.DateTime())).select_from(
                    sa.table("notifications"))).all())
        db.engine.dispose()
    assert leases == {1: claimed_at + timedelta(seconds=660), 2: None}


def test_a_new_revision_is_numbered_after_the_head(tmp_path, redis_url):
    import shutil

    from flask_migrate import revision

    from app import create_app
    from tests.conftest import base_settings

    directory = tmp_path / "migrations"
    shutil.copytree(VERSIONS.parent, directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = len(list(VERSIONS.glob("*.py")))
    app = create_app(base_settings(f"sqlite:///{tmp_path / 'new.db'}", redis_url))
    with app.app_context():
        revision(directory=str(directory), message="add clinic settings")
    created = directory / "versions" / f"{head + 1:04d}_add_clinic_settings.py"
    source = created.read_text()
    assert re.search(rf"^revision = '{head + 1:04d}'$", source, re.M)
    assert re.search(rf"^down_revision = '{head:04d}'$", source, re.M)


def test_a_patients_preferred_channels_become_their_choice_for_every_type(tmp_path, redis_url):
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import base_settings

    app = create_app(base_settings(f"sqlite:///{tmp_path / 'old.db'}", redis_url))
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (id, role, name, timezone, locale, active, preferred_channels, created_at)"
                " VALUES (1, 'patient', 'P', 'UTC', 'en', 1, '[\"in_app\", \"push\", \"sms\"]', :at)"),
                {"at": datetime(2026, 12, 1)})
        upgrade(revision="0015")
        with db.engine.connect() as connection:
            choices = connection.execute(sa.select(sa.column("channel_choices", sa.JSON())).select_from(
                sa.table("users"))).scalar_one()
        db.engine.dispose()
    assert choices == {kind: ["sms", "push"] for kind in (
        "appointment_reminder", "appointment_confirmation", "appointment_cancellation", "treatment_update",
        "medication_reminder", "progress_update")}


def test_unedited_treatment_update_templates_take_the_progress_defaults_and_edited_ones_stay(tmp_path, redis_url):
    from flask_migrate import upgrade

    from app import create_app
    from app.services.default_templates import DEFAULT_TEMPLATES
    from app.vocabulary import Channel, NotificationType
    from tests.conftest import base_settings

    app = create_app(base_settings(f"sqlite:///{tmp_path / 'old.db'}", redis_url))
    old_email = ("An update on your treatment",
                 "Dear {{ patient_name }},\n\n{{ practitioner_name }} has an update on your treatment"
                 "{% if therapy is defined %} ({{ therapy }}){% endif %}.{% if note is defined %}\n\n{{ note }}"
                 "{% endif %}\n\n{{ clinic }}")
    edited_in_app = ("Your treatment", "Dear {{ patient_name }}, see your treatment notes.")
    with app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as connection:
            for channel, (subject, body) in (("email", old_email), ("in_app", edited_in_app)):
                connection.execute(sa.text(
                    "INSERT INTO templates (key, channel, locale, subject, body, updated_at)"
                    " VALUES ('treatment_update', :channel, 'en', :subject, :body, :at)"),
                    {"channel": channel, "subject": subject, "body": body, "at": datetime(2026, 12, 1)})
        upgrade(revision="0019")
        with db.engine.connect() as connection:
            rows = {channel: (subject, body) for channel, subject, body in connection.execute(sa.text(
                "SELECT channel, subject, body FROM templates"))}
        db.engine.dispose()
    assert rows["email"] == DEFAULT_TEMPLATES[(NotificationType.TREATMENT_UPDATE, Channel.EMAIL, "en")]
    assert rows["in_app"] == edited_in_app
