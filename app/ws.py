"""The live inbox socket: each web process relays Redis announcements to its open sockets.

One subscriber thread per process listens to every inbox channel and forwards an item only to
the sockets of the patient it belongs to, after loading it through the same access rule as the
inbox page. Many web processes each run their own relay on the same Redis, so a worker on any
host reaches a patient connected to any web process.

A socket lives only as long as the sign-in it was opened with: the relay closes it when any
process announces that the user's sessions ended, and each socket re-checks its session every
few seconds in case an announcement was lost (or the session timed out).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, render_template, request
from flask_login import current_user, login_user
from redis.client import PubSub
from redis.exceptions import RedisError
from simple_websocket import ConnectionClosed

from app.extensions import db, get_redis, sock
from app.models.user import User
from app.services import inbox as inbox_service
from app.services import sign_in_sessions
from app.services.live_inbox import CHANNEL_PATTERN, user_id_of_channel
from app.vocabulary import Role

log = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 1024
# How often a socket re-checks its sign-in: the latest a socket closes if the announcement that
# its session ended is lost. Also how often a dead socket is noticed.
SESSION_CHECK_SECONDS = 5.0
# Close code for "your sign-in ended" (4000-4999 are an application's own). Browsers do not
# always see it, so the page asks whether it is still signed in whenever its socket closes.
SESSION_ENDED_CLOSE = 4001


class InboxRelay:
    """Holds this process's open inbox sockets and the one subscriber that feeds them.

    The subscriber thread runs only while sockets are open: it starts with the first and
    stops, unsubscribing, a little after the last one closes.
    """

    IDLE_SECONDS = 5.0

    def __init__(self, app: Flask):
        self.app = app
        self._sockets: dict[int, dict] = defaultdict(dict)  # user id -> {socket: sign-in token}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()

    def register(self, user_id: int, token: str, ws) -> None:
        with self._lock:
            self._sockets[user_id][ws] = token
            if self._thread is None:
                self._subscribed.clear()
                self._thread = threading.Thread(target=self._listen, name="inbox-relay", daemon=True)
                self._thread.start()
        # Announcements made before the subscription is live would be missed.
        self._subscribed.wait(timeout=5)

    def unregister(self, user_id: int, ws) -> None:
        with self._lock:
            sockets = self._sockets.get(user_id)
            if sockets is not None:
                sockets.pop(ws, None)
                if not sockets:
                    del self._sockets[user_id]

    def _listen(self) -> None:
        idle_since: float | None = None
        pubsub = None
        reconnected = False
        while True:
            try:
                if pubsub is None:
                    with self.app.app_context():
                        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
                    pubsub.psubscribe(CHANNEL_PATTERN)
                    pubsub.subscribe(sign_in_sessions.SESSION_ENDED_CHANNEL)
                    self._subscribed.set()
                    if reconnected:  # sessions may have ended unannounced while Redis was away
                        self._recheck_every_socket()
                message = pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._relay_safely(message)
            except RedisError as exc:
                log.warning("inbox relay lost Redis (%s); reconnecting", type(exc).__name__)
                _close_quietly(pubsub)
                pubsub, reconnected = None, True
                time.sleep(1)
            with self._lock:
                if self._sockets:
                    idle_since = None
                    continue
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= self.IDLE_SECONDS:
                    self._thread = None
                    break
        _close_quietly(pubsub)

    def _relay_safely(self, message: dict) -> None:
        try:
            self._relay(message)
        except Exception:  # one bad item must not stop the relay for everyone
            log.exception("inbox relay could not forward an item")

    def _relay(self, message: dict) -> None:
        channel = _text(message.get("channel"))
        if channel == sign_in_sessions.SESSION_ENDED_CHANNEL:
            self._close_ended(sign_in_sessions.user_id_of_announcement(_text(message.get("data"))))
            return
        user_id = user_id_of_channel(channel)
        if user_id is None:
            return
        by_token = self._sockets_by_token(user_id)
        if not by_token:
            return
        try:
            notification_id = int(json.loads(_text(message.get("data")))["notification_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("inbox relay ignored a malformed announcement")
            return
        for token, sockets in by_token.items():
            # Rendered as the patient would see it on a page: their zone, language, and links;
            # and only for a sign-in that is still open.
            with self.app.test_request_context(base_url=self.app.config["PUBLIC_BASE_URL"]):
                try:
                    user = sign_in_sessions.user_for_token(token, activity=False)
                    fragment = live_fragment(user, notification_id) if user is not None else None
                finally:
                    db.session.remove()
            if user is None:
                self._close(user_id, sockets)
            elif fragment is not None:
                self._send(user_id, sockets, fragment)

    def _recheck_every_socket(self) -> None:
        with self._lock:
            user_ids = list(self._sockets)
        try:
            for user_id in user_ids:
                self._close_ended(user_id)
        except Exception:  # the sockets' own re-checks close them a few seconds later
            log.exception("inbox relay could not re-check its sockets")

    def _close_ended(self, user_id: int | None) -> None:
        """Close this user's sockets whose sign-in has ended."""
        if user_id is None:
            return
        for token, sockets in self._sockets_by_token(user_id).items():
            with self.app.app_context():
                ended = not _still_signed_in(token)
            if ended:
                self._close(user_id, sockets)

    def _sockets_by_token(self, user_id: int) -> dict[str, list]:
        by_token: dict[str, list] = defaultdict(list)
        with self._lock:
            for ws, token in self._sockets.get(user_id, {}).items():
                by_token[token].append(ws)
        return by_token

    def _send(self, user_id: int, sockets: list, fragment: str) -> None:
        for ws in sockets:
            try:
                ws.send(fragment)
            except (ConnectionClosed, OSError):
                self.unregister(user_id, ws)

    def _close(self, user_id: int, sockets: list) -> None:
        for ws in sockets:
            self.unregister(user_id, ws)
            close_for_ended_session(ws)


