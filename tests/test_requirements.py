"""The lock files hold what the requirements ask for, so `make` installs exactly what was pinned."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;#]+)")
PAIRS = [("requirements.txt", "requirements.lock"), ("requirements-embedded.txt", "requirements-embedded.lock"),
         ("requirements-dev.txt", "requirements-dev.lock")]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """{package: version} pinned in a requirements or lock file, following `-r` includes."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line.removeprefix("-r ").strip()))
        elif match := PIN.match(line):
            found[normalised(match.group(1))] = match.group(2)
    return found


@pytest.mark.parametrize(("requirements", "lock"), PAIRS)
def test_every_pin_is_in_its_lock_at_the_same_version(requirements, lock):
    locked = pins(ROOT / lock)
    differing = {name: (version, locked.get(name)) for name, version in pins(ROOT / requirements).items()
                 if locked.get(name) != version}
    assert not differing, f"{requirements} and {lock} disagree ({differing}): run `make lock`"


@pytest.mark.parametrize("lock", [lock for _, lock in PAIRS])
def test_every_locked_package_has_its_hashes(lock):
    text = (ROOT / lock).read_text()
    entries = re.findall(r"^[A-Za-z0-9._-]+==\S+ \\\n((?:\s+--hash=sha256:\w+(?: \\)?\n)+)", text, re.M)
    assert len(entries) == len(pins(ROOT / lock))
