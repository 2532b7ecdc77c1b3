"""Pytest fixtures for the fake provider servers.

Each server starts once per session on 127.0.0.1 and stops at the end; the function-scoped
fixtures hand a test the server with its messages, counters, faults and latency reset, and
reset again afterwards so a request a test left held is released at once.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TypeVar

import pytest

from tests.fakes.fcm import FakeFcm
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.sink import WebhookSink
from tests.fakes.smtp import FakeSmtp
from tests.fakes.state import FakeState
from tests.fakes.twilio import FakeTwilio
from tests.fakes.web_push import FakeWebPush

Fake = TypeVar("Fake", bound=FakeState)


def _fresh(server: Fake) -> Iterator[Fake]:
    server.reset()
    yield server
    server.reset()


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture(scope="session")
def fake_sendgrid_server() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as server:
        yield server


@pytest.fixture(scope="session")
def fake_fcm_server() -> Iterator[FakeFcm]:
    with FakeFcm() as server:
        yield server


@pytest.fixture(scope="session")
def fake_smtp_server() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture(scope="session")
def fake_web_push_server() -> Iterator[FakeWebPush]:
    with FakeWebPush() as server:
        yield server


@pytest.fixture(scope="session")
def webhook_sink_server() -> Iterator[WebhookSink]:
    with WebhookSink() as server:
        yield server


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> Iterator[FakeTwilio]:
    yield from _fresh(fake_twilio_server)


@pytest.fixture
def fake_sendgrid(fake_sendgrid_server: FakeSendGrid) -> Iterator[FakeSendGrid]:
    yield from _fresh(fake_sendgrid_server)


@pytest.fixture
def fake_fcm(fake_fcm_server: FakeFcm) -> Iterator[FakeFcm]:
    yield from _fresh(fake_fcm_server)


@pytest.fixture
def fake_smtp(fake_smtp_server: FakeSmtp) -> Iterator[FakeSmtp]:
    yield from _fresh(fake_smtp_server)


@pytest.fixture
def fake_web_push(fake_web_push_server: FakeWebPush) -> Iterator[FakeWebPush]:
    yield from _fresh(fake_web_push_server)


@pytest.fixture
def webhook_sink(webhook_sink_server: WebhookSink) -> Iterator[WebhookSink]:
    yield from _fresh(webhook_sink_server)


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on, to see how a client handles a refused connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pytest_configure(config: pytest.Config) -> None:
    # The fake relay takes AUTH over plain SMTP on purpose (it has no certificate).
    config.addinivalue_line(
        "filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning"
    )
