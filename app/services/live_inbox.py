"""Announcing new inbox items on Redis pub/sub, so every web process can push them live.

Workers publish after their commit; each web process relays to the sockets it holds
(`app/ws.py`). The message carries ids only: the relay loads and renders the item itself,
behind the same access rule as the inbox page, so nothing private travels through Redis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "inbox:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"


def inbox_channel(user_id: int) -> str:
    return f"{CHANNEL_PREFIX}{user_id}"


def user_id_of_channel(channel: str) -> int | None:
    suffix = channel.removeprefix(CHANNEL_PREFIX)
    return int(suffix) if suffix.isdigit() else None


def publish_inbox_items(redis: Redis, items: Iterable[tuple[int, int]]) -> None:
    """Announce (user id, notification id) pairs; the inbox still shows them if this fails."""
    items = list(items)
    if not items:
        return
    try:
        with redis.pipeline(transaction=False) as pipe:
            for user_id, notification_id in items:
                pipe.publish(inbox_channel(user_id), json.dumps({"notification_id": notification_id}))
            pipe.execute()
    except RedisError:
        log.warning("could not announce %d inbox item(s); patients see them on reload", len(items))
