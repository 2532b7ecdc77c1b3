"""What console providers "sent": kept in Redis so the admin's dev outbox can show it.

Capped per channel; this is a development aid for running with no provider credentials, not
a record (the notification rows and their events are the record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis

from app.clock import utcnow
from app.vocabulary import Channel

KEEP = 500


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    channel: Channel
    provider_message_id: str
    reference: str
    to: str
    subject: str
    body: str
    html: str | None
    recorded_at: datetime


def _key(channel: Channel) -> str:
    return f"devoutbox:{channel.value}"


def record(redis: Redis, entry: OutboxEntry) -> None:
    payload = json.dumps(
        {
            "provider_message_id": entry.provider_message_id,
            "reference": entry.reference,
            "to": entry.to,
            "subject": entry.subject,
            "body": entry.body,
            "html": entry.html,
            "recorded_at": entry.recorded_at.isoformat(),
        }
    )
    with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(_key(entry.channel), payload)
        pipe.ltrim(_key(entry.channel), 0, KEEP - 1)
        pipe.execute()


def recent(redis: Redis, channel: Channel, limit: int = 100) -> list[OutboxEntry]:
    entries = []
    for raw in redis.lrange(_key(channel), 0, limit - 1):
        item = json.loads(raw)
        entries.append(
            OutboxEntry(
                channel=channel,
                provider_message_id=item["provider_message_id"],
                reference=item["reference"],
                to=item["to"],
                subject=item["subject"],
                body=item["body"],
                html=item["html"],
                recorded_at=datetime.fromisoformat(item["recorded_at"]),
            )
        )
    return entries


def now_entry(**fields: Any) -> OutboxEntry:
    return OutboxEntry(recorded_at=utcnow(), **fields)
