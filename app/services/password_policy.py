"""What makes a password acceptable: one rule set for every way a password is set.

It follows NIST SP 800-63B: length, not composition. A password is 12 to 128 characters, is
not one of the most common passwords (nor one of them with only digits or symbols added before
or after, like "iloveyou2024!"), and does not contain the account holder's name or the part of
their email before the @. There are no rules about character classes: they push people to
"Password1!" and add nothing to a long phrase.

The list of common passwords is `app/data/common-passwords.txt.gz` (its source is in
`app/data/README.md`); it is read on first use, not at import.
"""

from __future__ import annotations

import gzip
import re
import string
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
# Name parts shorter than this ("Dr", "K") are titles and initials: refusing every password that
# contains them would refuse good passwords and protect nothing.
SHORTEST_PERSONAL_PART = 3
_PADDING = string.digits + string.punctuation + string.whitespace

TOO_SHORT = (f"Use at least {MIN_LENGTH} characters. A few words that mean something to you "
             "(but not your name) make a long password that is easy to remember")
TOO_LONG = f"Use at most {MAX_LENGTH} characters"
TOO_COMMON = ("This is one of the most common passwords, so it is among the first anyone guessing "
              "would try: choose another")
HAS_NAME = "A password must not contain the account holder's name: choose another"
HAS_EMAIL = "A password must not contain the email address or the part of it before the @: choose another"


def password_problem(password: str, *, name: str | None, email: str | None) -> str | None:
    """Why `password` may not be used by the account with this name and email, or None.

    The first rule broken is named, so the person setting it knows what to change.
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    lowered = password.lower()
    if _is_common(lowered):
        return TOO_COMMON
    if _contains_any(lowered, _parts(name or "")):
        return HAS_NAME
    local_part = (email or "").rpartition("@")[0] or (email or "")
    if _contains_any(lowered, [local_part.lower(), *_parts(local_part)]):
        return HAS_EMAIL
    return None


def _is_common(lowered: str) -> bool:
    common = _common_passwords()
    core = lowered.strip(_PADDING)
    return lowered in common or (bool(core) and core in common)


def _parts(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _contains_any(lowered: str, parts: list[str]) -> bool:
    return any(len(part) >= SHORTEST_PERSONAL_PART and part in lowered for part in parts)


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())
