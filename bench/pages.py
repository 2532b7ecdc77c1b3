"""Server time of the busiest pages with a clinic's worth of rows, beside a trivial page.

    .venv/bin/python bench/pages.py [--notifications N] [--patients P] [--repeat R] [--explain]

Fills a scratch database with N notifications to P patients (several practitioners, a mix of
channels, types and statuses, two or three events each, spread over 90 days) with bulk Core
inserts, then times each page R times through Flask's test client, signed in as the user the
page is for: Monitor (plain, filtered, deep keyset page), the patient's Inbox, the unread badge
(the function and the cheapest page that carries it) and the admin's filtered delivery log.

A "server time" is one request through the test client: the whole Flask stack runs in this
process (routing, session cookie, Flask-Login, the view, its queries, the templates), without an
HTTP server or network. Every page is requested once per round, in turn, so a noisy machine
slows all of them alike; GET /login (a page that touches no table) and a `SELECT 1` round trip
are measured in the same rounds, and each page's median is also given as a ratio to GET /login.

Everything the run creates (scratch database, Redis data, temporary files) is removed at exit.
See bench/README.md for the options and for reading the output.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import logging
import math
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.delivery import (  # noqa: E402
    LOG_FORMAT,
    bench_redis,
    restore_signal_handlers,
    scratch_database,
)

DEFAULT_BENCH_REDIS_DB = 14
TARGET_P95_MS = 100.0
DAYS = 90
PASSWORD = "bench-password-not-secret"
CHUNK = 5000  # rows per executemany

FIRST_NAMES = (
    "Aarav",
    "Aditi",
    "Ananya",
    "Arjun",
    "Asha",
    "Deepak",
    "Divya",
    "Gita",
    "Hari",
    "Isha",
    "Kavya",
    "Lakshmi",
    "Meena",
    "Mohan",
    "Nandini",
    "Neha",
    "Padma",
    "Pooja",
    "Priya",
    "Rahul",
    "Ravi",
    "Sanjay",
    "Sita",
    "Vikram",
)
LAST_NAMES = (
    "Sharma",
    "Patel",
    "Iyer",
    "Nair",
    "Reddy",
    "Menon",
    "Gupta",
    "Rao",
    "Pillai",
    "Joshi",
    "Kulkarni",
    "Bhat",
    "Das",
    "Verma",
    "Mehta",
    "Rossi",
)
PRACTITIONER_NAMES = (
    "Dr. Vaidya Ramesh",
    "Dr. Meera Nair",
    "Dr. Anil Kulkarni",
    "Dr. Sunita Rao",
    "Dr. Kiran Bhat",
)
THERAPIES = ("Abhyanga", "Shirodhara", "Panchakarma", "Nasya", "Basti", "Udvartana", "Pizhichil")
HOURS = ("9:30 AM", "11:00 AM", "2:00 PM", "4:30 PM", "6:00 PM")
# Title and body of each type; a send fills in the same therapy, herb and hour for everyone.
CONTENT = {
    "appointment_reminder": (
        "{therapy} tomorrow at {hour}",
        "Namaste {first}, a reminder of your {therapy} session with {doctor} tomorrow at {hour}. "
        "Please arrive 15 minutes early and avoid a heavy meal beforehand.",
    ),
    "appointment_confirmation": (
        "{therapy} booked for {hour}",
        "Namaste {first}, your {therapy} session with {doctor} is confirmed for {hour}. "
        "Reply to the clinic if you need to change it.",
    ),
    "treatment_update": (
        "Your treatment plan has changed",
        "{doctor} has updated your plan: {therapy} twice a week for the next three weeks, with "
        "{herb} after dinner. Your next sessions are on the booking page.",
    ),
    "medication_reminder": (
        "Time for your {herb}",
        "Namaste {first}, please take your {herb} with warm water after your meal, as prescribed. "
        "Keep it away from cold drinks for an hour.",
    ),
    "progress_update": (
        "Your progress this week",
        "{doctor} has reviewed your week: digestion and sleep are improving. Continue the {herb} "
        "and the morning routine; we will review again after your next {therapy}.",
    ),
    "health_alert": (
        "Important: please call the clinic",
        "Namaste {first}, {doctor} asks you to call the clinic today about your last results "
        "before your next session.",
    ),
}
HERBS = ("Triphala", "Ashwagandha", "Chyawanprash", "Brahmi", "Guduchi", "Shatavari")

# What a patient's sends reach, by their preferred channels (weights), and the share of
# notifications that come from "all my patients" sends rather than one-patient sends.
CHANNEL_SETS = (
    (("in_app",), 40),
    (("in_app", "email"), 30),
    (("in_app", "sms"), 15),
    (("in_app", "email", "sms"), 10),
    (("in_app", "email", "sms", "push"), 5),
)
TYPE_WEIGHTS = (
    ("appointment_reminder", 35),
    ("appointment_confirmation", 15),
    ("treatment_update", 15),
    ("medication_reminder", 20),
    ("progress_update", 10),
    ("health_alert", 5),
)
BROADCAST_SHARE = 0.15
PROVIDER_OF = {"sms": "twilio", "email": "sendgrid", "push": "fcm"}
OK_HTTP = {"sms": 201, "email": 202, "push": 200}
LATENCY_MS = {"sms": 180, "email": 120, "push": 90}
PERMANENT_ERRORS = {
    "sms": "The 'To' number is not a valid phone number.",
    "email": "The to[0] email does not contain a valid address.",
    "push": "Requested entity was not found.",
}
RETRY_DETAIL = "attempt 1 of 5 failed; retrying in 30 s"
URGENT_TYPES = ("health_alert", "medication_reminder")  # the high-priority queue
TIMESTAMPS = ("sent_at", "delivered_at", "read_at", "cancelled_at", "failed_at")
# Columns a notification leaves empty until its delivery fills them in.
UNSET = dict.fromkeys(
    (
        "status_reason",
        "provider",
        "provider_message_id",
        "job_id",
        "error_message",
        "next_attempt_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "cancelled_at",
        "failed_at",
    )
)
SUPPRESSED_REASONS = {
    "sms": "the patient opted out of SMS",
    "email": "the patient unsubscribed from email",
    "push": "no push device",
}


class BenchFailure(Exception):
    """A page answered with something other than the page: the figures would mean nothing."""


# --- set-up -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--notifications", type=int, default=100_000, help="N: notifications to create"
    )
    parser.add_argument("--patients", type=int, default=1000, help="P: patients they go to")
    parser.add_argument(
        "--practitioners", type=int, default=5, help="practitioners; patients are shared out"
    )
    parser.add_argument("--repeat", type=int, default=50, help="R: timed requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data generator")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="after the timings, print each page's statement count and the plan of its slowest "
        "statement (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL)",
    )
    parser.add_argument(
        "--profile",
        metavar="TEXT",
        help="after the timings, run cProfile over R requests of each page whose label contains "
        "TEXT and print its 25 costliest calls (cumulative time)",
    )
    parser.add_argument(
        "--sql",
        action="append",
        default=[],
        metavar="STATEMENT",
        help="run this statement in the scratch database after the fill, before timing "
        "(to try an index); may be repeated",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=DEFAULT_BENCH_REDIS_DB,
        help="with REDIS_URL: the logical database to use (it must be empty; emptied at the end)",
    )
    args = parser.parse_args(argv)
    if args.patients < 1 or args.practitioners < 1 or args.notifications < 1:
        parser.error("--notifications, --patients and --practitioners must be at least 1")
    if args.practitioners > args.patients:
        parser.error("--practitioners cannot exceed --patients")
    if args.repeat < 2 or args.warmup < 0:
        parser.error("--repeat must be at least 2 and --warmup not negative")
    return args


def app_settings(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "http://localhost",
        "SMS_PROVIDER": "console",
        "EMAIL_PROVIDER": "console",
        "PUSH_PROVIDER": "console",
    }


# --- the data ---------------------------------------------------------------------------------


@dataclass
class Clinic:
    """Who is in the scratch database, and what the probes need to know about it."""

    admin_id: int
    practitioner_ids: list[int]
    patient_ids: list[int]
    practitioner_of: dict[int, int]
    names: dict[int, str]
    emails: dict[int, str]
    inbox_sizes: Counter = field(default_factory=Counter)
    counts: dict[str, Any] = field(default_factory=dict)
    fill_seconds: float = 0.0


@dataclass
class Send:
    created_at: datetime
    sender_id: int
    type: str
    title: str
    recipients: list[tuple[int, tuple[str, ...]]]  # (patient id, channels)
    scheduled_at: datetime | None
    cancelled: bool
    message_of: Callable[[int], str]


class Generator:
    """Deterministic rows: the same arguments give the same clinic (its times relative to now)."""

    def __init__(self, args: argparse.Namespace, now: datetime):
        self.args = args
        self.now = now
        self.rng = random.Random(args.seed)
        self.channels_of: dict[int, tuple[str, ...]] = {}  # patient id -> preferred channels
        self.weight_of: dict[int, float] = {}  # patient id -> how often the clinic writes to them

    def hex_id(self, bits: int = 128) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def weighted(self, pairs):
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    # users

    def users(self, password_hash: str) -> tuple[list[dict], Clinic]:
        from app.services.channel_choice import same_for_every_type

        args, rng = self.args, self.rng
        rows: list[dict] = []
        ids = itertools.count(1)
        created = self.now - timedelta(days=DAYS + 30)

        def person(role: str, name: str, email: str, **extra) -> int:
            user_id = next(ids)
            rows.append(
                {
                    "id": user_id,
                    "role": role,
                    "name": name,
                    "email": email,
                    "phone": None,
                    "timezone": "Asia/Kolkata",
                    "locale": "en",
                    "password_hash": password_hash,
                    "active": True,
                    "practitioner_id": None,
                    "channel_choices": same_for_every_type(["email"]),
                    "created_at": created,
                    **extra,
                }
            )
            return user_id

        admin_id = person("admin", "Asha Admin", "admin@clinic.test")
        practitioner_ids = [
            person(
                "practitioner",
                PRACTITIONER_NAMES[i]
                if i < len(PRACTITIONER_NAMES)
                else f"Dr. Practitioner {i + 1}",
                f"dr{i + 1}@clinic.test",
            )
            for i in range(args.practitioners)
        ]
        patient_ids: list[int] = []
        practitioner_of: dict[int, int] = {}
        for i in range(args.patients):
            practitioner = practitioner_ids[i % len(practitioner_ids)]
            channels = self.weighted(CHANNEL_SETS)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            patient_id = person(
                "patient",
                name,
                f"patient{i + 1}@clinic.test",
                phone=f"+9198{i:08d}",
                practitioner_id=practitioner,
                channel_choices=same_for_every_type(channels),
            )
            patient_ids.append(patient_id)
            practitioner_of[patient_id] = practitioner
            self.channels_of[patient_id] = channels
            # Some patients are in a long course of treatment and hear from the clinic far more.
            self.weight_of[patient_id] = rng.lognormvariate(0.0, 0.6)
        clinic = Clinic(
            admin_id=admin_id,
            practitioner_ids=practitioner_ids,
            patient_ids=patient_ids,
            practitioner_of=practitioner_of,
            names={r["id"]: r["name"] for r in rows},
            emails={r["id"]: r["email"] for r in rows},
        )
        return rows, clinic

    # sends

    def created_at(self, within_days: float = DAYS) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(60, within_days * 86400))

    def sends(self, clinic: Clinic) -> list[Send]:
        """One-patient sends (most rows) and "all my patients" sends, in time order."""
        args, rng = self.args, self.rng
        sends: list[Send] = []
        total = 0
        broadcast_budget = int(args.notifications * BROADCAST_SHARE)
        patients_of: dict[int, list[int]] = {p: [] for p in clinic.practitioner_ids}
        for patient_id, practitioner in clinic.practitioner_of.items():
            patients_of[practitioner].append(patient_id)
        broadcast_size = {
            p: sum(len(self.channels_of[i]) for i in ids) for p, ids in patients_of.items()
        }
        while patients_of and total + min(broadcast_size.values()) <= broadcast_budget:
            sender = rng.choice(clinic.practitioner_ids)
            type_ = rng.choice(("health_alert", "treatment_update", "progress_update"))
            send = self.send(
                clinic, sender, type_, [(p, self.channels_of[p]) for p in patients_of[sender]]
            )
            sends.append(send)
            total += broadcast_size[sender]

        patients = clinic.patient_ids
        cumulative = list(itertools.accumulate(self.weight_of[p] for p in patients))
        while total < args.notifications:
            patient = patients[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            sender = clinic.practitioner_of[patient] if rng.random() < 0.9 else clinic.admin_id
            type_ = self.weighted(TYPE_WEIGHTS)
            channels = self.channels_of[patient]
            sends.append(self.send(clinic, sender, type_, [(patient, channels)]))
            total += len(channels)
        sends.sort(key=lambda s: s.created_at)
        return sends

    def send(self, clinic: Clinic, sender: int, type_: str, recipients) -> Send:
        rng = self.rng
        scheduled_at, cancelled = None, False
        draw = rng.random()
        if draw < 0.025:
            # Made in the last week for later: most still waiting, some cancelled since.
            created = self.created_at(7)
            scheduled_at = self.now + timedelta(hours=rng.uniform(1, 14 * 24))
            cancelled = rng.random() < 0.3
        elif draw < 0.035:
            created = self.created_at()
            scheduled_at = created + timedelta(hours=rng.uniform(1, 48))
            cancelled = True
        else:
            created = self.created_at()
        title, body = CONTENT[type_]
        values = {
            "doctor": clinic.names[sender],
            "therapy": rng.choice(THERAPIES),
            "herb": rng.choice(HERBS),
            "hour": rng.choice(HOURS),
        }

        def message_of(patient_id: int) -> str:
            return body.format(first=clinic.names[patient_id].split()[0], **values)

        return Send(
            created,
            sender,
            type_,
            title.format(**values),
            list(recipients),
            scheduled_at,
            cancelled,
            message_of,
        )

    # rows

    def rows(self, sends: list[Send]) -> tuple[list[dict], list[dict], list[tuple]]:
        """Groups, notifications and events (events as tuples, in time order)."""
        groups, notifications, events = [], [], []
        notification_ids = itertools.count(1)
        budget = self.args.notifications
        for group_id, send in enumerate(sends, start=1):
            recipients = send.recipients
            groups.append(
                {
                    "id": group_id,
                    "public_id": self.hex_id(),
                    "sender_id": send.sender_id,
                    "idempotency_key": None,
                    "request_fingerprint": self.hex_id(256),
                    "type": send.type,
                    "title": send.title,
                    "recipient_count": len(recipients),
                    "scheduled_at": send.scheduled_at,
                    "created_at": send.created_at,
                }
            )
            for patient_id, channels in recipients:
                message = send.message_of(patient_id)
                for channel in channels:
                    if len(notifications) == budget:
                        return groups, notifications, sorted(events, key=lambda e: (e[0], e[1]))
                    notification_id = next(notification_ids)
                    row = self.notification(
                        notification_id, group_id, send, patient_id, channel, message
                    )
                    notifications.append(row)
                    events.extend(self.events_of(row, send))
        return groups, notifications, sorted(events, key=lambda e: (e[0], e[1]))

    def notification(
        self, nid: int, group_id: int, send: Send, patient_id: int, channel: str, message: str
    ) -> dict:
        rng, now = self.rng, self.now
        created = send.created_at
        row = {
            **UNSET,
            "id": nid,
            "public_id": self.hex_id(),
            "group_id": group_id,
            "user_id": patient_id,
            "sender_id": send.sender_id,
            "type": send.type,
            "channel": channel,
            "priority": "high" if send.type in URGENT_TYPES else "normal",
            "title": send.title,
            "message": message,
            "html": f"<p>{message}</p>" if channel == "email" else None,
            "data": {},
            "attempts": 0,
            "max_attempts": 5,
            "scheduled_at": send.scheduled_at,
            "created_at": created,
        }
        if send.cancelled:  # before its time came
            row["status"] = "cancelled"
            row["cancelled_at"] = created + (min(send.scheduled_at, now) - created) * rng.random()
        elif send.scheduled_at is not None and send.scheduled_at > now:
            row.update(
                status="scheduled", next_attempt_at=send.scheduled_at, job_id=self.hex_id(64)
            )
        else:
            start = send.scheduled_at or created
            attempt_at = start + timedelta(seconds=rng.uniform(0.2, 3))
            draw = rng.random()
            if channel == "in_app":
                row.update(
                    status="delivered", provider="in_app", attempts=1, delivered_at=attempt_at
                )
                age_days = (now - created).total_seconds() / 86400
                if rng.random() < (0.92 if age_days > 7 else 0.45):
                    read_at = attempt_at + timedelta(hours=rng.expovariate(1 / 20))
                    if read_at < now:
                        row.update(status="read", read_at=read_at)
            elif draw < 0.04:
                row.update(status="suppressed", status_reason=SUPPRESSED_REASONS[channel])
            elif draw < 0.09:
                provider = PROVIDER_OF[channel]
                failed_at = attempt_at + timedelta(seconds=rng.uniform(30, 900))
                row.update(
                    status="failed",
                    attempts=2,
                    provider=provider,
                    failed_at=failed_at,
                    error_message=PERMANENT_ERRORS[channel],
                    status_reason=f"rejected by {provider}: {PERMANENT_ERRORS[channel]}",
                )
            elif draw < 0.11 and now - created < timedelta(days=2):
                row.update(
                    status="queued",
                    attempts=1,
                    provider=PROVIDER_OF[channel],
                    job_id=self.hex_id(64),
                    error_message="Service Unavailable",
                    next_attempt_at=now + timedelta(minutes=rng.uniform(1, 30)),
                )
            else:
                row.update(
                    status="sent",
                    attempts=1,
                    provider=PROVIDER_OF[channel],
                    sent_at=attempt_at,
                    provider_message_id=("SM" if channel == "sms" else "") + self.hex_id(),
                )
                if rng.random() < 0.75:
                    row.update(
                        status="delivered",
                        delivered_at=attempt_at + timedelta(seconds=rng.uniform(2, 60)),
                    )
        row["updated_at"] = max(
            t for t in (created, *(row[c] for c in TIMESTAMPS)) if t is not None
        )
        return row

    def events_of(self, row: dict, send: Send) -> list[tuple]:
        """Each event as (created_at, notification_id, kind, status, detail, actor_id, provider,
        http_status, latency_ms, error)."""
        rng = self.rng
        nid, channel, status = row["id"], row["channel"], row["status"]
        created, sender = row["created_at"], row["sender_id"]
        provider = PROVIDER_OF.get(channel)
        out = []

        def event(at, kind, after, detail=None, actor=None, provider=None):
            out.append((at, nid, kind, after, detail, actor, provider, None, None, None))

        def attempt(at, kind, after, http, detail=None, error=None):
            """A call to the provider: these carry its name, HTTP status and latency."""
            latency = max(20, int(rng.lognormvariate(math.log(LATENCY_MS[channel]), 0.4)))
            out.append((at, nid, kind, after, detail, None, provider, http, latency, error))

        if send.scheduled_at is not None:
            event(created, "scheduled", "scheduled", actor=sender)
            start = send.scheduled_at
        else:
            event(created, "queued", "queued", actor=sender)
            start = created
        if status == "scheduled":
            return out
        if status == "cancelled":
            event(row["cancelled_at"], "cancelled", "cancelled", "cancelled by the sender", sender)
            return out
        attempt_at = start + timedelta(seconds=rng.uniform(0.2, 3))
        if status == "suppressed":
            event(attempt_at, "suppressed", "suppressed", detail=row["status_reason"])
        elif status in ("queued", "failed"):
            attempt(attempt_at, "retry", "queued", 503, RETRY_DETAIL, "Service Unavailable")
            if status == "failed":
                error = PERMANENT_ERRORS[channel]
                attempt(row["failed_at"], "failed", "failed", 400, row["status_reason"], error)
        elif channel == "in_app":
            event(row["delivered_at"], "delivered", "delivered", detail="stored in the inbox")
            if status == "read":
                event(row["read_at"], "read", "read", actor=row["user_id"])
        else:
            attempt(row["sent_at"], "sent", "sent", OK_HTTP[channel])
            if status == "delivered":
                event(row["delivered_at"], "delivered", "delivered", "delivered", None, provider)
        return out


EVENT_COLUMNS = (
    "created_at",
    "notification_id",
    "kind",
    "status",
    "detail",
    "actor_id",
    "provider",
    "http_status",
    "latency_ms",
    "error",
)


def fill(args: argparse.Namespace, password_hash: str) -> Clinic:
    """Users, sends, notifications and events, with bulk Core inserts in one transaction."""
    from app.clock import utcnow
    from app.extensions import db
    from app.models.notification import Notification, NotificationEvent, NotificationGroup
    from app.models.user import User

    started = time.perf_counter()
    generator = Generator(args, utcnow())
    users, clinic = generator.users(password_hash)
    groups, notifications, events = generator.rows(generator.sends(clinic))
    clinic.inbox_sizes = Counter(
        n["user_id"]
        for n in notifications
        if n["channel"] == "in_app" and n["status"] in ("sent", "delivered", "read")
    )
    with db.engine.begin() as conn:
        insert_all(conn, User.__table__, users)
        insert_all(conn, NotificationGroup.__table__, groups)
        insert_all(conn, Notification.__table__, notifications)
        insert_all(
            conn,
            NotificationEvent.__table__,
            (dict(zip(EVENT_COLUMNS, e, strict=True)) for e in events),
        )
        if conn.dialect.name == "postgresql":
            for table in ("users", "notification_groups", "notifications", "notification_events"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    clinic.fill_seconds = time.perf_counter() - started
    return clinic


def insert_all(conn: sa.Connection, table: sa.Table, rows) -> None:
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CHUNK)):
        conn.execute(table.insert(), chunk)


def after_fill(statements: list[str]) -> list[str]:
    """Run the --sql statements, then bring the planner's statistics up to date on PostgreSQL.

    PostgreSQL's autovacuum would analyse (and vacuum, for index-only scans) freshly loaded tables
    within a minute or so; doing it here makes the plans those of a settled database. SQLite is
    left as the app leaves it: nothing in the product runs ANALYZE there.
    """
    from app.extensions import db

    notes = []
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
            notes.append(f"ran: {statement}")
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        notes.append("VACUUM ANALYZE after the fill (as autovacuum would)")
    else:
        notes.append("no ANALYZE (the app never runs it on SQLite)")
    return notes


def count_rows(clinic: Clinic) -> None:
    from app.extensions import db
    from app.models.notification import Notification, NotificationEvent, NotificationGroup
    from app.models.user import User

    session = db.session
    clinic.counts = {
        "users": dict(
            session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all()
        ),
        "groups": session.scalar(sa.select(sa.func.count()).select_from(NotificationGroup)),
        "notifications": session.scalar(sa.select(sa.func.count()).select_from(Notification)),
        "by_status": dict(
            session.execute(
                sa.select(Notification.status, sa.func.count()).group_by(Notification.status)
            ).all()
        ),
        "by_channel": dict(
            session.execute(
                sa.select(Notification.channel, sa.func.count()).group_by(Notification.channel)
            ).all()
        ),
        "events": session.scalar(sa.select(sa.func.count()).select_from(NotificationEvent)),
        "attempts": session.scalar(
            sa.select(sa.func.count())
            .select_from(NotificationEvent)
            .where(NotificationEvent.provider.is_not(None))
        ),
        "first_last": session.execute(
            sa.select(sa.func.min(Notification.created_at), sa.func.max(Notification.created_at))
        ).one(),
    }
    session.commit()


# --- measuring --------------------------------------------------------------------------------


class StatementMeter:
    """Statements run and time spent in the driver's execute since the last `reset`."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.capture: list[tuple[float, str, Any]] | None = None

    def reset(self, capture: bool = False) -> None:
        self.count, self.seconds = 0, 0.0
        self.capture = [] if capture else None

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.count += 1
        self.seconds += elapsed
        if self.capture is not None:
            self.capture.append((elapsed, statement, parameters))


