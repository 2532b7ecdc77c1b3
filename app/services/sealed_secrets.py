"""Secrets the database keeps for us, sealed with a key derived from SECRET_KEY.

A copy of the database alone (a backup, a dump) then carries no usable authenticator secret.
The key is derived with HKDF for this one purpose, so it is never the key that signs sessions.
A secret sealed under one SECRET_KEY cannot be opened under another: after changing
SECRET_KEY, staff with two-factor sign-in use a recovery code once and set up their
authenticator again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_PURPOSE = b"sutra-notify: sealed secrets in the database"


def seal(secret: str) -> str:
    """`secret`, encrypted and authenticated, as text for a database column."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    """The secret `seal` gave `sealed` for, or None when it cannot be opened (another key, damage)."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))
