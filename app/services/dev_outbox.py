"""The dev outbox page's content: what each channel on the `console` provider recorded.

The console providers keep what they would have sent in Redis (`app.channels.dev_outbox`);
this asks which channels are on the console provider and reads their recent entries, so the
admin page knows neither the channels' storage nor the provider settings.
"""

from __future__ import annotations

from flask import current_app

from app.channels import dev_outbox
from app.channels.dev_outbox import OutboxEntry
from app.channels.registry import SETTING_FOR_CHANNEL
from app.extensions import get_redis
from app.vocabulary import Channel


def console_channels() -> list[Channel]:
    """The channels this process delivers to the dev outbox instead of a real provider."""
    config = current_app.config
    return [channel for channel, setting in SETTING_FOR_CHANNEL.items() if config[setting] == "console"]


def recent_entries(limit: int) -> dict[Channel, list[OutboxEntry]]:
    """The newest `limit` entries of each console channel, newest first; no channel on the
    console provider gives an empty dict (Redis is then not asked)."""
    channels = console_channels()
    if not channels:
        return {}
    redis = get_redis()
    return {channel: dev_outbox.recent(redis, channel, limit=limit) for channel in channels}
