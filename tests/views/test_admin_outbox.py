"""The dev outbox: what console providers recorded instead of sending."""

from app.services.outbox import SendRequest, create_send


def send(run_worker, sender, patient, channels, title="Your next session", body="Bring your reports."):
    create_send(sender, SendRequest(type="treatment_update", recipient_ids=[patient.id], channels=channels,
                                    title=title, body=body))
    run_worker()


def test_the_outbox_lists_what_a_console_send_recorded(login, admin, run_worker, practitioner, patient):
    send(run_worker, practitioner, patient, ["email", "sms"])
    body = login(admin).get("/admin/outbox").get_data(as_text=True)
    email = body[body.index('id="outbox-email"'):body.index('id="outbox-push"')]
    assert "priya@clinic.test" in email and "Your next session" in email and "Bring your reports." in email
    assert "+919876543210" in body[body.index('id="outbox-sms"'):body.index('id="outbox-email"')]


def test_email_html_is_shown_in_a_sandboxed_frame_and_text_is_escaped(login, admin, run_worker, practitioner,
                                                                       patient):
    send(run_worker, practitioner, patient, ["email"], title="<script>alert(1)</script>")
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
