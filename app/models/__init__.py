"""All models, imported here so Alembic and the app see the whole schema."""

from app.models.api_key import ApiIdempotencyKey, ApiKey
from app.models.appointment import Appointment
from app.models.audit_event import AuditEvent
from app.models.clinic_settings import ClinicSettings
from app.models.early_receipt import EarlyReceipt
from app.models.login_session import LoginSession
from app.models.medication import MedicationCourse, MedicationDose
from app.models.notification import Notification, NotificationEvent, NotificationGroup
from app.models.template import Template, TemplateVersion
from app.models.treatment_plan import TreatmentPhase, TreatmentPlan, TreatmentProgress
from app.models.user import Device, RecoveryCode, User
from app.models.webhook_receipt import WebhookReceipt

__all__ = [
    "ApiIdempotencyKey", "ApiKey", "Appointment", "AuditEvent", "ClinicSettings", "Device", "EarlyReceipt",
    "LoginSession", "MedicationCourse", "MedicationDose", "Notification", "NotificationEvent", "NotificationGroup",
    "RecoveryCode", "Template", "TemplateVersion", "TreatmentPhase", "TreatmentPlan", "TreatmentProgress", "User",
    "WebhookReceipt",
]
