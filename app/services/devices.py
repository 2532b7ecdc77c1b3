"""A patient's push devices: the browsers where they turned notifications on.

Registering is idempotent (a browser posts its subscription again on every visit, so a
subscription a push service renewed or a device that was invalidated comes back), and a
subscription belongs to whoever registered it last: a browser has one subscription, and the
person signed in on it now is the one it should reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models.user import Device, User
from app.schemas import read
from app.schemas.device import BrowserSubscription, BrowserUnsubscription
from app.vocabulary import DeviceKind


def register_browser(patient: User, raw: Mapping[str, Any]) -> Device:
    """Keep this browser's subscription for `patient`; return the device.

    Raises:
        ValidationError: not a subscription a browser could have given.
    """
    subscription = read(BrowserSubscription, raw)
    device = _browser(subscription.endpoint)
    if device is None:
        device = Device(kind=DeviceKind.WEB_PUSH.value, token=subscription.endpoint, label="Browser")
        db.session.add(device)
    device.user_id = patient.id
    device.web_push_p256dh = subscription.keys.p256dh
    device.web_push_auth = subscription.keys.auth
    device.invalidated_at = None
    db.session.commit()
    return device


def unregister_browser(patient: User, raw: Mapping[str, Any]) -> bool:
    """Forget this browser's subscription if it is the patient's; True when one was removed.

    Raises:
        ValidationError: not an endpoint a browser could have given.
    """
    endpoint = read(BrowserUnsubscription, raw).endpoint
    device = _browser(endpoint)
    if device is None or device.user_id != patient.id:
        return False
    db.session.delete(device)
    db.session.commit()
    return True


def _browser(endpoint: str) -> Device | None:
    return db.session.scalar(
        sa.select(Device).where(Device.kind == DeviceKind.WEB_PUSH.value, Device.token == endpoint)
    )
