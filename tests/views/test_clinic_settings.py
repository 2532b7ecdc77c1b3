"""The clinic's settings page, and what "two-factor sign-in required for staff" does."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.services import clinic_settings
from app.services.errors import ValidationError
from app.vocabulary import Channel, NotificationType
from tests import factories
from tests.conftest import csrf_token_from, log_in
from tests.pages import field_error, one

SETUP = "/account/two-factor/setup"


@pytest.fixture
def required(admin):
    clinic_settings.save_settings(admin, require_staff_two_factor=True)


def test_the_requirement_is_off_until_an_admin_turns_it_on(app):
    assert clinic_settings.current_settings().require_staff_two_factor is False


def test_an_admin_turns_the_requirement_on_from_the_settings_page(login, admin):
    client = login(factories.create_admin())
    factories.enrol_two_factor(admin)
    token = csrf_token_from(client.get("/admin/settings").get_data(as_text=True))
    response = client.post("/admin/settings", data={"require_staff_two_factor": "y", "csrf_token": token})
    assert response.status_code == 302
    saved = clinic_settings.current_settings()
    assert saved.require_staff_two_factor and saved.updated_by_id != admin.id


def test_the_settings_page_names_the_staff_without_it(login, admin, practitioner, patient):
    client = login(admin)
    factories.enrol_two_factor(admin)
    body = client.get("/admin/settings").get_data(as_text=True)
    assert "Staff without two-factor sign-in (1):" in body and "Dr. Vaidya Ramesh" in body
    assert "Priya Sharma" not in body


def test_staff_without_it_are_sent_to_set_it_up_after_signing_in(client, practitioner, required):
    log_in(client, practitioner)
    assert client.get("/").headers["Location"] == SETUP
    assert client.get(SETUP).status_code == 200


@pytest.mark.parametrize("path", ["/monitor", "/compose", "/account", "/admin/log"])
def test_staff_who_must_set_it_up_can_open_nothing_else(client, admin, required, path):
    log_in(client, admin)
    assert client.get(path).headers["Location"] == SETUP


def test_htmx_requests_move_the_whole_page_to_set_up(login, practitioner, required):
    response = login(practitioner).get("/monitor", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == SETUP


def test_staff_who_must_set_it_up_can_still_sign_out(client, practitioner, required):
    log_in(client, practitioner)
    token = csrf_token_from(client.get(SETUP).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"


def test_once_set_up_staff_use_every_page_again(login, practitioner, required):
    client = login(practitioner)
    factories.enrol_two_factor(practitioner)
    assert client.get("/monitor").status_code == 200


def test_patients_are_not_made_to_set_it_up(login, patient, required):
    assert login(patient).get("/inbox").status_code == 200


def test_staff_cannot_turn_it_off_while_it_is_required(app, practitioner, admin):
    enrolment = factories.enrol_two_factor(practitioner)
    client = app.test_client()
    log_in(client, practitioner)
    token = csrf_token_from(client.get("/login/code").get_data(as_text=True))
    client.post("/login/code", data={"code": factories.code_for(enrolment.secret), "csrf_token": token})
    clinic_settings.save_settings(admin, require_staff_two_factor=True)
    page = client.get("/account").get_data(as_text=True)
    assert "cannot be turned off" in page and "/account/two-factor/disable" not in page
    response = client.post("/account/two-factor/disable",
                           data={"code": enrolment.recovery_codes[0], "csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == "/account"
    db_user = factories.reload(practitioner)
    assert db_user.two_factor_enabled


def test_the_channels_by_default_start_as_suggested(app):
    defaults = clinic_settings.channel_defaults()
    assert defaults[NotificationType.APPOINTMENT_REMINDER] == {Channel.SMS, Channel.EMAIL}
    assert defaults[NotificationType.MEDICATION_REMINDER] == {Channel.PUSH}
    assert defaults[NotificationType.TREATMENT_UPDATE] == {Channel.EMAIL}
    assert defaults[NotificationType.HEALTH_ALERT] == {Channel.SMS, Channel.EMAIL, Channel.PUSH}


def test_an_admin_sets_the_channels_by_default_per_type_on_the_settings_page(client_request, admin):
    pages = client_request.login(admin)
    factories.enrol_two_factor(admin)
    page = pages.get("/admin/settings")
    grid = {str(box["name"]): "y" for box in page.select(".channel-grid input[checked]")}
    grid.pop("medication_reminder-push")
    pages.post("/admin/settings", data=grid | {"medication_reminder-sms": "y"})
    defaults = clinic_settings.channel_defaults()
    assert defaults[NotificationType.MEDICATION_REMINDER] == {Channel.SMS}
    assert defaults[NotificationType.APPOINTMENT_REMINDER] == {Channel.SMS, Channel.EMAIL}
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.CLINIC_SETTINGS_CHANGED)
                               ).one()
    assert event.actor_id == admin.id and "defaults=medication_reminder:sms" in event.detail


def test_a_patient_who_never_chose_gets_the_clinics_default_for_the_type(admin, practitioner):
    newcomer = factories.create_patient(practitioner=practitioner, phone="+919800000031", preferred_channels=None)
    clinic_settings.save_settings(admin, require_staff_two_factor=False,
                                  default_channels={"medication_reminder": ["sms", "email"]})
    result = factories.create_send(sender=practitioner, recipients=[newcomer], channels=None,
                                   type="medication_reminder")
    assert sorted(item.channel.value for item in result.items) == ["email", "in_app", "sms"]


def test_a_patient_who_chose_is_not_moved_by_a_new_default(admin, practitioner):
    chose = factories.create_patient(practitioner=practitioner, preferred_channels=["in_app"])
    clinic_settings.save_settings(admin, require_staff_two_factor=False,
                                  default_channels={"treatment_update": ["email"]})
    result = factories.create_send(sender=practitioner, recipients=[chose], channels=None)
    assert [item.channel.value for item in result.items] == ["in_app"]


@pytest.mark.parametrize("grid", [{"fax_reminder": ["sms"]}, {"treatment_update": ["pigeon"]}])
def test_an_unknown_type_or_channel_by_default_is_refused_and_nothing_saved(admin, grid):
    with pytest.raises(ValidationError):
        clinic_settings.save_settings(admin, require_staff_two_factor=True, default_channels=grid)
    assert clinic_settings.current_settings().require_staff_two_factor is False


def test_an_admin_chooses_the_order_to_fall_back_in(client_request, admin):
    pages = client_request.login(admin)
    factories.enrol_two_factor(admin)
    page = pages.get("/admin/settings")
    assert one(page, "#fallback_order option[selected]")["value"] == "push,sms,email"
    pages.post("/admin/settings", data={"fallback_order": "email,sms,push"})
    assert clinic_settings.fallback_order() == (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.CLINIC_SETTINGS_CHANGED)
                               ).one()
    assert "fallback=email,sms,push" in event.detail


@pytest.mark.parametrize("order", ["email,sms", "sms,sms,email", "fax,sms,email", "in_app,sms,email"])
def test_an_order_not_offered_is_refused_at_its_field_and_nothing_saved(client_request, admin, order):
    pages = client_request.login(admin)
    factories.enrol_two_factor(admin)
    pages.get("/admin/settings")
    page = pages.post("/admin/settings", data={"fallback_order": order}, expected_status=422)
    assert field_error(page, "fallback_order") == "Choose one of the orders offered"
    assert clinic_settings.current_settings().updated_at is None


def test_an_admin_sets_the_sms_segment_limit(client_request, admin):
    pages = client_request.login(admin)
    page = pages.get("/admin/settings")
    grid = {str(box["name"]): "y" for box in page.select(".channel-grid input[checked]")}
    pages.post("/admin/settings", data=grid | {"sms_segment_limit": "2"})
    assert clinic_settings.current_settings().sms_segment_limit == 2


@pytest.mark.parametrize("limit", ["0", "11", "three"])
def test_a_segment_limit_out_of_range_is_refused_and_nothing_changes(client_request, admin, limit):
    pages = client_request.login(admin)
    pages.get("/admin/settings")
    page = pages.post("/admin/settings", data={"sms_segment_limit": limit}, expected_status=422)
    assert field_error(page, "sms_segment_limit")
    assert clinic_settings.current_settings().sms_segment_limit == 3
