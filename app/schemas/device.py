"""A browser's push subscription, as `PushSubscription.toJSON()` gives it to the page.

Checked before it is kept, so delivery never meets keys it cannot encrypt for: the endpoint is
an https URL of a push service, p256dh a P-256 public key (65 bytes, uncompressed), auth a
16-byte secret, both base64url.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict

from app.schemas.fields import text

ENDPOINT_MAX = 2048


def _endpoint(raw: Any) -> str:
    value = text(multiline=False)(raw)
    parts = urlsplit(value)
    if len(value) > ENDPOINT_MAX or parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"A push endpoint is an https URL of at most {ENDPOINT_MAX} characters")
    return value


def _key_of(size: int, what: str, *, first_byte: int | None = None):
    def parse(raw: Any) -> str:
        value = text(multiline=False)(raw)
        try:
            decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != size or (first_byte is not None and decoded[0] != first_byte):
            raise ValueError(f"Not a browser's {what}")
        return value

    return parse


class BrowserKeys(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    p256dh: Annotated[str, BeforeValidator(_key_of(65, "public key", first_byte=0x04))]
    auth: Annotated[str, BeforeValidator(_key_of(16, "auth secret"))]


class BrowserSubscription(BaseModel):
    """What the inbox page posts when the patient turns notifications on (browsers add fields,
    such as expirationTime, that are not needed and are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    endpoint: Annotated[str, BeforeValidator(_endpoint)]
    keys: BrowserKeys


class BrowserUnsubscription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    endpoint: Annotated[str, BeforeValidator(_endpoint)]
