"""Admins editing templates: what a save refuses, the versions it keeps, restoring one, and what sends get."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.models.template import Template, TemplateVersion
from app.services import clinic_settings
from app.services.default_templates import DEFAULT_TEMPLATES
from app.services.errors import NotFound, ValidationError
from app.services.templates import TemplateSlot, problems_of, restore_version, save_template, slot_for
from tests import factories

REMINDER_SMS = ("appointment_reminder", "sms", "en")
REMINDER_EMAIL = ("appointment_reminder", "email", "en")
NEW_SMS = "{{ clinic }}: see you on {{ when }}."


def stored(key: tuple[str, str, str]) -> Template:
    template = slot_for(*key).template
    assert template is not None
    return template


def texts_of(key: tuple[str, str, str]) -> tuple[str, str]:
    template = stored(key)
    return template.subject, template.body


def versions(key: tuple[str, str, str]) -> list[TemplateVersion]:
    stmt = sa.select(TemplateVersion).where(TemplateVersion.template_id == stored(key).id).order_by(TemplateVersion.id)
    return list(db.session.scalars(stmt))


def refusal(admin, key: tuple[str, str, str], *, subject: str = "Reminder", body: str) -> dict[str, str]:
    before = texts_of(key)
    with pytest.raises(ValidationError) as refused:
        save_template(admin, slot_for(*key), subject=subject, body=body)
    db.session.expire_all()
    assert texts_of(key) == before and versions(key) == []
    return refused.value.errors


def reminder_sms_to(practitioner, patient) -> str:
    result = factories.create_send(sender=practitioner, recipients=[patient], type="appointment_reminder",
                                   channels=["sms"], title="", body="", template_key="appointment_reminder",
                                   data={"when": "Mon 2 Dec, 10:00"})
    [row] = factories.notifications_of(result)
    return row.message


@pytest.mark.parametrize(("key", "texts"), list(DEFAULT_TEMPLATES.items()),
                         ids=[f"{t.value}-{c.value}-{locale}" for t, c, locale in DEFAULT_TEMPLATES])
def test_every_default_template_passes_the_checks_a_save_makes(app, key, texts):
    subject, body = texts
    assert problems_of(TemplateSlot(*key), subject=subject, body=body) == {}


def test_a_saved_edit_is_what_a_new_send_renders(admin, practitioner, patient, templates):
    save_template(admin, slot_for(*REMINDER_SMS), subject="", body=NEW_SMS)
    assert reminder_sms_to(practitioner, patient) == "Sutra Ayurveda Clinic: see you on Mon 2 Dec, 10:00."


def test_a_notification_written_before_an_edit_keeps_its_text(admin, practitioner, patient, templates):
    before = reminder_sms_to(practitioner, patient)
    save_template(admin, slot_for(*REMINDER_SMS), subject="", body=NEW_SMS)
    after = reminder_sms_to(practitioner, patient)
    assert [row.message for row in factories.notifications()] == [before, after] and before != after


def test_a_syntax_error_is_refused_with_its_line(admin, templates):
    errors = refusal(admin, REMINDER_SMS, body="{{ clinic }}: see you\non {{ when }\n")
    assert errors["body"].startswith("Line 2: ")


def test_an_unknown_variable_is_refused_with_its_name_and_line(admin, templates):
    errors = refusal(admin, REMINDER_SMS, body="{{ clinic }}:\nbring {{ medicine }} on {{ when }}")
    assert errors["body"].startswith("Line 2: “medicine” is not a variable of appointment reminder templates")


def test_an_sms_whose_fixed_text_alone_exceeds_the_segment_limit_is_refused(admin, templates):
    clinic_settings.save_settings(admin, require_staff_two_factor=False, sms_segment_limit=1)
    errors = refusal(admin, REMINDER_SMS, body="{{ when }} " + "x" * 161)
    assert "2 segments, over the clinic's limit of 1" in errors["body"]


def test_an_sms_that_fits_only_without_its_values_is_saved(admin, templates):
    clinic_settings.save_settings(admin, require_staff_two_factor=False, sms_segment_limit=1)
    save_template(admin, slot_for(*REMINDER_SMS), subject="", body="{{ when }} " + "x" * 150)
    assert stored(REMINDER_SMS).body.endswith("x" * 150)


def test_an_error_in_the_subject_is_refused_too(admin, templates):
    errors = refusal(admin, REMINDER_EMAIL, subject="Your {{ visit }}", body="See you on {{ when }}.")
    assert set(errors) == {"subject"} and "“visit”" in errors["subject"]


@pytest.mark.parametrize(("body", "message"), [
    ("  \n", "Write the text"),
    ("x" * 4001, "at most 4,000"),
])
def test_an_empty_or_over_long_text_is_refused(admin, templates, body, message):
    assert message in refusal(admin, REMINDER_EMAIL, subject="Reminder", body=body)["body"]


def test_a_save_keeps_the_text_it_replaced_as_a_version(admin, templates):
    installed = texts_of(REMINDER_EMAIL)
    save_template(admin, slot_for(*REMINDER_EMAIL), subject="Soon: {{ when }}", body="See you on {{ when }}.")
    kept = versions(REMINDER_EMAIL)
    assert [(v.subject, v.body, v.saved_by_id) for v in kept] == [
        (*installed, None), ("Soon: {{ when }}", "See you on {{ when }}.", admin.id)
    ]


def test_a_save_adds_a_missing_template(admin, templates):
    db.session.execute(sa.delete(Template).where(Template.locale == "hi"))
    db.session.commit()
    save_template(admin, slot_for("health_alert", "push", "hi"), subject="चेतावनी", body="{{ message }}")
    assert texts_of(("health_alert", "push", "hi")) == ("चेतावनी", "{{ message }}")


def test_restoring_a_version_brings_its_text_back_as_a_new_version(admin, templates):
    installed = texts_of(REMINDER_EMAIL)
    save_template(admin, slot_for(*REMINDER_EMAIL), subject="Soon", body="See you on {{ when }}.")
    first = versions(REMINDER_EMAIL)[0]
    restore_version(admin, slot_for(*REMINDER_EMAIL), first.id)
    assert texts_of(REMINDER_EMAIL) == installed
    latest = versions(REMINDER_EMAIL)[-1]
    assert (latest.restored_from_id, latest.saved_by_id, len(versions(REMINDER_EMAIL))) == (first.id, admin.id, 3)


def test_a_restore_is_in_the_audit_log(admin, templates):
    save_template(admin, slot_for(*REMINDER_EMAIL), subject="Soon", body="See you on {{ when }}.")
    first = versions(REMINDER_EMAIL)[0]
    restore_version(admin, slot_for(*REMINDER_EMAIL), first.id)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TEMPLATE_RESTORED)).one()
    assert event.actor_id == admin.id and f"restored_from={first.id}" in event.detail


def test_a_version_of_another_template_cannot_be_restored(admin, templates):
    save_template(admin, slot_for(*REMINDER_EMAIL), subject="Soon", body="See you on {{ when }}.")
    other = versions(REMINDER_EMAIL)[0]
    before = texts_of(REMINDER_SMS)
    with pytest.raises(NotFound):
        restore_version(admin, slot_for(*REMINDER_SMS), other.id)
    assert texts_of(REMINDER_SMS) == before and versions(REMINDER_SMS) == []
