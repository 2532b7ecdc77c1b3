"""Sign-ins end on the server: sign-out, deactivation and idle time end every copy of a cookie."""

from datetime import timedelta

import sqlalchemy as sa

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.models import LoginSession
from app.services import sign_in_sessions, user_admin
from tests import factories
from tests.conftest import base_settings, csrf_token_from

REMEMBER_COOKIE = "remember_token"


def sign_in(client, user, *, remember: bool = False):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    form = {"email": user.email, "password": factories.TEST_PASSWORD, "csrf_token": token}
    if remember:
        form["remember"] = "y"
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def sign_out(client, page: str = "/inbox") -> None:
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def copy_of(app, client, *names: str):
    """A second browser holding copies of `client`'s cookies, as someone who took them would."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def sessions_of(user) -> list[LoginSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)))


def last_seen(user):
    [row] = sessions_of(user)
    return row.last_seen_at


def idle_for(user, minutes: float) -> None:
    """Make the user's sign-ins look as if their last request was `minutes` ago."""
    db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == user.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_a_copy_of_the_session_cookie_taken_before_sign_out_is_refused_after_it(app, client, patient):
    sign_in(client, patient)
    thief = copy_of(app, client, "session")
    assert thief.get("/inbox").status_code == 200
    sign_out(client)
    assert is_sent_to_sign_in(thief.get("/inbox"))


def test_signing_out_ends_the_sign_ins_on_every_device(app, client, patient):
    phone = app.test_client()
    sign_in(phone, patient)
    sign_in(client, patient)
    sign_out(client)
    assert is_sent_to_sign_in(phone.get("/inbox"))
    assert all(row.end_reason == "signed out" for row in sessions_of(patient))


def test_a_remember_cookie_taken_before_sign_out_no_longer_signs_in(app, client, patient):
    sign_in(client, patient, remember=True)
    thief = copy_of(app, client, REMEMBER_COOKIE)
    sign_out(client)
    assert is_sent_to_sign_in(thief.get("/inbox"))


def test_a_remember_cookie_signs_in_again_while_its_sign_in_is_open(app, client, patient):
    sign_in(client, patient, remember=True)
    browser_restarted = copy_of(app, client, REMEMBER_COOKIE)
    assert browser_restarted.get("/inbox").status_code == 200


def test_the_remember_cookie_differs_between_sign_ins(app, patient):
    cookies = []
    for _ in range(2):
        client = app.test_client()
        sign_in(client, patient, remember=True)
        cookies.append(client.get_cookie(REMEMBER_COOKIE).value)
    assert cookies[0] != cookies[1]
    assert str(patient.id) not in {cookie.split("|")[0] for cookie in cookies}


def test_the_remember_cookie_is_same_site_and_http_only(client, patient):
    response = sign_in(client, patient, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{REMEMBER_COOKIE}="))
    assert "SameSite=Lax" in header and "HttpOnly" in header


def test_the_remember_cookie_is_secure_when_the_session_cookie_is(database_url, redis_url):
    secure = create_app({**base_settings(database_url, redis_url), "SESSION_COOKIE_SECURE": True})
    assert secure.config["REMEMBER_COOKIE_SECURE"] is True
    with secure.app_context():
        db.engine.dispose()


def test_deactivation_ends_every_sign_in_for_good(app, client, admin, practitioner):
    sign_in(client, practitioner)
    user_admin.set_active(admin, practitioner.id, False)
    user_admin.set_active(admin, practitioner.id, True)
    assert is_sent_to_sign_in(client.get("/monitor"))
    assert [row.end_reason for row in sessions_of(practitioner)] == ["deactivated"]


def test_a_staff_sign_in_ends_after_thirty_idle_minutes(client, practitioner):
    sign_in(client, practitioner)
    idle_for(practitioner, 31)
    assert is_sent_to_sign_in(client.get("/monitor"))
    assert [row.end_reason for row in sessions_of(practitioner)] == ["idle"]


def test_a_staff_sign_in_in_use_stays_open(client, practitioner):
    sign_in(client, practitioner)
    idle_for(practitioner, 29)
    assert client.get("/monitor").status_code == 200
    idle_for(practitioner, 29)
    assert client.get("/monitor").status_code == 200


def test_a_remember_cookie_does_not_outlive_the_idle_timeout(app, client, practitioner):
    sign_in(client, practitioner, remember=True)
    idle_for(practitioner, 31)
    assert is_sent_to_sign_in(copy_of(app, client, REMEMBER_COOKIE).get("/monitor"))


def test_a_patient_sign_in_lasts_a_day_without_activity(client, patient):
    sign_in(client, patient)
    idle_for(patient, 31)
    assert client.get("/inbox").status_code == 200
    idle_for(patient, 24 * 60 + 1)
    assert is_sent_to_sign_in(client.get("/inbox"))


def test_idle_timeouts_follow_the_settings(client, practitioner, use_settings):
    use_settings(STAFF_IDLE_TIMEOUT_MINUTES=5)
    sign_in(client, practitioner)
    idle_for(practitioner, 6)
    assert is_sent_to_sign_in(client.get("/monitor"))


def test_a_page_polling_itself_does_not_count_as_activity(client, practitioner):
    sign_in(client, practitioner)
    idle_for(practitioner, 10)
    idle_since = last_seen(practitioner)
    assert client.get("/monitor", headers={"HX-Request": "true", "X-Poll": "1"}).status_code == 200
    assert last_seen(practitioner) == idle_since
    client.get("/monitor")
    assert last_seen(practitioner) > idle_since


def test_a_poll_after_the_sign_in_ended_moves_the_whole_page_to_sign_in(client, practitioner):
    sign_in(client, practitioner)
    idle_for(practitioner, 31)
    response = client.get("/monitor", headers={"HX-Request": "true", "X-Poll": "1",
                                               "HX-Current-URL": "http://localhost/monitor?status=queued"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/monitor?status%3Dqueued"


def test_signing_out_after_the_sign_in_ended_elsewhere_still_signs_out(app, client, patient):
    sign_in(client, patient)
    page = client.get("/inbox").get_data(as_text=True)
    sign_in_sessions.end_all_sessions(patient.id, "signed out")
    response = client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_password_change_can_keep_the_sign_in_it_was_made_in(app, patient):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, patient)
    sign_in(elsewhere, patient)
    kept = sign_in_sessions.start_session(patient, client_address="127.0.0.1", user_agent="test")
    assert sign_in_sessions.end_all_sessions(patient.id, "password changed", keep_token=kept) == 2
    assert sign_in_sessions.user_for_token(kept) == patient
    assert is_sent_to_sign_in(elsewhere.get("/inbox"))


def test_a_forged_or_stale_session_token_signs_nobody_in(app, patient):
    assert sign_in_sessions.user_for_token("not-a-token") is None
    assert sign_in_sessions.user_for_token("x" * 5000) is None
    assert sign_in_sessions.user_for_token(str(patient.id)) is None
