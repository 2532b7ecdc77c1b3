"""The live inbox: a real server, real sockets, a real worker process."""

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from simple_websocket import Client, ConnectionClosed
from simple_websocket import ConnectionError as WebSocketRefused

from app.clock import utcnow
from app.extensions import db
from app.models import LoginSession
from app.services import user_admin
from app.ws import SESSION_CHECK_SECONDS, SESSION_ENDED_CLOSE
from tests import factories
from tests.conftest import child_environment, csrf_token_from, log_in

# Flask-Login's strong session protection binds a session to its browser: same agent here.
USER_AGENT = "sutra-tests"


def signed_in_client(app, user):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    assert log_in(client, user).status_code == 302
    return client


def session_cookie(app, user) -> str:
    return signed_in_client(app, user).get_cookie("session").value


def connect(live_server: str, cookie: str | None, **headers) -> Client:
    headers["User-Agent"] = USER_AGENT
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    return Client.connect(live_server.replace("http", "ws", 1) + "/ws/inbox", headers=headers)


def send_in_app(sender, patient, title: str) -> None:
    factories.create_send(sender=sender, recipients=[patient], title=title)


def receive_until(ws: Client, text: str, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        message = ws.receive(timeout=remaining)
        if message is not None and text in message:
            return message
    return None


def test_a_new_item_reaches_the_patients_open_socket(app, live_server, worker_process, practitioner, patient):
    ws = connect(live_server, session_cookie(app, patient))
    try:
        send_in_app(practitioner, patient, "Your Basti schedule")
        fragment = receive_until(ws, "Your Basti schedule", seconds=15)
    finally:
        ws.close()
    assert fragment is not None, "the item did not arrive"
    assert 'hx-swap-oob="afterbegin:#inbox-items"' in fragment
    assert 'id="unread-badge"' in fragment


def test_a_live_item_reaches_a_hindi_speaking_patient_in_hindi(app, live_server, worker_process, practitioner):
    patient = factories.create_patient(name="Meera Iyer", email="meera@clinic.test", practitioner=practitioner,
                                       locale="hi")
    ws = connect(live_server, session_cookie(app, patient))
    try:
        send_in_app(practitioner, patient, "Triphala at night")
        fragment = receive_until(ws, "Triphala at night", seconds=15)
    finally:
        ws.close()
    assert fragment is not None, "the item did not arrive"
    assert "अपठित" in fragment  # "Unread", in the page's words


def test_a_patient_never_receives_another_patients_item(app, live_server, worker_process, practitioner,
                                                        patient, other_patient):
    mine = connect(live_server, session_cookie(app, patient))
    theirs = connect(live_server, session_cookie(app, other_patient))
    try:
        send_in_app(practitioner, patient, "Only for Priya")
        assert receive_until(mine, "Only for Priya", seconds=15) is not None
        send_in_app(practitioner, other_patient, "Only for Arjun")
        assert receive_until(theirs, "Only for Arjun", seconds=15) is not None
        assert receive_until(theirs, "Only for Priya", seconds=1) is None
        assert receive_until(mine, "Only for Arjun", seconds=1) is None
    finally:
        mine.close()
        theirs.close()


def test_an_anonymous_socket_is_refused(live_server):
    with pytest.raises(WebSocketRefused):
        connect(live_server, None)


def test_a_staff_socket_is_refused(app, live_server, practitioner):
    with pytest.raises(WebSocketRefused):
        connect(live_server, session_cookie(app, practitioner))


def test_a_socket_opened_from_another_site_is_refused(app, live_server, patient):
    with pytest.raises(WebSocketRefused):
        connect(live_server, session_cookie(app, patient), Origin="https://evil.example")


def test_a_ping_is_answered(app, live_server, patient):
    ws = connect(live_server, session_cookie(app, patient))
    try:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.receive(timeout=5)) == {"type": "pong"}
    finally:
        ws.close()


@pytest.mark.parametrize("message", ["not json", json.dumps({"type": "mark_everything_read"}), "x" * 5000, b"\x00"])
def test_bad_client_messages_get_a_clear_error_and_the_socket_stays_open(app, live_server, patient, message):
    ws = connect(live_server, session_cookie(app, patient))
    try:
        ws.send(message)
        assert "error" in json.loads(ws.receive(timeout=5))
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.receive(timeout=5)) == {"type": "pong"}
    except ConnectionClosed:
        pytest.fail("the socket was closed")
    finally:
        ws.close()


# How soon a socket must close once its sign-in ends anywhere (announced on Redis).
CLOSED_WITHIN_SECONDS = 2.0


def closed_within(ws: Client, seconds: float) -> ConnectionClosed | None:
    """The close the server sent within `seconds`, or None if the socket stayed open."""
    deadline = time.monotonic() + seconds
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            ws.receive(timeout=remaining)
    except ConnectionClosed as closed:
        return closed
    return None


def close_quietly(ws: Client) -> None:
    with contextlib.suppress(ConnectionClosed):
        ws.close()


def sign_out(client) -> None:
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_socket_opened_before_sign_out_is_closed_within_seconds(app, live_server, patient):
    client = signed_in_client(app, patient)
    ws = connect(live_server, client.get_cookie("session").value)
    try:
        sign_out(client)
        closed = closed_within(ws, CLOSED_WITHIN_SECONDS)
    finally:
        close_quietly(ws)
    assert closed is not None, "the socket stayed open after sign-out"
    assert closed.reason == SESSION_ENDED_CLOSE


def test_a_signed_out_socket_receives_no_new_item(app, live_server, worker_process, practitioner, patient):
    client = signed_in_client(app, patient)
    ws = connect(live_server, client.get_cookie("session").value)
    try:
        sign_out(client)
        send_in_app(practitioner, patient, "After sign-out")
        assert receive_until(ws, "After sign-out", seconds=3) is None
    except ConnectionClosed:
        pass
    finally:
        close_quietly(ws)


def test_deactivation_closes_the_patients_socket_within_seconds(app, live_server, admin, patient):
    ws = connect(live_server, session_cookie(app, patient))
    try:
        user_admin.set_active(admin, patient.id, False)
        assert closed_within(ws, CLOSED_WITHIN_SECONDS) is not None
    finally:
        close_quietly(ws)


def test_a_sign_out_in_another_process_closes_this_processs_socket(app, live_server, patient):
    ws = connect(live_server, session_cookie(app, patient))
    env = child_environment(app.config)
    script = ("from app import create_app\n"
              "from app.services.sign_in_sessions import end_all_sessions\n"
              "with create_app().app_context():\n"
              f"    end_all_sessions({patient.id}, 'signed out')\n")
    try:
        subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent, env=env,
                       check=True, timeout=60)
        assert closed_within(ws, CLOSED_WITHIN_SECONDS) is not None
    finally:
        close_quietly(ws)


def test_a_socket_whose_sign_in_ended_unannounced_closes_at_its_next_check(app, live_server, patient):
    ws = connect(live_server, session_cookie(app, patient))
    try:
        db.session.execute(sa.update(LoginSession).values(ended_at=utcnow(), end_reason="idle"))
        db.session.commit()
        assert closed_within(ws, SESSION_CHECK_SECONDS * 2 + 1) is not None
    finally:
        close_quietly(ws)
