"""Files that hold patient data are readable by the service's own user only."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
# Files SQLite keeps beside the database while it writes; they hold the same rows.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> None:
    """Create `path` for its owner only, or take group and others' access away if it exists."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIRECTORY)


def private_sqlite_database(path: Path) -> None:
    """Create the database file owner-only before SQLite does, and tighten an existing one.

    SQLite creates a new database with the umask's mode (usually 0644, world-readable) and
    gives its -wal and -shm files the database file's mode, so creating the file 0600 first
    keeps all three private. Files an older version left readable are tightened.

    An existing database is never opened here: closing any descriptor of the file drops every
    POSIX lock this process holds on it, SQLite's included. Another process closing its last
    connection would then delete the write-ahead log under this process's open connections,
    whose later writes no other process sees (and whose new connections fail with "disk I/O
    error"), as happens when an app is built beside another already connected to the file.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists():
            _tighten(file, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    if path.stat().st_mode & 0o777 & ~mode:
        os.chmod(path, mode)
