"""The audit log: who did what, when, from where, and to which patient's data.

Rows are only ever added. The database itself refuses to change or remove one (a trigger on
`audit_events`, created by its migration), and the product has no way to ask it to.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime, enum_type
from app.vocabulary import Vocabulary


class AuditAction(Vocabulary):
    """Everything the audit log records, each in one word the CSV and the filters use."""

    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGNED_OUT = "signed_out"
    TWO_FACTOR_PASSED = "two_factor_passed"
    TWO_FACTOR_FAILED = "two_factor_failed"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    TWO_FACTOR_RESET = "two_factor_reset"
    PASSWORD_CHANGED = "password_changed"
    PROFILE_CHANGED = "profile_changed"
    PREFERENCES_CHANGED = "preferences_changed"
    NOTIFICATION_VIEWED = "notification_viewed"
    DELIVERY_LOG_VIEWED = "delivery_log_viewed"
    DELIVERY_LOG_EXPORTED = "delivery_log_exported"
    AUDIT_LOG_EXPORTED = "audit_log_exported"
    SEND_CREATED = "send_created"
    SEND_CANCELLED = "send_cancelled"
    MESSAGE_CANCELLED = "message_cancelled"
    MESSAGE_RESCHEDULED = "message_rescheduled"
    NOTIFICATION_CANCELLED = "notification_cancelled"
    NOTIFICATION_RESCHEDULED = "notification_rescheduled"
    USER_CREATED = "user_created"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    PRACTITIONER_ASSIGNED = "practitioner_assigned"
    SMS_OPTED_OUT = "sms_opted_out"
    SMS_OPTED_IN = "sms_opted_in"
    EMAIL_OPTED_OUT = "email_opted_out"
    TEMPLATES_INSTALLED = "templates_installed"
    TEMPLATE_CHANGED = "template_changed"
    TEMPLATE_RESTORED = "template_restored"
    CLINIC_SETTINGS_CHANGED = "clinic_settings_changed"
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_OUTCOME_RECORDED = "appointment_outcome_recorded"
    TREATMENT_PLAN_CREATED = "treatment_plan_created"
    TREATMENT_PLAN_CLOSED = "treatment_plan_closed"
    TREATMENT_PROGRESS_RECORDED = "treatment_progress_recorded"
    MEDICATION_PRESCRIBED = "medication_prescribed"
    MEDICATION_CHANGED = "medication_changed"
    MEDICATION_STOPPED = "medication_stopped"
    MEDICATION_TAKEN = "medication_taken"
    # For the clinic systems' JSON API and its keys.
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    API_KEY_USED = "api_key_used"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    AuditAction.SIGNED_IN: "Signed in",
    AuditAction.SIGN_IN_FAILED: "Sign-in refused",
    AuditAction.SIGNED_OUT: "Signed out",
    AuditAction.TWO_FACTOR_PASSED: "Two-factor code accepted",
    AuditAction.TWO_FACTOR_FAILED: "Two-factor code refused",
    AuditAction.TWO_FACTOR_ENABLED: "Two-factor sign-in turned on",
    AuditAction.TWO_FACTOR_DISABLED: "Two-factor sign-in turned off",
    AuditAction.TWO_FACTOR_RESET: "Two-factor sign-in reset by an admin",
    AuditAction.PASSWORD_CHANGED: "Password changed",
    AuditAction.PROFILE_CHANGED: "Time zone or language changed",
    AuditAction.PREFERENCES_CHANGED: "Delivery preferences changed",
    AuditAction.NOTIFICATION_VIEWED: "Notification viewed",
    AuditAction.DELIVERY_LOG_VIEWED: "Delivery log viewed",
    AuditAction.DELIVERY_LOG_EXPORTED: "Delivery log exported",
    AuditAction.AUDIT_LOG_EXPORTED: "Audit log exported",
    AuditAction.SEND_CREATED: "Send created",
    AuditAction.SEND_CANCELLED: "Send cancelled",
    AuditAction.MESSAGE_CANCELLED: "Message cancelled",
    AuditAction.MESSAGE_RESCHEDULED: "Message rescheduled",
    AuditAction.NOTIFICATION_CANCELLED: "Channel cancelled",
    AuditAction.NOTIFICATION_RESCHEDULED: "Channel rescheduled",
    AuditAction.USER_CREATED: "User created",
    AuditAction.USER_DEACTIVATED: "User deactivated",
    AuditAction.USER_REACTIVATED: "User reactivated",
    AuditAction.PRACTITIONER_ASSIGNED: "Practitioner assigned",
    AuditAction.SMS_OPTED_OUT: "Opted out of SMS",
    AuditAction.SMS_OPTED_IN: "Opted in to SMS again",
    AuditAction.EMAIL_OPTED_OUT: "Opted out of email",
    AuditAction.TEMPLATES_INSTALLED: "Templates installed",
    AuditAction.TEMPLATE_CHANGED: "Template edited",
    AuditAction.TEMPLATE_RESTORED: "Template version restored",
    AuditAction.CLINIC_SETTINGS_CHANGED: "Clinic settings changed",
    AuditAction.APPOINTMENT_BOOKED: "Appointment booked",
    AuditAction.APPOINTMENT_RESCHEDULED: "Appointment rescheduled",
    AuditAction.APPOINTMENT_CANCELLED: "Appointment cancelled",
    AuditAction.APPOINTMENT_OUTCOME_RECORDED: "Appointment outcome recorded",
    AuditAction.TREATMENT_PLAN_CREATED: "Treatment plan created",
    AuditAction.TREATMENT_PLAN_CLOSED: "Treatment plan completed or stopped",
    AuditAction.TREATMENT_PROGRESS_RECORDED: "Treatment progress recorded",
    AuditAction.MEDICATION_PRESCRIBED: "Medication course prescribed",
    AuditAction.MEDICATION_CHANGED: "Medication course changed",
    AuditAction.MEDICATION_STOPPED: "Medication course stopped",
    AuditAction.MEDICATION_TAKEN: "Medication dose taken",
    AuditAction.API_KEY_CREATED: "API key created",
    AuditAction.API_KEY_REVOKED: "API key revoked",
    AuditAction.API_KEY_USED: "API key used",
}


class AuditEvent(Model):
    """One recorded action. `detail` holds ids, counts and names of things, never patient data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, length=40), index=True)
    # Who acted: None for the shell, a provider's report, or a sign-in to an unknown account.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Whose data the action read or changed, when it was one patient's.
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    client_address: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[str | None] = mapped_column(sa.String(255))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
