"""Monitor, the delivery log and the audit log (and their CSVs) and stats under any filter: never a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models.audit_event import AuditAction
from app.models.notification import EventKind
from app.models.status import Status
from app.vocabulary import Channel, NotificationType
from tests import factories
from tests.strategies import FUZZ, choice_or_odd, odd_date, odd_text

STATUSES = [s.value for s in Status]
CHANNELS = [c.value for c in Channel]

DATES = {"date_from": odd_date(), "date_to": odd_date()}
MONITOR = st.fixed_dictionaries({}, optional={
    "status": choice_or_odd(*STATUSES),
    "channel": choice_or_odd(*CHANNELS),
    "type": choice_or_odd(*[t.value for t in NotificationType]),
    "patient": odd_text(130),
    "before": odd_text(30),
    **DATES,
})
LOG = st.fixed_dictionaries({}, optional={
    "from": odd_date(),
    "to": odd_date(),
    "patient": odd_text(130),
    "channel": choice_or_odd(*CHANNELS),
    "provider": choice_or_odd("console", "twilio", "sendgrid"),
    "status": choice_or_odd(*STATUSES),
    "kind": choice_or_odd(*[k.value for k in EventKind]),
    "attempts_only": choice_or_odd("y", "on"),
    "before": odd_text(30),
})
AUDIT = st.fixed_dictionaries({}, optional={
    "from": odd_date(),
    "to": odd_date(),
    "who": odd_text(130),
    "action": choice_or_odd(*[a.value for a in AuditAction]),
    "patient": odd_text(130),
    "before": odd_text(30),
})
STATS = st.fixed_dictionaries({}, optional={"from": odd_date(), "to": odd_date()})


@pytest.fixture
def staff(login, practitioner):
    return login(practitioner)


@pytest.fixture
def admin_client(login, admin):
    return login(admin)


@pytest.fixture
def something_sent(practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])


@FUZZ
@given(query=MONITOR)
def test_monitor_answers_any_filter(staff, something_sent, query):
    response = staff.get("/monitor", query_string=query)
    assert response.status_code == 200


@FUZZ
@given(query=LOG)
def test_the_delivery_log_answers_any_filter(admin_client, something_sent, query):
    response = admin_client.get("/admin/log", query_string=query)
    assert response.status_code in (200, 400, 422)


@FUZZ
@given(query=LOG)
def test_the_delivery_log_export_answers_any_filter(admin_client, something_sent, query):
    response = admin_client.get("/admin/log.csv", query_string=query)
    response.get_data()  # the export streams: its rows are read only now
    assert response.status_code in (200, 400)


@FUZZ
@given(query=AUDIT)
def test_the_audit_log_answers_any_filter(admin_client, something_sent, query):
    response = admin_client.get("/admin/audit", query_string=query)
    assert response.status_code in (200, 400, 422)


@FUZZ
@given(query=AUDIT)
def test_the_audit_log_export_answers_any_filter(admin_client, something_sent, query):
    response = admin_client.get("/admin/audit.csv", query_string=query)
    response.get_data()
    assert response.status_code in (200, 400)


@FUZZ
@given(query=STATS)
def test_stats_answer_any_range(admin_client, something_sent, query):
    assert admin_client.get("/admin/stats", query_string=query).status_code in (200, 422)
