"""The SQLite database, its companion files and the instance folder are the owner's alone."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.file_modes import private_directory
from tests.conftest import base_settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service (0022: new files world-readable)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def write_a_row(url: str, redis_url: str) -> None:
    app = create_app({**base_settings(url, redis_url)})
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        db.session.execute(sa.text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        # While a connection is open, the write-ahead log and shared-memory files exist.
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT x FROM t")).all()
            for suffix in ("", "-wal", "-shm"):
                assert mode(url.removeprefix("sqlite:///") + suffix) == 0o600, suffix
        db.engine.dispose()


def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(tmp_path, redis_url, usual_umask):
    folder = tmp_path / "instance"
    write_a_row(f"sqlite:///{folder / 'sutra.db'}", redis_url)
    assert mode(folder) == 0o700


def test_an_existing_world_readable_database_is_made_owner_only(tmp_path, redis_url, usual_umask):
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    (tmp_path / "old.db-wal").touch(mode=0o644)
    write_a_row(f"sqlite:///{path}", redis_url)
    assert mode(path) == 0o600


def count_rows_from_another_process(path) -> int:
    """Open the database in a process of its own, count, and close it again, as a worker does."""
    script = ("import sqlite3, sys\n"
              "connection = sqlite3.connect(sys.argv[1])\n"
              "print(connection.execute('SELECT count(*) FROM t').fetchone()[0])\n"
              "connection.close()\n")
    return int(subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                              check=True, timeout=60).stdout)


def test_building_another_app_on_an_open_database_keeps_this_processs_writes_visible(tmp_path, redis_url):
    path = tmp_path / "shared.db"
    url = f"sqlite:///{path}"
    app = create_app(base_settings(url, redis_url))
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        connection.commit()
        create_app(base_settings(url, redis_url))  # a test's own app, or a second app in one process
        assert count_rows_from_another_process(path) == 1
        connection.execute(sa.text("INSERT INTO t VALUES (2)"))
        connection.commit()
        assert count_rows_from_another_process(path) == 2
    with app.app_context():
        db.engine.dispose()


def test_a_private_directory_loses_group_and_other_access(tmp_path, usual_umask):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    private_directory(folder)
    assert mode(folder) == 0o700
