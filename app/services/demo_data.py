"""Demo clinic for `make run`: staff and patients to try every page with, created once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models.user import User
from app.schemas import read
from app.schemas.send import ALL_MY_PATIENTS, SendRequest
from app.services import appointments
from app.services.accounts import add_device, create_user
from app.services.outbox import create_send
from app.services.templates import install_default_templates
from app.vocabulary import Role

DEMO_PASSWORD = "ayurveda-demo"  # printed by `make run`; for the local demo only


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    name: str
    email: str


_STAFF = [
    (Role.ADMIN, "Asha Admin", "admin@sutra.example"),
    (Role.PRACTITIONER, "Dr. Vaidya Ramesh", "ramesh@sutra.example"),
    (Role.PRACTITIONER, "Dr. Meera Nair", "meera@sutra.example"),
]
_PATIENTS = [
    ("Priya Sharma", "priya@sutra.example", "+919876543210", "Asia/Kolkata", "en", 1),
    ("Arjun Patel", "arjun@sutra.example", "+919812345678", "Asia/Kolkata", "hi", 1),
    ("Lakshmi Iyer", "lakshmi@sutra.example", "+919845012345", "Asia/Kolkata", "en", 1),
    ("Sofia Rossi", "sofia@sutra.example", "+393471234567", "Europe/Rome", "en", 2),
    ("James Carter", "james@sutra.example", "+14155550123", "America/New_York", "en", 2),
]


def seed_demo_data() -> bool:
    """Create the demo clinic unless the clinic already has an admin; True when it was created."""
    install_default_templates()
    if db.session.scalar(sa.select(sa.exists().where(User.role == Role.ADMIN))):
        return False
    staff = []
    for role, name, email in _STAFF:
        staff.append(create_user(role=role, name=name, email=email, password=DEMO_PASSWORD,
                                 timezone="Asia/Kolkata"))
    practitioners = [u for u in staff if u.role is Role.PRACTITIONER]
    for index, (name, email, phone, zone, locale, practitioner) in enumerate(_PATIENTS):
        patient = create_user(
            role=Role.PATIENT, name=name, email=email, password=DEMO_PASSWORD, phone=phone,
            timezone=zone, locale=locale, practitioner_id=practitioners[practitioner - 1].id,
            preferred_channels=["in_app", "email", "sms", "push"] if index % 2 == 0 else None,
            quiet_hours=(time(22, 0), time(7, 0)) if index == 2 else None,
        )
        add_device(patient, f"demo-device-token-{index + 1}", label="Demo phone")
    _send_demo_notifications(practitioners)
    return True


def demo_logins() -> list[DemoLogin]:
    """The demo accounts that still exist and may sign in, staff first, in the seed's order."""
    emails = [email for _, _, email in _STAFF] + [patient[1] for patient in _PATIENTS]
    found = {
        user.email: user
        for user in db.session.scalars(sa.select(User).where(User.email.in_(emails), User.active.is_(True)))
    }
    return [DemoLogin(found[e].role, found[e].name, e) for e in emails if e in found]


def _send_demo_notifications(practitioners: list[User]) -> None:
    """A few sends through the real pipeline, so every page has something to show."""
    tomorrow = (datetime.now(ZoneInfo("Asia/Kolkata")) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    first, second = practitioners
    create_send(first, read(SendRequest, dict(
        type="appointment_reminder", recipient_group=ALL_MY_PATIENTS, template_key="appointment_reminder",
        data={"when": tomorrow.strftime("%a %d %b, %H:%M"), "therapy": "Abhyanga"},
    )))
    create_send(first, read(SendRequest, dict(
        type="medication_reminder", recipient_group=ALL_MY_PATIENTS, template_key="medication_reminder",
        data={"medicine": "Triphala churna", "dose": "1 teaspoon with warm water"}, scheduled_at=tomorrow,
    )))
    create_send(second, read(SendRequest, dict(
        type="treatment_update", recipient_group=ALL_MY_PATIENTS, channels=["in_app", "email"],
        title="Your Panchakarma plan",
        body="Welcome to the clinic. Your seven-day plan starts with Snehapana on Monday.\n\n"
        "Please keep your evenings light and write to us with any questions.",
    )))
    first_patient = db.session.scalar(sa.select(User).where(User.practitioner_id == first.id).order_by(User.id))
    if first_patient is not None:
        appointments.book(first, {"patient_id": first_patient.id, "starts_at": tomorrow + timedelta(days=1),
                                  "treatment": "Shirodhara", "location": "Room 2"})
