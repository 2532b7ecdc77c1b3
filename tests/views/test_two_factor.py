"""Two-factor sign-in for staff: setting it up, signing in with a code, recovery codes, turning it off."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import LoginSession, RecoveryCode
from app.services.sealed_secrets import unseal
from tests import factories
from tests.conftest import csrf_token_from, log_in
from tests.pages import field_error, one, text, texts


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def post_form(client, path: str, data: dict, page: str):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def enter_code(client, code: str):
    return post_form(client, "/login/code", {"code": code}, page="/login/code")


@pytest.fixture
def enrolled(practitioner) -> factories.Enrolment:
    return factories.enrol_two_factor(practitioner)


@pytest.fixture
def half_signed_in(client, practitioner, enrolled):
    """A client that gave the enrolled practitioner's right password and owes the code."""
    response = log_in(client, practitioner)
    assert response.headers["Location"] == "/login/code"
    return client


# --- setting it up --------------------------------------------------------------------------------


def setup_page(pages):
    """The set-up page and the key it shows (as an app would read it, without its spaces)."""
    page = pages.get("/account/two-factor/setup")
    return page, text(one(page, "#totp-secret")).replace(" ", "")


def test_patients_are_not_offered_two_factor_sign_in(client_request, patient):
    pages = client_request.login(patient)
    assert pages.get("/account").select("#two-factor-heading") == []
    pages.get("/account/two-factor/setup", expected_status=403)


def test_staff_are_offered_it_on_their_account_page(client_request, practitioner):
    page = client_request.login(practitioner).get("/account")
    assert one(page, "section:has(#two-factor-heading) a")["href"] == "/account/two-factor/setup"


def test_the_setup_page_shows_a_qr_code_drawn_inline_and_the_key_as_text(client_request, practitioner):
    page, secret = setup_page(client_request.login(practitioner))
    assert one(page, "svg.qr-code") and page.select("img") == []
    assert len(secret) == 32


def test_reloading_the_setup_page_keeps_the_key_already_scanned(client_request, practitioner):
    pages = client_request.login(practitioner)
    assert setup_page(pages)[1] == setup_page(pages)[1]


def test_a_wrong_code_does_not_turn_it_on(client_request, practitioner):
    pages = client_request.login(practitioner)
    _, secret = setup_page(pages)
    page = pages.post("/account/two-factor/setup", data={"code": wrong(factories.code_for(secret))},
                      expected_status=422)
    assert field_error(page, "code").startswith("That code is not right")
    assert not factories.reload(practitioner).two_factor_enabled


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(client_request, practitioner):
    pages = client_request.login(practitioner)
    _, secret = setup_page(pages)
    page = pages.post("/account/two-factor/setup", data={"code": factories.code_for(secret)}, expected_status=200)
    codes = texts(page, "#recovery-codes li code")
    assert len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    assert factories.reload(practitioner).two_factor_enabled
    account = text(pages.get("/account"))
    assert not any(code in account for code in codes)


def test_the_key_is_stored_sealed(practitioner, enrolled):
    db.session.refresh(practitioner)
    assert enrolled.secret not in practitioner.totp_secret
    assert unseal(practitioner.totp_secret) == enrolled.secret


def test_recovery_codes_are_stored_as_argon2_hashes(practitioner, enrolled):
    hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)


def test_the_setup_form_carries_a_csrf_token(login, practitioner):
    client = login(practitioner)
    assert csrf_token_from(client.get("/account/two-factor/setup").get_data(as_text=True))
    assert client.post("/account/two-factor/setup", data={"code": "123456"}).status_code == 400


# --- signing in ------------------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_an_enrolled_user_in(client, practitioner, enrolled):
    response = log_in(client, practitioner)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/monitor").headers["Location"].startswith("/login")


def test_a_sign_in_session_opens_only_once_the_code_is_right(half_signed_in, enrolled):
    def sessions() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession))

    enter_code(half_signed_in, wrong(factories.code_for(enrolled.secret)))
    assert sessions() == 0
    enter_code(half_signed_in, factories.code_for(enrolled.secret))
    assert sessions() == 1


@pytest.mark.parametrize("path", ["/monitor", "/inbox", "/compose", "/account", "/admin/log"])
def test_a_half_signed_in_user_can_open_no_other_page(half_signed_in, path):
    assert half_signed_in.get(path).headers["Location"].startswith("/login")


