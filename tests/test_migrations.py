"""The schema the migrations build is the schema the models describe."""

import re
from pathlib import Path

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
