"""The audit log from the web: what pages record, and the admins' page and CSV export to read it."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from app.models.audit_event import AuditAction
from app.services import audit
from app.services import sign_in_throttle as throttle
from app.services.audit import CSV_HEADER
from app.services.input_rules import MAX_ID
from tests import factories
from tests.conftest import csrf_token_from

CLIENT = "203.0.113.9"
WRONG = "not the password at all"


def records(action: AuditAction | None = None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def only_record(action: AuditAction) -> AuditEvent:
    found = records(action)
    assert len(found) == 1, [(e.action, e.detail) for e in records()]
    return found[0]


def from_client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT
    return client


def sign_in(client, email: str, password: str = factories.TEST_PASSWORD):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def shown_ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [int(i) for i in re.findall(r'<tr id="audit-(\d+)"', response.get_data(as_text=True))]


def newest_first(*where) -> list[int]:
    stmt = sa.select(AuditEvent.id).where(*where).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return list(db.session.scalars(stmt))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- what pages record ----------------------------------------------------------------------


def test_signing_in_is_recorded_with_the_clients_address(app, practitioner):
    assert sign_in(from_client(app), practitioner.email).status_code == 302
    event = only_record(AuditAction.SIGNED_IN)
    assert (event.actor_id, event.client_address, event.detail) == (practitioner.id, CLIENT, None)


def test_a_wrong_password_is_recorded_against_the_account(app, practitioner):
    assert sign_in(from_client(app), practitioner.email, WRONG).status_code == 422
    event = only_record(AuditAction.SIGN_IN_FAILED)
    assert (event.actor_id, event.client_address, event.detail) == (practitioner.id, CLIENT, "reason=credentials")


def test_a_sign_in_to_an_unknown_account_keeps_a_keyed_hash_of_the_email_not_the_email(app):
    sign_in(from_client(app), "Nobody@Clinic.test", WRONG)
    event = only_record(AuditAction.SIGN_IN_FAILED)
    assert event.actor_id is None
    assert event.detail == f"reason=credentials account={throttle.account_key('nobody@clinic.test')}"
    assert "nobody" not in event.detail.lower()


def test_a_sign_in_refused_for_too_many_failures_says_so(app, patient):
    client = from_client(app)
    for _ in range(5):
        sign_in(client, patient.email, WRONG)
    assert sign_in(client, patient.email).status_code == 429
    assert records(AuditAction.SIGN_IN_FAILED)[-1].detail == "reason=throttled"


@pytest.fixture
def enrolled(practitioner) -> factories.Enrolment:
    return factories.enrol_two_factor(practitioner)


def enter_code(client, code: str):
    token = csrf_token_from(client.get("/login/code").get_data(as_text=True))
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def test_a_right_two_factor_code_is_recorded_and_then_the_sign_in(app, practitioner, enrolled):
    client = from_client(app)
    sign_in(client, practitioner.email)
    assert not records(AuditAction.SIGNED_IN)  # the password alone signs nobody in
    assert enter_code(client, factories.code_for(enrolled.secret)).status_code == 302
    assert only_record(AuditAction.TWO_FACTOR_PASSED).detail == "code=authenticator"
    assert only_record(AuditAction.SIGNED_IN).detail == "second_factor=authenticator"


def test_a_wrong_two_factor_code_is_recorded(app, practitioner, enrolled):
    client = from_client(app)
    sign_in(client, practitioner.email)
    right = factories.code_for(enrolled.secret)
    assert enter_code(client, f"{(int(right) + 1) % 1_000_000:06d}").status_code == 422
    event = only_record(AuditAction.TWO_FACTOR_FAILED)
    assert (event.actor_id, event.client_address, event.detail) == (practitioner.id, CLIENT, "step=sign_in")


def test_signing_out_is_recorded(login, practitioner):
    client = login(practitioner)
    token = csrf_token_from(client.get("/compose").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    assert only_record(AuditAction.SIGNED_OUT).actor_id == practitioner.id


def test_changing_ones_password_on_the_account_page_is_recorded(login, practitioner):
    client = login(practitioner)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    new = "a fresh long passphrase"
    response = client.post("/account/password", data={"current_password": factories.TEST_PASSWORD, "new_password": new,
                                                       "confirm_password": new, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert only_record(AuditAction.PASSWORD_CHANGED).actor_id == practitioner.id


def test_viewing_a_patients_notification_is_recorded(login, practitioner, patient):
    item = factories.create_notification(sender=practitioner, recipient=patient)
    assert login(practitioner).get(f"/notifications/{item.public_id}").status_code == 200
    event = only_record(AuditAction.NOTIFICATION_VIEWED)
    assert (event.actor_id, event.patient_id, event.detail) == (practitioner.id, patient.id,
                                                                f"notification={item.public_id}")


def test_a_notification_the_viewer_may_not_see_records_nothing(login, other_practitioner, practitioner, patient):
    item = factories.create_notification(sender=practitioner, recipient=patient)
    assert login(other_practitioner).get(f"/notifications/{item.public_id}").status_code == 404
    assert not records(AuditAction.NOTIFICATION_VIEWED)


def test_viewing_the_delivery_log_records_the_filters_used_not_what_was_typed(login, admin, patient):
    login(admin).get("/admin/log?patient=Priya&channel=sms&from=2026-01-01")
    event = only_record(AuditAction.DELIVERY_LOG_VIEWED)
    assert (event.actor_id, event.patient_id, event.detail) == (admin.id, None, "filters=from,patient,channel")


def test_a_delivery_log_filtered_to_one_patient_by_id_names_the_patient(login, admin, patient):
    login(admin).get(f"/admin/log?patient={patient.id}")
    assert only_record(AuditAction.DELIVERY_LOG_VIEWED).patient_id == patient.id


@pytest.mark.parametrize("path, action", [
    ("/admin/log.csv?channel=sms", AuditAction.DELIVERY_LOG_EXPORTED),
    ("/admin/audit.csv?action=signed_in", AuditAction.AUDIT_LOG_EXPORTED),
])
def test_every_csv_export_is_recorded(login, admin, path, action):
    csv_rows(login(admin).get(path))
    event = only_record(action)
    assert (event.actor_id, event.client_address) == (admin.id, "127.0.0.1")
    assert event.detail.startswith("filters=")


def test_a_refused_export_records_nothing(login, admin):
    assert login(admin).get("/admin/log.csv?from=2025-02-30").status_code == 400
    assert not records(AuditAction.DELIVERY_LOG_EXPORTED)


def test_admin_actions_on_the_users_pages_are_recorded(login, admin, other_patient):
    client = login(admin)
    token = csrf_token_from(client.get(f"/admin/users/{other_patient.id}").get_data(as_text=True))
    client.post(f"/admin/users/{other_patient.id}/deactivate", data={"csrf_token": token})
    event = only_record(AuditAction.USER_DEACTIVATED)
    assert (event.actor_id, event.patient_id, event.client_address) == (admin.id, other_patient.id, "127.0.0.1")


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def history(app, admin, practitioner, patient, other_patient):
    """A few records by different people about different patients, a day apart."""
    start = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    made = [
        (AuditAction.SIGNED_IN, practitioner, None),
        (AuditAction.NOTIFICATION_VIEWED, practitioner, patient),
        (AuditAction.USER_DEACTIVATED, admin, other_patient),
        (AuditAction.SIGN_IN_FAILED, None, None),
    ]
    for day, (action, actor, about) in enumerate(made):
        event = audit.record(action, actor_id=actor.id if actor else None, patient_id=about.id if about else None,
                             detail={"n": day})
        event.occurred_at = start + timedelta(days=day)
    db.session.commit()


def test_the_audit_log_lists_every_record_newest_first_with_who_what_and_whose(login, admin, history):
    response = login(admin).get("/admin/audit")
    assert shown_ids(response) == newest_first()
    body = response.get_data(as_text=True)
    assert "Dr. Vaidya Ramesh" in body and "Notification viewed" in body and "Priya Sharma" in body
    assert "Unknown account" in body and "User deactivated" in body and "Arjun Patel" in body


def test_times_show_in_the_viewers_zone(login, admin, history):
    from babel.dates import format_datetime

    first = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    expected = format_datetime(first, format="medium", tzinfo=ZoneInfo("Asia/Kolkata"), locale="en")
    assert "5:30" in expected and expected in login(admin).get("/admin/audit").get_data(as_text=True)


def test_the_admin_navigation_links_to_it(login, admin):
    assert 'href="/admin/audit"' in login(admin).get("/admin/log").get_data(as_text=True)


def test_the_page_and_its_export_are_never_cached(login, admin, history):
    client = login(admin)
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert "no-store" in client.get(path).headers["Cache-Control"]


@pytest.mark.parametrize("role", ["patient", "practitioner"])
@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv"])
def test_only_admins_may_read_it(request, login, role, path):
    assert login(request.getfixturevalue(role)).get(path).status_code == 403


def test_nothing_in_the_product_can_change_it(app):
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.audit")]
    assert len(audit_rules) == 2
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)


def test_the_who_filter_takes_an_id(login, admin, history, practitioner):
    ids = shown_ids(login(admin).get(f"/admin/audit?who={practitioner.id}"))
    assert ids == newest_first(AuditEvent.actor_id == practitioner.id) and len(ids) == 2


def test_the_who_filter_takes_part_of_a_name_or_email(login, admin, history, practitioner):
    client = login(admin)
    expected = newest_first(AuditEvent.actor_id == practitioner.id)
    assert shown_ids(client.get("/admin/audit?who=vaidya")) == expected
    assert shown_ids(client.get("/admin/audit?who=ramesh@clinic")) == expected


def test_the_action_filter_keeps_only_that_action(login, admin, history):
    ids = shown_ids(login(admin).get("/admin/audit?action=user_deactivated"))
    assert ids == newest_first(AuditEvent.action == AuditAction.USER_DEACTIVATED) and len(ids) == 1


def test_the_patient_filter_takes_an_id_or_part_of_a_name(login, admin, history, patient):
    client = login(admin)
    expected = newest_first(AuditEvent.patient_id == patient.id)
    assert shown_ids(client.get(f"/admin/audit?patient={patient.id}")) == expected
    assert shown_ids(client.get("/admin/audit?patient=priya")) == expected and len(expected) == 1


def test_the_date_filter_keeps_whole_days_in_the_viewers_zone(login, admin, history):
    ids = shown_ids(login(admin).get("/admin/audit?from=2026-03-05&to=2026-03-06"))
    assert ids == newest_first(AuditEvent.detail.in_(["n=1", "n=2"]))


def test_pages_follow_each_other_without_repeating_records(login, admin):
    for n in range(55):
        audit.record(AuditAction.SIGNED_IN, actor_id=admin.id, detail={"n": n})
    db.session.commit()
    client = login(admin)
    first = client.get("/admin/audit")
    cursor = re.search(r'href="/admin/audit\?before=(\d+)"', first.get_data(as_text=True)).group(1)
    second = client.get(f"/admin/audit?before={cursor}")
    assert shown_ids(first) + shown_ids(second) == newest_first()
    assert len(shown_ids(first)) == 50


def test_an_htmx_page_request_gets_only_the_results(login, admin, history):
    body = login(admin).get("/admin/audit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="audit-results"' in body and "<html" not in body


BAD_FILTERS = {
    "who=%C2%B2": "An id is a whole number",
    f"who={MAX_ID + 1}": "An id is a whole number",
    "patient=0": "An id is a whole number",
    "patient=1234567890123456789012345": "An id is a whole number",
    "who=Priya%00": "Remove the control characters",
    "action=deleted_everything": "Not a valid choice",
    "from=2025-02-30": "Not a valid date value",
    "from=0001-01-01": "Enter a date between 1970 and 2999",
    "to=9999-12-31": "Enter a date between 1970 and 2999",
    "from=2025-03-05&to=2025-03-01": "The end date must be on or after the start date",
}


@pytest.mark.parametrize("query", BAD_FILTERS)
def test_each_bad_filter_gets_an_inline_error(login, admin, query):
    response = login(admin).get(f"/admin/audit?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert BAD_FILTERS[query] in body and 'aria-invalid="true"' in body


def test_an_export_with_a_bad_filter_is_refused_with_the_reason(login, admin):
    response = login(admin).get("/admin/audit.csv?who=%C2%B2")
    assert response.status_code == 400 and "An id is a whole number" in response.get_data(as_text=True)
    assert not records(AuditAction.AUDIT_LOG_EXPORTED)


def test_a_broken_page_cursor_is_a_400(login, admin):
    assert login(admin).get("/admin/audit?before=abc").status_code == 400


# --- CSV ------------------------------------------------------------------------------------


def test_the_csv_has_the_header_and_every_filtered_record_newest_first(login, admin, history, practitioner, patient):
    rows = csv_rows(login(admin).get(f"/admin/audit.csv?who={practitioner.id}"))
    assert rows[0] == list(CSV_HEADER)
    assert [int(r[0]) for r in rows[1:]] == newest_first(AuditEvent.actor_id == practitioner.id)
    viewed = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert viewed == {
        "event_id": viewed["event_id"], "time_utc": "2026-03-05T12:00:00+00:00", "action": "notification_viewed",
        "user_id": str(practitioner.id), "user": "Dr. Vaidya Ramesh", "user_role": "practitioner",
        "patient_id": str(patient.id), "patient": "Priya Sharma", "client_address": "", "detail": "n=1",
    }


def test_names_in_the_csv_cannot_run_as_formulas(login, admin):
    mischief = factories.create_practitioner(name="=HYPERLINK(\"http://x\")")
    audit.record_now(AuditAction.SIGNED_IN, actor_id=mischief.id)
    rows = csv_rows(login(admin).get(f"/admin/audit.csv?who={mischief.id}"))
    assert rows[1][4] == "'=HYPERLINK(\"http://x\")"
