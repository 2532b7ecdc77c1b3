"""The fixed vocabularies of the product: roles, channels, notification types, priorities,
appointment, treatment plan and medication course statuses.

Each is defined once here; forms, queries, templates and the API use these members, never
string literals of their own. The module sits outside `app.models` and imports nothing of the
app, because every part speaks it: models store it, channels (which know no models) route by
it, services and pages choose by it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeGuard


def N_(words: str) -> str:  # noqa: N802 (the name gettext's tools look for)
    """Marks words a patient reads, so the message catalogues carry them; pages translate them."""
    return words


class Vocabulary(StrEnum):
    """A StrEnum that can say whether a raw value is one of its members."""

    @classmethod
    def has_value(cls, value: object) -> TypeGuard[str]:
        return isinstance(value, str) and value in cls._value2member_map_


class Role(Vocabulary):
    ADMIN = "admin"
    PRACTITIONER = "practitioner"
    PATIENT = "patient"


class Channel(Vocabulary):
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"
    IN_APP = "in_app"

    @property
    def label(self) -> str:
        return _CHANNEL_LABELS[self]

    @property
    def noun(self) -> str:
        """The channel's name inside a sentence ("Cancelled SMS and email")."""
        return _CHANNEL_NOUNS[self]

    @property
    def interrupts(self) -> bool:
        """Whether a delivery can wake the patient, so quiet hours apply to it."""
        return self is not Channel.IN_APP


_CHANNEL_LABELS = {
    Channel.SMS: N_("SMS"),
    Channel.EMAIL: N_("Email"),
    Channel.PUSH: N_("Push"),
    Channel.IN_APP: N_("In-app"),
}
_CHANNEL_NOUNS = {
    Channel.SMS: N_("SMS"),
    Channel.EMAIL: N_("email"),
    Channel.PUSH: N_("push"),
    Channel.IN_APP: N_("in-app"),
}


class NotificationType(Vocabulary):
    APPOINTMENT_REMINDER = "appointment_reminder"
    APPOINTMENT_CONFIRMATION = "appointment_confirmation"
    APPOINTMENT_CANCELLATION = "appointment_cancellation"
    TREATMENT_UPDATE = "treatment_update"
    MEDICATION_REMINDER = "medication_reminder"
    HEALTH_ALERT = "health_alert"
    PROGRESS_UPDATE = "progress_update"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @property
    def is_urgent(self) -> bool:
        """Urgent types jump the queue and are never held back by quiet hours."""
        return self is NotificationType.HEALTH_ALERT

    @property
    def is_time_critical(self) -> bool:
        """Types that go on the high-priority queue."""
        return self in (NotificationType.HEALTH_ALERT, NotificationType.MEDICATION_REMINDER)


_TYPE_LABELS = {
    NotificationType.APPOINTMENT_REMINDER: N_("Appointment reminder"),
    NotificationType.APPOINTMENT_CONFIRMATION: N_("Appointment confirmation"),
    NotificationType.APPOINTMENT_CANCELLATION: N_("Appointment cancellation"),
    NotificationType.TREATMENT_UPDATE: N_("Treatment update"),
    NotificationType.MEDICATION_REMINDER: N_("Medication reminder"),
    NotificationType.HEALTH_ALERT: N_("Health alert"),
    NotificationType.PROGRESS_UPDATE: N_("Progress update"),
}


class DeviceKind(Vocabulary):
    """What a push device is: the clinic's app (through FCM) or a browser (Web Push)."""

    FCM = "fcm"
    WEB_PUSH = "webpush"


class Priority(Vocabulary):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class AppointmentStatus(Vocabulary):
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return "No-show" if self is AppointmentStatus.NO_SHOW else self.value.capitalize()

    @property
    def is_upcoming(self) -> bool:
        """Still to happen: its reminders stand, and it may be moved or cancelled."""
        return self in (AppointmentStatus.BOOKED, AppointmentStatus.RESCHEDULED)


class TreatmentPlanStatus(Vocabulary):
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_active(self) -> bool:
        """Still under way: progress is recorded on it, and the patient can have no other."""
        return self is TreatmentPlanStatus.ACTIVE


class ApiScope(Vocabulary):
    """What an API key may do: each route of the JSON API needs one of these."""

    SEND = "send"  # send, cancel and reschedule notifications
    READ = "read"  # read notifications and delivery and queue stats
    APPOINTMENTS = "appointments"
    PATIENTS = "patients"


class MedicationCourseStatus(Vocabulary):
    ACTIVE = "active"
    STOPPED = "stopped"  # by its practitioner, before its end date
    ENDED = "ended"  # its end date has passed; never stored, read from the dates

    @property
    def label(self) -> str:
        return self.value.capitalize()