@dataclass
class Probe:
    section: str
    label: str
    who: str
    # One timed call: (seconds, CPU seconds of this process, rows the page showed).
    run: Callable[[], tuple[float, float, int]]
    explainable: bool = True
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    rows: int = 0

    def ms(self, q: float) -> float:
        return 1000 * quantile(self.times, q)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# What one shown row looks like in each section's page, to count them.
ROW_MARKERS = {
    "monitor": '<tr id="row-',
    "inbox": 'class="inbox-item',
    "log": '<tr id="event-',
    "unread": 'id="unread-badge"',
}


def page_probe(meter: StatementMeter, section: str, who: str, client, path: str) -> Probe:
    """GET `path` with `client`, which is signed in as `who`; anything but a 200 is a failure."""

    def run() -> tuple[float, float, int]:
        meter.reset(capture=meter.capture is not None)
        cpu, started = time.process_time(), time.perf_counter()
        response = client.get(path)
        body = response.get_data(as_text=True)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if response.status_code != 200:
            raise BenchFailure(f"GET {path} as {who}: {response.status_code} {body[:300]!r}")
        marker = ROW_MARKERS.get(section)
        return elapsed, cpu, body.count(marker) if marker else 0

    return Probe(section, f"GET {path}", who, run)


def sign_in(app, email: str) -> Any:
    """A test client signed in through the login form, as a browser would be."""
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise BenchFailure("the login page has no CSRF token")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": match.group(1)}
    )
    if response.status_code != 302:
        raise BenchFailure(f"signing in as {email} failed: {response.status_code}")
    return client


