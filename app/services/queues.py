"""Queue names: the only place they are spelled. `worker.py` listens to `ALL_QUEUES`."""

from __future__ import annotations

from app.vocabulary import Priority

HIGH = "high"  # health alerts, medication reminders
DEFAULT = "default"  # single sends
LOW = "low"  # group sends

ALL_QUEUES = (HIGH, DEFAULT, LOW)  # a worker takes from them in this order

QUEUE_FOR_PRIORITY = {Priority.HIGH: HIGH, Priority.NORMAL: DEFAULT, Priority.LOW: LOW}
