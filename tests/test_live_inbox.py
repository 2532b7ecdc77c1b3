"""The live inbox: a real server, real sockets, a real worker process."""

import json
import time

import pytest
from simple_websocket import Client, ConnectionClosed
from simple_websocket import ConnectionError as WebSocketRefused

from app.services.outbox import SendRequest, create_send
from tests.conftest import log_in

# Flask-Login's strong session protection binds a session to its browser: same agent here.
USER_AGENT = "sutra-tests"


def session_cookie(app, user) -> str:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    assert log_in(client, user).status_code == 302
    return client.get_cookie("session").value


def connect(live_server: str, cookie: str | None, **headers) -> Client:
    headers["User-Agent"] = USER_AGENT
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    return Client.connect(live_server.replace("http", "ws", 1) + "/ws/inbox", headers=headers)


def send_in_app(sender, patient, title: str) -> None:
    create_send(sender, SendRequest(type="treatment_update", recipient_ids=[patient.id], channels=["in_app"],
                                    title=title, body="Rest well."))


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
