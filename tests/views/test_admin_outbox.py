"""The dev outbox: what console providers recorded instead of sending."""

import pytest

from tests import factories
from tests.pages import one, text


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def channel_sections(page) -> list[str]:
    return [str(section["id"]) for section in page.select("section.outbox-channel")]


def test_the_outbox_lists_what_a_console_send_recorded(admin_pages, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email", "sms"],
                          title="Your next session", body="Bring your reports.")
    run_worker()
    page = admin_pages.get("/admin/outbox")
    email = text(one(page, "#outbox-email .outbox-entry"))
    assert "priya@clinic.test" in email and "Your next session" in email and "Bring your reports." in email
    assert "+919876543210" in text(one(page, "#outbox-sms .outbox-entry"))


def test_email_html_is_shown_in_a_sandboxed_frame_and_text_is_escaped(admin_pages, run_worker, practitioner,
                                                                       patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"],
                          title="<script>alert(1)</script>")
    run_worker()
    page = admin_pages.get("/admin/outbox")
    frame = one(page, "#outbox-email iframe.outbox-html")
    assert frame.has_attr("sandbox") and not frame["sandbox"]  # sandboxed with no exception
    assert frame["srcdoc"].startswith("<")
    assert page.select("main script") == []


def test_only_channels_on_the_console_provider_are_shown(admin_pages, use_settings):
    use_settings(SMS_PROVIDER="twilio")
    assert channel_sections(admin_pages.get("/admin/outbox")) == ["outbox-email", "outbox-push"]


def test_a_channel_with_nothing_recorded_says_so(admin_pages):
    assert text(one(admin_pages.get("/admin/outbox"), "#outbox-push .empty")) == "Nothing sent on Push yet."


def test_with_real_providers_everywhere_the_page_says_so(admin_pages, use_settings):
    use_settings(SMS_PROVIDER="twilio", EMAIL_PROVIDER="sendgrid", PUSH_PROVIDER="fcm")
    page = admin_pages.get("/admin/outbox")
    assert "Real providers are configured" in text(page.main) and channel_sections(page) == []
