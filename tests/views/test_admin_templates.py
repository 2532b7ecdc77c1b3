"""The templates pages: the list, editing with a live preview, refusals on the page, versions and restoring."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.template import Template, TemplateVersion
from app.services.templates import save_template, slot_for
from app.vocabulary import Channel, NotificationType
from tests.pages import error_summary, field_error, one, text, texts

REMINDER_SMS = "/admin/templates/appointment_reminder/sms/en"
REMINDER_EMAIL = "/admin/templates/appointment_reminder/email/en"


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def stored_body(type_: str, channel: str, locale: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Template.body).where(
        Template.key == NotificationType(type_), Template.channel == Channel(channel), Template.locale == locale))


def save_on_page(admin_pages, path: str, expected_status: int = 302, **fields):
    admin_pages.get(path)
    return admin_pages.post(path, data=fields, expected_status=expected_status)


def test_the_list_shows_every_type_channel_and_language(admin_pages, templates):
    page = admin_pages.get("/admin/templates")
    rows = {str(row["id"]) for row in page.select("#templates tbody tr")}
    assert rows == {f"template-{t.value}-{c.value}-{locale}"
                    for t in NotificationType for c in Channel for locale in ("en", "hi")}


def test_the_list_says_which_are_missing(admin_pages, templates):
    db.session.execute(sa.delete(Template).where(Template.key == NotificationType.HEALTH_ALERT,
                                                 Template.locale == "hi"))
    db.session.commit()
    page = admin_pages.get("/admin/templates")
    assert text(one(page, "#template-health_alert-push-hi td a")) == "Missing: write it"
    assert texts(page, "[role=status]") == ["4 missing: open one to write it (it starts from the default text)."]


def test_the_edit_page_lists_the_types_variables(admin_pages, templates):
    page = admin_pages.get("/admin/templates/medication_reminder/email/hi")
    assert texts(page, "dl.details dt code") == ["{{ patient_name }}", "{{ practitioner_name }}", "{{ clinic }}",
                                                 "{{ inbox_url }}", "{{ medicine }}", "{{ dose }}"]


def test_sms_has_no_subject_to_edit(admin_pages, templates):
    page = admin_pages.get(REMINDER_SMS)
    assert page.select("#subject") == [] and page.select("#body")


def test_a_valid_save_changes_the_template_and_returns_to_its_page(admin_pages, templates):
    admin_pages.get(REMINDER_SMS)
    admin_pages.post(REMINDER_SMS, data={"body": "{{ clinic }}: {{ when }}"}, expected_redirect=REMINDER_SMS)
    assert stored_body("appointment_reminder", "sms", "en") == "{{ clinic }}: {{ when }}"


def test_a_refused_save_shows_the_line_on_the_page_and_changes_nothing(admin_pages, templates):
    before = stored_body("appointment_reminder", "email", "en")
    page = save_on_page(admin_pages, REMINDER_EMAIL, 422, subject="Reminder", body="Hello\n{% if when %}")
    assert field_error(page, "body").startswith("Line 2: ") and "body" in error_summary(page)
    assert stored_body("appointment_reminder", "email", "en") == before


def test_an_unknown_variable_is_named_on_the_page(admin_pages, templates):
    page = save_on_page(admin_pages, REMINDER_EMAIL, 422, subject="Reminder", body="Bring {{ medicine }}")
    assert field_error(page, "body").startswith("Line 1: “medicine” is not a variable")


def test_an_empty_body_is_refused_on_the_page(admin_pages, templates):
    page = save_on_page(admin_pages, REMINDER_EMAIL, 422, subject="Reminder", body="")
    assert field_error(page, "body") == "Write the text"


def test_a_save_without_its_csrf_token_is_refused(admin_pages, templates):
    before = stored_body("appointment_reminder", "sms", "en")
    admin_pages.post(REMINDER_SMS, data={"body": "{{ when }}"}, csrf=False, expected_status=400)
    assert stored_body("appointment_reminder", "sms", "en") == before


def test_the_page_lists_versions_and_a_restore_brings_one_back(admin_pages, admin, templates):
    installed = stored_body("appointment_reminder", "sms", "en")
    save_template(admin, slot_for("appointment_reminder", "sms", "en"), subject="", body="{{ when }}")
    page = admin_pages.get(REMINDER_SMS)
    assert texts(page, "#versions tbody tr td:nth-child(2)") == ["Asha Admin", "Installed"]
    restore = one(page, "#versions form")["action"]
    admin_pages.post(str(restore), expected_redirect=REMINDER_SMS)
    assert stored_body("appointment_reminder", "sms", "en") == installed


def test_restoring_a_version_of_another_template_is_not_found(admin_pages, admin, templates):
    save_template(admin, slot_for("appointment_reminder", "email", "en"), subject="Soon", body="{{ when }}")
    other = db.session.scalar(sa.select(sa.func.min(TemplateVersion.id)))
    admin_pages.get(REMINDER_SMS)
    admin_pages.post(f"{REMINDER_SMS}/versions/{other}/restore", expected_status=404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TemplateVersion)) == 2


@pytest.mark.parametrize("path", [
    "/admin/templates/no_such_type/sms/en",
    "/admin/templates/appointment_reminder/fax/en",
    "/admin/templates/appointment_reminder/sms/fr",
])
def test_an_unknown_type_channel_or_language_in_the_url_is_not_found(admin_pages, templates, path):
    admin_pages.get(path, expected_status=404)
    admin_pages.get(REMINDER_SMS)
    admin_pages.post(path + "/preview", data={"body": "x"}, expected_status=404)


@pytest.mark.parametrize("who", ["practitioner", "patient"])
def test_only_admins_open_the_templates_pages(client_request, request, templates, who):
    pages = client_request.login(request.getfixturevalue(who))
    pages.get("/admin/templates", expected_status=403)
    pages.get(REMINDER_SMS, expected_status=403)


def test_the_preview_renders_sample_values(admin_pages, templates):
    admin_pages.get(REMINDER_EMAIL)
    page = admin_pages.post(f"{REMINDER_EMAIL}/preview", data={"subject": "On {{ when }}",
                                                               "body": "Dear {{ patient_name }}"},
                            expected_status=200, headers={"HX-Request": "true"})
    assert text(one(page, "[data-preview] p.small")) == "Subject: On Mon 2 Dec, 10:00"
    assert "Dear Priya Sharma" in str(one(page, "iframe")["srcdoc"])


def test_the_preview_counts_sms_segments(admin_pages, templates):
    admin_pages.get(REMINDER_SMS)
    page = admin_pages.post(f"{REMINDER_SMS}/preview", data={"body": "See you {{ when }}"}, expected_status=200)
    assert text(one(page, ".sms-bubble")) == "See you Mon 2 Dec, 10:00"
    assert text(one(page, "[data-sms-cost]")) == "24 characters · 1 segment · GSM-7"


def test_the_preview_reports_a_problem_instead_of_failing(admin_pages, templates):
    admin_pages.get(REMINDER_SMS)
    page = admin_pages.post(f"{REMINDER_SMS}/preview", data={"body": "{{ when }\nsecond"}, expected_status=200)
    assert texts(page, "[data-preview-problems] .error")[0].startswith("Line 1: ")
