"""Sign-in throttling per account: an exponential wait after repeated failures, which a browser
that signed in to the account before does not share, and a word to the user afterwards."""

import time

import pytest

from app.services import sign_in_throttle as throttle
from tests import factories
from tests.conftest import csrf_token_from

WRONG = "not the password at all"


def attempt(client, email: str, password: str = factories.TEST_PASSWORD):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def fail(client, email: str, times: int) -> None:
    """Wrong passwords: refused as wrong, or (after five) as too many."""
    for _ in range(times):
        assert attempt(client, email, WRONG).status_code in (422, 429)


def sign_out(client) -> None:
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


@pytest.fixture
def known_browser(app, patient):
    """The patient's own browser: it has signed in before (and signed out since)."""
    client = app.test_client()
    assert attempt(client, patient.email).status_code == 302
    sign_out(client)
    return client


def test_after_five_failures_the_account_must_wait_even_with_the_right_password(client, patient):
    assert [attempt(client, patient.email, WRONG).status_code for _ in range(5)] == [422] * 5
    response = attempt(client, patient.email)
    assert response.status_code == 429
    assert "too many failed sign-ins. Try again in 30 seconds." in response.get_data(as_text=True)


def test_the_wait_applies_to_every_address_the_attacker_uses(app, patient):
    fail(app.test_client(), patient.email, 5)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert attempt(elsewhere, patient.email).status_code == 429


def test_an_unknown_account_gets_the_same_answers(client):
    fail(client, "nobody@clinic.test", 5)
    response = attempt(client, "nobody@clinic.test")
    assert response.status_code == 429
    assert "too many failed sign-ins. Try again in 30 seconds." in response.get_data(as_text=True)


def test_the_wait_doubles_with_each_failure_up_to_fifteen_minutes(app):
    account = throttle.account_key("priya@clinic.test")
    waits = []
    for _ in range(11):
        throttle.record_failure(account, None)
        waits.append(throttle.seconds_to_wait(account, None))
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]


def test_attempts_sent_together_get_one_try_per_wait(app, use_settings):
    use_settings(LOGIN_ACCOUNT_DELAY_SECONDS=1)
    account = throttle.account_key("priya@clinic.test")
    for _ in range(5):
        throttle.record_failure(account, None)
    time.sleep(1.1)
    assert throttle.seconds_to_wait(account, None) == 0
    assert throttle.seconds_to_wait(account, None) > 0


def test_after_the_wait_the_right_password_signs_in(client, patient, use_settings):
    use_settings(LOGIN_ACCOUNT_DELAY_SECONDS=1)
    fail(client, patient.email, 5)
    assert attempt(client, patient.email).status_code == 429
    time.sleep(1.1)
    assert attempt(client, patient.email).status_code == 302


def test_the_email_is_matched_as_sign_in_matches_it(client, patient):
    fail(client, patient.email.upper(), 5)
    assert attempt(client, f"  {patient.email}  ").status_code == 429


def test_a_browser_that_signed_in_before_is_not_blocked_by_failures_elsewhere(app, known_browser, patient):
    fail(app.test_client(), patient.email, 8)
    assert attempt(known_browser, patient.email).status_code == 302


def test_a_known_browser_has_its_own_wait_after_its_own_failures(known_browser, patient):
    fail(known_browser, patient.email, 5)
    assert attempt(known_browser, patient.email).status_code == 429


def test_a_browser_known_for_another_account_is_blocked_like_any_other(app, patient, other_patient):
    browser = app.test_client()
    assert attempt(browser, other_patient.email).status_code == 302
    sign_out(browser)
    fail(app.test_client(), patient.email, 5)
    assert attempt(browser, patient.email).status_code == 429


def test_a_forged_known_device_cookie_is_ignored(app, patient):
    fail(app.test_client(), patient.email, 5)
    forger = app.test_client()
    forger.set_cookie(throttle.KNOWN_DEVICE_COOKIE, "eyJpZCI6ImEiLCJhY2NvdW50cyI6W119.forged.signature")
    assert attempt(forger, patient.email).status_code == 429


def test_the_known_device_cookie_is_http_only_and_same_site(client, patient):
    response = attempt(client, patient.email)
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith(f"{throttle.KNOWN_DEVICE_COOKIE}="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert patient.email not in header


def test_the_user_is_told_of_many_failures_at_their_next_sign_in(app, known_browser, patient):
    fail(app.test_client(), patient.email, 7)
    attempt(known_browser, patient.email)
    page = known_browser.get("/inbox").get_data(as_text=True)
    assert "There were 7 failed sign-in attempts on your account since" in page


def test_the_user_is_told_only_once(app, known_browser, patient):
    fail(app.test_client(), patient.email, 7)
    attempt(known_browser, patient.email)
    known_browser.get("/inbox")
    sign_out(known_browser)
    attempt(known_browser, patient.email)
    assert "failed sign-in attempts" not in known_browser.get("/inbox").get_data(as_text=True)


def test_a_few_typing_mistakes_are_not_reported(client, patient):
    fail(client, patient.email, 2)
    attempt(client, patient.email)
    assert "failed sign-in attempts" not in client.get("/inbox").get_data(as_text=True)


def test_successful_sign_ins_do_not_use_up_the_limit_per_address(app, practitioner):
    for person in [factories.create_practitioner() for _ in range(12)]:
        assert attempt(app.test_client(), person.email).status_code == 302