def _close_quietly(pubsub: PubSub | None) -> None:
    if pubsub is not None:
        with contextlib.suppress(RedisError):
            pubsub.close()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def close_for_ended_session(ws) -> None:
    with contextlib.suppress(ConnectionClosed, OSError):
        ws.close(reason=SESSION_ENDED_CLOSE, message="signed out")


def live_fragment(user: User, notification_id: int) -> str | None:
    """The htmx out-of-band swap for a new item: the card on top of the list, and the badge.

    `user` comes from their sign-in session (sign_in_sessions.user_for_token)."""
    login_user(user)  # for this render only: the request context is thrown away after it
    item = inbox_service.inbox_item_by_id(user, notification_id)
    if item is None:
        return None
    return render_template(
        "partials/_inbox_live_item.html", item=item, unread=inbox_service.unread_count(user)
    )


def _relay_for(app: Flask) -> InboxRelay:
    relay = app.extensions.get("inbox_relay")
    if relay is None:
        with _relay_lock:
            relay = app.extensions.setdefault("inbox_relay", InboxRelay(app))
    return relay


_relay_lock = threading.Lock()


def _same_origin() -> bool:
    """Browsers send Origin on WebSocket upgrades; refusing others stops cross-site hijacking."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser; the session cookie still has to be valid
    allowed = {urlsplit(request.host_url).netloc, urlsplit(current_app.config["PUBLIC_BASE_URL"]).netloc}
    return urlsplit(origin).netloc in allowed


bp = Blueprint("ws", __name__)


@bp.before_request
def only_signed_in_patients():
    """Refuse the upgrade itself (plain HTTP 403) for anyone but a signed-in patient."""
    if not current_user.is_authenticated or current_user.role is not Role.PATIENT or not _same_origin():
        abort(403)


@sock.route("/ws/inbox", bp=bp)
def inbox_socket(ws):
    """Live inbox for the signed-in patient, open while their sign-in is."""
    user_id, token = current_user.id, current_user.get_sign_in_token()
    db.session.remove()  # hold no database connection while the socket is open
    # Flask types current_app as the app itself; it is a proxy, and the relay thread needs the app.
    relay = _relay_for(current_app._get_current_object())  # type: ignore[attr-defined]
    relay.register(user_id, token, ws)
    checked = None  # first check right after registering: an ending announced before it was missed
    try:
        while True:
            if checked is None or time.monotonic() - checked >= SESSION_CHECK_SECONDS:
                checked = time.monotonic()
                if not _still_signed_in(token):
                    close_for_ended_session(ws)
                    break
            message = ws.receive(timeout=SESSION_CHECK_SECONDS)
            if message is None:
                continue
            reply = answer_client_message(message)
            if reply is not None:
                ws.send(reply)
    except ConnectionClosed:
        pass
    finally:
        relay.unregister(user_id, ws)


def _still_signed_in(token: str) -> bool:
    try:
        return sign_in_sessions.user_for_token(token, activity=False) is not None
    finally:
        db.session.remove()


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def answer_client_message(message: str | bytes) -> str | None:
    """Clients may only ping; anything else gets a clear error, never an exception."""
    if isinstance(message, bytes) or len(message) > MAX_CLIENT_MESSAGE:
        return json.dumps({"error": f"send JSON text of at most {MAX_CLIENT_MESSAGE} characters"})
    try:
        payload = json.loads(message)
    except ValueError:
        return json.dumps({"error": "messages must be JSON"})
    if not isinstance(payload, dict) or payload.get("type") != "ping":
        return json.dumps({"error": "unknown message; the only one accepted is {\"type\": \"ping\"}"})
    return json.dumps({"type": "pong"})
