"""Push through the worker to browsers (Web Push) and the app (FCM), against the fakes."""

import pytest
import sqlalchemy as sa

from app.channels.base import WebPushSubscription
from app.extensions import db
from app.models import Device, Notification
from app.models.status import Status
from app.vocabulary import Channel, DeviceKind
from tests import factories


@pytest.fixture
def web_push(fake_web_push, use_settings):
    use_settings(**fake_web_push.settings())
    return fake_web_push


@pytest.fixture
def browser_patient(practitioner):
    return factories.create_patient(name="Kavya Rao", email="kavya@clinic.test", practitioner=practitioner,
                                    preferred_channels=["in_app", "push"])


def add_browser(patient, subscription: WebPushSubscription) -> Device:
    device = Device(user_id=patient.id, kind=DeviceKind.WEB_PUSH.value, token=subscription.endpoint,
                    web_push_p256dh=subscription.p256dh, web_push_auth=subscription.auth)
    db.session.add(device)
    db.session.commit()
    return device


def push_to(practitioner, patient, run_worker) -> Notification:
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"], title="Dose due",
                          body="Time for your Ashwagandha.")
    run_worker()
    db.session.expire_all()
    return db.session.scalars(sa.select(Notification).where(Notification.channel == Channel.PUSH)  # not its fallback
                              .order_by(Notification.id.desc())).first()


def test_a_push_reaches_the_patients_browser_through_the_worker(run_worker, web_push, practitioner,
                                                                browser_patient):
    add_browser(browser_patient, web_push.subscribe())
    row = push_to(practitioner, browser_patient, run_worker)
    assert (row.status, row.provider) == (Status.SENT, "webpush")
    [received] = web_push.received
    assert received["payload"]["url"] == f"/inbox/{row.public_id}"


def test_a_patient_with_the_app_and_a_browser_gets_it_on_both(run_worker, web_push, fake_fcm, use_fake, practitioner,
                                                              patient):
    use_fake(fake_fcm)
    add_browser(patient, web_push.subscribe())
    row = push_to(practitioner, patient, run_worker)
    assert row.status is Status.SENT
    assert (len(fake_fcm.received), len(web_push.received)) == (1, 1)


def test_a_browser_subscription_the_push_service_says_is_gone_is_invalidated(run_worker, web_push, practitioner,
                                                                            browser_patient):
    subscription = web_push.subscribe()
    device = add_browser(browser_patient, subscription)
    web_push.fail_for(subscription.endpoint.rsplit("/", 1)[-1], "permanent", status=410)
    row = push_to(practitioner, browser_patient, run_worker)
    db.session.refresh(device)
    assert row.status is Status.FAILED
    assert device.invalidated_at is not None


def test_without_vapid_keys_a_browser_cannot_be_reached_and_the_push_fails_saying_why(
    run_worker, fake_web_push, practitioner, browser_patient
):
    add_browser(browser_patient, fake_web_push.subscribe())
    row = push_to(practitioner, browser_patient, run_worker)
    assert row.status is Status.FAILED
    assert "VAPID" in row.error_message
    assert fake_web_push.received == []