@dataclass
class Subjects:
    """The users and ids the probes use, chosen from what the fill made."""

    practitioner: int
    patient: int  # a patient of that practitioner whose inbox is closest to 100 items
    busiest: int  # the patient with the biggest inbox
    monitor_deep_before: int
    monitor_depth: int
    monitor_total: int
    log_deep_before: int
    week: tuple[str, str]
    item_public_id: str


def choose_subjects(clinic: Clinic, now: datetime) -> Subjects:
    from app.extensions import db
    from app.models.notification import Notification, NotificationEvent

    practitioner = clinic.practitioner_ids[0]
    own = [p for p in clinic.patient_ids if clinic.practitioner_of[p] == practitioner]
    patient = min(own, key=lambda p: (abs(clinic.inbox_sizes[p] - 100), p))
    busiest = max(clinic.patient_ids, key=lambda p: (clinic.inbox_sizes[p], -p))
    session = db.session
    total = session.scalar(sa.select(sa.func.count()).where(Notification.sender_id == practitioner))
    depth = int(total * 0.9)
    deep = session.scalar(
        sa.select(Notification.id)
        .where(Notification.sender_id == practitioner)
        .order_by(Notification.id.desc())
        .offset(depth)
        .limit(1)
    )
    events = session.scalar(sa.select(sa.func.count()).select_from(NotificationEvent))
    log_deep = session.scalar(
        sa.select(NotificationEvent.id)
        .order_by(NotificationEvent.id.desc())
        .offset(int(events * 0.9))
        .limit(1)
    )
    item = session.scalar(
        sa.select(Notification.public_id)
        .where(
            Notification.user_id == patient,
            Notification.channel == "in_app",
            Notification.status.in_(("delivered", "read")),
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )
    session.commit()
    local_today = now.astimezone(clinic_zone()).date()
    week = (
        (local_today - timedelta(days=48)).isoformat(),
        (local_today - timedelta(days=42)).isoformat(),
    )
    return Subjects(
        practitioner, patient, busiest, deep or 1, depth, total, log_deep or 1, week, item
    )


def clinic_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Kolkata")


def build_probes(app, clinic: Clinic, subjects: Subjects, meter: StatementMeter) -> list[Probe]:
    from app.extensions import db
    from app.models.user import User
    from app.services import inbox as inbox_service

    practitioner = sign_in(app, clinic.emails[subjects.practitioner])
    patient = sign_in(app, clinic.emails[subjects.patient])
    busiest = sign_in(app, clinic.emails[subjects.busiest])
    admin = sign_in(app, clinic.emails[clinic.admin_id])
    anonymous = app.test_client()
    name = clinic.names[subjects.patient]
    first, last = subjects.week
    doctor = f"practitioner ({clinic.names[subjects.practitioner]})"
    patient_who = f"patient, inbox {clinic.inbox_sizes[subjects.patient]}"
    busiest_who = f"patient, inbox {clinic.inbox_sizes[subjects.busiest]}"

    def q(**params) -> str:
        return "?" + urlencode(params)

    def select_one() -> tuple[float, float, int]:
        with app.app_context():
            db.session.execute(sa.text("SELECT 1")).scalar()  # connection checked out, not timed
            meter.reset(capture=meter.capture is not None)
            cpu, started = time.process_time(), time.perf_counter()
            db.session.execute(sa.text("SELECT 1")).scalar()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.session.rollback()
        return elapsed, cpu, 0

    def unread_count() -> tuple[float, float, int]:
        with app.app_context():
            user = db.session.get(User, subjects.patient)  # not timed: the page has it already
            meter.reset(capture=meter.capture is not None)
            cpu, started = time.process_time(), time.perf_counter()
            count = inbox_service.unread_count(user)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.session.rollback()
        return elapsed, cpu, count

    def monitor(query: str = "") -> Probe:
        return page_probe(meter, "monitor", doctor, practitioner, "/monitor" + query)

    def log(query: str = "") -> Probe:
        return page_probe(meter, "log", "admin", admin, "/admin/log" + query)

    week = {"from": first, "to": last}  # the delivery log's date fields
    return [
        page_probe(meter, "baseline", "signed out", anonymous, "/login"),
        Probe("baseline", "SELECT 1 round trip", "-", select_one, explainable=False),
        monitor(),
        monitor(q(status="failed")),
        monitor(q(patient=name)),
        monitor(q(patient=subjects.patient)),
        monitor(q(channel="sms", date_from=first, date_to=last)),
        monitor(q(before=subjects.monitor_deep_before)),
        page_probe(meter, "inbox", patient_who, patient, "/inbox"),
        page_probe(meter, "inbox", busiest_who, busiest, "/inbox"),
        Probe("unread", "unread_count(user), the function alone", patient_who, unread_count),
        page_probe(meter, "unread", patient_who, patient, f"/inbox/{subjects.item_public_id}"),
        log(),
        log(q(channel="sms")),
        log(q(patient=name)),
        log(q(patient=subjects.patient)),
        log(q(**week)),
        log(q(channel="email", **week)),
        log(q(provider="twilio", status="failed")),
        log(q(patient=name, **week)),
        log(q(before=subjects.log_deep_before)),
    ]


def measure(probes: list[Probe], meter: StatementMeter, repeat: int, warmup: int) -> None:
    """Round-robin: each round requests every page once, so slow spells hit them all alike."""
    for _ in range(warmup):
        for probe in probes:
            probe.run()
    for _ in range(repeat):
        for probe in probes:
            elapsed, cpu, rows = probe.run()
            probe.times.append(elapsed)
            probe.cpu.append(cpu)
            probe.statements.append(meter.count)
            probe.sql.append(meter.seconds)
            probe.rows = rows


def explain(probes: list[Probe], meter: StatementMeter, engine: sa.Engine) -> None:
    """Each page's statement count and the plan of its slowest statement."""
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    print("\nPlans: the slowest statement of one request per page")
    for probe in probes:
        if not probe.explainable:
            continue
        meter.reset(capture=True)
        probe.run()
        captured = meter.capture or []
        meter.capture = None
        if not captured:
            continue
        shapes = Counter(statement for _, statement, _ in captured)
        first_parameters: dict[str, Any] = {}
        for _, statement, parameters in captured:
            first_parameters.setdefault(statement, parameters)
        with engine.connect() as conn:
            # Timed again alone with every row fetched: SQLite's execute returns at the first row.
            timed = []
            for statement, parameters in first_parameters.items():
                started = time.perf_counter()
                conn.exec_driver_sql(statement, parameters).all()
                timed.append((time.perf_counter() - started, statement, parameters))
            elapsed, statement, parameters = max(timed, key=lambda t: t[0])
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            conn.rollback()
        print(f"\n== {probe.label}  [{probe.who}]")
        print(
            f"   {len(captured)} statements, {len(shapes)} distinct; the slowest, run again alone "
            f"with all rows fetched, {elapsed * 1000:.1f} ms:"
        )
        print("   " + " ".join(statement.split()))
        print(f"   parameters: {parameters!r}")
        if postgres:
            for (line,) in plan:
                print("   | " + line)
        else:
            depth = {0: -1}
            for node, parent, _, detail in plan:
                depth[node] = depth.get(parent, -1) + 1
                print("   | " + "  " * depth[node] + detail)
        repeated = [(n, s) for s, n in shapes.items() if n > 1]
        for n, s in sorted(repeated, reverse=True)[:3]:
            print(f"   repeated x{n}: " + " ".join(s.split())[:160])


def profile(probes: list[Probe], text: str, repeat: int) -> None:
    """cProfile over `repeat` requests of each page whose label contains `text`."""
    import cProfile
    import io
    import pstats

    for probe in (p for p in probes if text in p.label):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            probe.run()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\n== profile of {repeat} x {probe.label}  [{probe.who}]")
        print(out.getvalue().strip())


# --- output -----------------------------------------------------------------------------------

SECTIONS = {
    "baseline": "Baseline",
    "monitor": "Monitor",
    "inbox": "Inbox",
    "unread": "Unread count",
    "log": "Delivery log (admin)",
}
ROW = "  {:<70} {:>8} {:>8} {:>6} {:>7} {:>6} {:>7} {:>5}  {}"
NOTES = """\
  median, p95: server time in ms; ratio: median / median of GET /login in the same rounds;
  cpu ms: median CPU time of this process per request (PostgreSQL's own work is not in it);
  stmts: SQL statements per request; sql ms: median time inside the driver's execute (SQLite
  fetches rows after it returns, so there it is a lower bound); rows: rows the page showed
  (for unread_count, the count it returned)"""


def print_header(
    args, description: list[str], notes: list[str], clinic: Clinic, subjects: Subjects
) -> None:
    counts = clinic.counts

    def most_first(counted: dict) -> str:
        return ", ".join(
            f"{key.value} {n}" for key, n in sorted(counted.items(), key=lambda kv: -kv[1])
        )

    print(f"Sutra Notify page benchmark: {', '.join(description)}")
    print(
        f"  {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; seed {args.seed}; "
        f"{args.warmup} warm-up + {args.repeat} timed requests per page, round-robin"
    )
    print("  server time = one request through Flask's test client: the whole app in this process")
    print("  (routing, session, login, view, queries, templates), no HTTP server or network")
    for note in notes:
        print(f"  {note}")
    print()
    print(f"Rows (filled in {clinic.fill_seconds:.1f} s with bulk inserts)")
    print(f"  users          {most_first(counts['users'])}")
    print(f"  groups (sends) {counts['groups']}")
    print(f"  notifications  {counts['notifications']}")
    print(f"    by status    {most_first(counts['by_status'])}")
    print(f"    by channel   {most_first(counts['by_channel'])}")
    per_notification = counts["events"] / counts["notifications"]
    print(
        f"  events         {counts['events']} ({per_notification:.2f} per notification; "
        f"{counts['attempts']} provider attempts with provider, latency and HTTP status)"
    )
    first, last = counts["first_last"]
    print(f"  created_at     {first:%Y-%m-%d} .. {last:%Y-%m-%d}")
    sizes = sorted(clinic.inbox_sizes.get(p, 0) for p in clinic.patient_ids)
    print(
        f"  inbox items    per patient: median {statistics.median(sizes):.0f}, "
        f"p90 {quantile(sizes, 0.9):.0f}, max {sizes[-1]}, min {sizes[0]}"
    )
    print(
        f"  monitor        {subjects.monitor_total} notifications sent by the practitioner; "
        f"the deep page starts {subjects.monitor_depth} rows down"
    )
    print()


def print_table(probes: list[Probe]) -> None:
    baseline = probes[0]
    base_ms = baseline.ms(0.5)
    print(ROW.format("", "median", "p95", "ratio", "cpu ms", "stmts", "sql ms", "rows", "as"))
    missed = []
    section = None
    for probe in probes:
        if probe.section != section:
            section = probe.section
            print(f"  {SECTIONS[section]}")
        median, p95 = probe.ms(0.5), probe.ms(0.95)
        over = p95 > TARGET_P95_MS
        if over:
            missed.append(probe)
        print(
            ROW.format(
                "  " + probe.label[:68],
                f"{median:.2f}",
                f"{p95:.2f}" + (" !" if over else ""),
                f"{median / base_ms:.1f}",
                f"{1000 * statistics.median(probe.cpu):.2f}",
                f"{statistics.median(probe.statements):.0f}",
                f"{1000 * statistics.median(probe.sql):.2f}",
                probe.rows,
                probe.who,
            )
        )
    print()
    print(NOTES)
    if missed:
        print(f"\n  p95 over {TARGET_P95_MS:.0f} ms (!): " + "; ".join(p.label for p in missed))
    else:
        print(f"\n  every page's p95 is under {TARGET_P95_MS:.0f} ms")


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    restore_signal_handlers()
    tmp = Path(tempfile.mkdtemp(prefix="sutra-bench-pages-"))
    # Before create_app, whose basicConfig then changes nothing: the app's records go to a file.
    logging.basicConfig(filename=tmp / "bench.log", level=logging.WARNING, format=LOG_FORMAT)
    description: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(logging.shutdown)
            database_url = stack.enter_context(scratch_database(tmp, description))
            redis_url = stack.enter_context(bench_redis(tmp, args.redis_db, description))
            return run(args, description, app_settings(database_url, redis_url), stack)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except BenchFailure as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, description: list[str], settings: dict, stack: contextlib.ExitStack) -> int:
    from flask_migrate import upgrade

    from app import create_app
    from app.clock import utcnow
    from app.extensions import db
    from app.services.accounts import hash_password

    app = create_app(settings)
    stack.callback(
        lambda: app.extensions["redis"] and app.extensions["redis"].connection_pool.disconnect()
    )
    with app.app_context():
        stack.callback(lambda: _dispose(app))
        upgrade()
        clinic = fill(args, hash_password(PASSWORD))
        notes = after_fill(args.sql)
        count_rows(clinic)
        subjects = choose_subjects(clinic, utcnow())
        meter = StatementMeter()
        engine = db.engine
        meter.attach(engine)
        db.session.remove()
    # No app context stays pushed while the clients run: Flask would reuse it for every request,
    # and what Flask-Login caches on `g` (the signed-in user) would then skip its query.
    probes = build_probes(app, clinic, subjects, meter)
    print_header(args, description, notes, clinic, subjects)
    measure(probes, meter, args.repeat, args.warmup)
    print_table(probes)
    if args.explain:
        explain(probes, meter, engine)
    if args.profile:
        profile(probes, args.profile, args.repeat)
    return 0


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
