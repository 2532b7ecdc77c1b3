"""The API against its own OpenAPI document, by Schemathesis: generated requests to every
operation, then sequences that follow the document's links (send, then read, cancel or
reschedule what it made). No answer may be a 5xx or break the document.

Bounded to EXAMPLES cases per operation and STATEFUL_SCENARIOS link-following scenarios, so the
module takes well under a minute.
"""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.api.conftest import ALL_SCOPES

EXAMPLES = 40
STATEFUL_SCENARIOS = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FAST = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))
calls: Counter[str] = Counter()


@pytest.fixture
def clinic(app, live_server, use_settings, admin, practitioner):
    """A live server with patients, notifications and a key of every scope; the rate limit out of the way."""
    use_settings(API_RATE_LIMIT="100000 per minute")
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000000{i:02d}") for i in range(5)]
    factories.create_send(sender=admin, recipients=patients, channels=["in_app", "sms", "email"])
    token = factories.create_api_key(admin=admin, scopes=ALL_SCOPES)
    return live_server, {"Authorization": f"Bearer {token}"}, [p.id for p in patients]


@pytest.fixture
def api_schema(clinic):
    base_url, _, _ = clinic
    return schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")


def test_no_operation_answers_a_5xx_or_breaks_its_schema(api_schema, clinic):
    base_url, auth, _ = clinic
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @FAST
        def call(case):
            calls[case.operation.label] += 1
            case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS)

        call()
    assert len(operations) >= 6  # every route but the document itself, which Schemathesis leaves out


def test_following_the_links_from_a_send_breaks_nothing(api_schema, clinic):
    base_url, auth, patient_ids = clinic

    class Workflow(api_schema.as_state_machine()):
        def before_call(self, case):
            """A generated send keeps its type, channels and priority but goes to the clinic's real
            patients with a plain message, so it is made and its links have notifications to follow
            (the test above sends generated bodies whole)."""
            case.headers = {**(case.headers or {}), **auth}
            if case.operation.label == "POST /api/v1/notifications" and isinstance(case.body, dict):
                kept = {name: case.body[name] for name in ("type", "channels", "priority") if name in case.body}
                case.body = {**kept, "recipient_ids": patient_ids, "body": "Rest well after your session."}

        def get_call_kwargs(self, case):
            calls["stateful " + case.operation.label] += 1
            return {"base_url": base_url, "headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=auth, transport_kwargs=kwargs)

    Workflow.run(settings=settings(FAST, max_examples=STATEFUL_SCENARIOS, stateful_step_count=6))
    assert any(label.startswith("stateful POST /api/v1/notifications/") for label in calls), calls
    # The figures, for `pytest -s`.
    print("\nschemathesis calls per operation:", dict(sorted(calls.items())), "total", sum(calls.values()))