def test_the_right_code_signs_in(half_signed_in, enrolled):
    response = enter_code(half_signed_in, factories.code_for(enrolled.secret))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert half_signed_in.get("/monitor").status_code == 200


def test_the_code_step_keeps_where_the_user_was_going(client, practitioner, enrolled):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login?next=/compose", data={"email": practitioner.email, "password": factories.TEST_PASSWORD,
                                             "csrf_token": token})
    assert enter_code(client, factories.code_for(enrolled.secret)).headers["Location"] == "/compose"


def test_a_wrong_code_is_refused(half_signed_in, enrolled):
    response = enter_code(half_signed_in, wrong(factories.code_for(enrolled.secret)))
    assert response.status_code == 422 and "That code is not right" in response.get_data(as_text=True)
    assert half_signed_in.get("/monitor").headers["Location"].startswith("/login")


def test_a_code_cannot_be_used_twice(app, half_signed_in, practitioner, enrolled):
    code = factories.code_for(enrolled.secret)
    assert enter_code(half_signed_in, code).status_code == 302
    again = app.test_client()
    log_in(again, practitioner)
    assert enter_code(again, code).status_code == 422


def test_a_recovery_code_signs_in_once(app, half_signed_in, practitioner, enrolled):
    code = enrolled.recovery_codes[0]
    first = enter_code(half_signed_in, code.upper().replace("-", " "))
    assert first.status_code == 302
    again = app.test_client()
    log_in(again, practitioner)
    assert enter_code(again, code).status_code == 422


def test_using_a_recovery_code_says_how_many_are_left(half_signed_in, enrolled):
    enter_code(half_signed_in, enrolled.recovery_codes[3])
    assert "You used a recovery code; 9 left." in half_signed_in.get("/monitor").get_data(as_text=True)


def test_the_code_page_needs_the_password_first(client):
    response = client.get("/login/code")
    assert response.headers["Location"] == "/login"


def test_the_code_step_expires(half_signed_in, enrolled):
    token = csrf_token_from(half_signed_in.get("/login/code").get_data(as_text=True))
    with half_signed_in.session_transaction() as session:
        state = session["two_factor_pending"]
        session["two_factor_pending"] = {**state, "until": state["until"] - 3600}
    response = half_signed_in.post("/login/code", data={"code": factories.code_for(enrolled.secret),
                                                        "csrf_token": token})
    assert response.headers["Location"] == "/login"


def test_the_code_form_carries_a_csrf_token(half_signed_in, enrolled):
    assert csrf_token_from(half_signed_in.get("/login/code").get_data(as_text=True))
    response = half_signed_in.post("/login/code", data={"code": factories.code_for(enrolled.secret)})
    assert response.status_code == 400


def test_wrong_codes_are_limited_per_account_not_per_cookie(app, practitioner, enrolled):
    code = factories.code_for(enrolled.secret)
    statuses = []
    for _ in range(6):
        client = app.test_client()  # a fresh cookie every time: only the server can count
        log_in(client, practitioner)
        statuses.append(enter_code(client, wrong(code)).status_code)
    assert statuses == [422] * 5 + [429]


def test_patients_sign_in_with_their_password_alone(client, patient):
    assert log_in(client, patient).headers["Location"] == "/"


# --- turning it off ----------------------------------------------------------------------------------


def signed_in_with_code(client, user, enrolment: factories.Enrolment):
    log_in(client, user)
    assert enter_code(client, factories.code_for(enrolment.secret)).status_code == 302
    return client


def test_turning_it_off_needs_a_right_code(client_request, practitioner, enrolled):
    signed_in_with_code(client_request.client, practitioner, enrolled)
    client_request.get("/account")
    page = client_request.post("/account/two-factor/disable", data={"code": "000000x"}, expected_status=422)
    assert field_error(page, "code").startswith("That code is not right")
    db.session.refresh(practitioner)
    assert practitioner.two_factor_enabled


def test_once_off_the_password_alone_signs_in_again(app, client, practitioner, enrolled):
    signed_in_with_code(client, practitioner, enrolled)
    response = post_form(client, "/account/two-factor/disable", {"code": enrolled.recovery_codes[0]}, page="/account")
    assert response.headers["Location"] == "/account"
    assert log_in(app.test_client(), practitioner).headers["Location"] == "/"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
