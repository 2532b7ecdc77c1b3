"""Error pages speak the product's words: what happened and what to do next, never Werkzeug's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort

from app import create_app
from app.extensions import db
from tests.conftest import base_settings, log_in

WERKZEUG_SENTENCES = ("The requested URL was not found", "You don't have the permission",
                      "The server encountered an internal error", "per 1 minute")


def page_text(response) -> str:
    body = response.get_data(as_text=True)
    for sentence in WERKZEUG_SENTENCES:
        assert sentence not in body
    return body


def test_a_missing_page_says_what_happened_and_what_to_do(client):
    body = page_text(client.get("/no-such-page"))
    assert "Page not found" in body and "check it" in body and "Go to your home page" in body


def test_a_missing_item_shows_the_services_own_words(login, practitioner):
    response = login(practitioner).get("/sends/grp_nope")
    assert response.status_code == 404
    body = page_text(response)
    assert "Page not found" in body and "No such send" in body


def test_a_forbidden_page_says_who_to_ask(login, patient):
    response = login(patient).get("/compose")
    assert response.status_code == 403
    body = page_text(response)
    assert "You cannot open this page" in body and "ask your clinic&#39;s administrator" in body


def test_too_many_attempts_say_to_wait(client, patient):
    responses = [log_in(client, patient, password="wrong guess!") for _ in range(11)]
    assert responses[-1].status_code == 429
    body = page_text(responses[-1])
    assert "Too many attempts" in body and "Wait a minute, then try again." in body


def test_json_callers_get_the_same_words(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.get_json() == {
        "error": "not_found",
        "message": "There is nothing at this address, or it is not yours to see. If you typed the address, "
                   "check it. Go to your home page and find it from there.",
    }


@pytest.fixture
def failing_app(database_url, redis_url) -> Iterator[Flask]:
    """An app with one route that fails, as a bug would (routes cannot be added to the shared app)."""
    app = create_app(base_settings(database_url, redis_url))

    @app.get("/fails")
    def fails():
        raise RuntimeError("a bug")

    @app.get("/refuses")
    def refuses():
        abort(400, description="Fix the filters: the end date is before the start date")

    yield app
    with app.app_context():
        db.engine.dispose()


def test_an_unexpected_error_apologises_and_says_nothing_was_lost(failing_app):
    response = failing_app.test_client().get("/fails")
    assert response.status_code == 500
    body = page_text(response)
    assert "Something went wrong" in body and "Nothing you sent was lost" in body
    assert "a bug" not in body and "RuntimeError" not in body


def test_a_description_our_code_gave_is_shown(failing_app):
    body = page_text(failing_app.test_client().get("/refuses"))
    assert "Fix the filters: the end date is before the start date" in body
