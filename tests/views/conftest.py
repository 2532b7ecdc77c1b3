"""Fixtures for tests that walk every route: a sample for each URL argument, a client per role."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.conftest import csrf_token_from, log_in


@pytest.fixture
def samples(practitioner, patient, other_patient, run_worker) -> dict[str, object]:
    """A value for every URL argument a route may take (a delivered in-app message for the ids)."""
    result = factories.create_send(sender=practitioner, recipients=[patient])
    run_worker()
    return {
        "public_id": result.items[0].notification_id,
        "group_id": result.group_id,
        "patient_id": patient.id,
        "user_id": other_patient.id,  # the admin's POSTs (deactivate, ...) act on someone not signed in
        "job_id": "no-such-job",
        "key_id": 1,
        "filename": "css/app.css",
        "token": "not-a-real-link",
        "type_key": "appointment_reminder",
        "channel": "sms",
        "locale": "en",
        "version_id": 1,
    }


@pytest.fixture
def clients(app: Flask, patient, practitioner, admin) -> dict[str | None, tuple[FlaskClient, str]]:
    """A signed-in client per role (and an anonymous one), each with its CSRF token."""
    signed_in = {}
    for role, user in (("patient", patient), ("practitioner", practitioner), ("admin", admin), (None, None)):
        client = app.test_client()
        if user is not None:
            assert log_in(client, user).status_code == 302
        page = "/login" if user is None else {"patient": "/inbox", "practitioner": "/compose",
                                              "admin": "/admin/users/new"}[role]
        signed_in[role] = (client, csrf_token_from(client.get(page).get_data(as_text=True)))
    return signed_in
