"""The dev outbox: what console providers recorded instead of sending."""

from tests import factories


def test_the_outbox_lists_what_a_console_send_recorded(login, admin, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email", "sms"],
                          title="Your next session", body="Bring your reports.")
    run_worker()
    body = login(admin).get("/admin/outbox").get_data(as_text=True)
    email = body[body.index('id="outbox-email"'):body.index('id="outbox-push"')]
    assert "priya@clinic.test" in email and "Your next session" in email and "Bring your reports." in email
    assert "+919876543210" in body[body.index('id="outbox-sms"'):body.index('id="outbox-email"')]


def test_email_html_is_shown_in_a_sandboxed_frame_and_text_is_escaped(login, admin, run_worker, practitioner,
                                                                       patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"],
                          title="<script>alert(1)</script>")
    run_worker()
    body = login(admin).get("/admin/outbox").get_data(as_text=True)
    assert '<iframe class="outbox-html" sandbox=""' in body and 'srcdoc="&lt;' in body
    assert "<script>alert(1)</script>" not in body


def test_only_channels_on_the_console_provider_are_shown(login, admin, use_settings):
    use_settings(SMS_PROVIDER="twilio")
    body = login(admin).get("/admin/outbox").get_data(as_text=True)
    assert 'id="outbox-email"' in body and 'id="outbox-sms"' not in body


def test_a_channel_with_nothing_recorded_says_so(login, admin):
    assert "Nothing sent on Push yet." in login(admin).get("/admin/outbox").get_data(as_text=True)


def test_with_real_providers_everywhere_the_page_says_so(login, admin, use_settings):
    use_settings(SMS_PROVIDER="twilio", EMAIL_PROVIDER="sendgrid", PUSH_PROVIDER="fcm")
    body = login(admin).get("/admin/outbox").get_data(as_text=True)
    assert "Real providers are configured" in body and "outbox-email" not in body
