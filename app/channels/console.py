"""Console providers: the embedded default. They deliver into the dev outbox, not to anyone."""

from __future__ import annotations

import uuid

from redis import Redis
from redis.exceptions import RedisError

from app.channels import dev_outbox
from app.channels.base import DeliveryResult, OutboundMessage, Outcome
from app.vocabulary import Channel


class ConsoleProvider:
    name = "console"

    def __init__(self, channel: Channel, redis: Redis):
        self.channel = channel
        self.redis = redis

    def send(self, message: OutboundMessage) -> DeliveryResult:
        message_id = f"console-{uuid.uuid4().hex}"
        to = ", ".join(message.push_tokens) if self.channel is Channel.PUSH else message.to
        try:
            dev_outbox.record(
                self.redis,
                dev_outbox.now_entry(
                    channel=self.channel,
                    provider_message_id=message_id,
                    reference=message.reference,
                    to=to,
                    subject=message.subject,
                    body=message.body,
                    html=message.html,
                ),
            )
        except RedisError as exc:
            return DeliveryResult(Outcome.RETRYABLE, self.name, error=f"dev outbox unavailable: {type(exc).__name__}")
        return DeliveryResult(Outcome.OK, self.name, provider_message_id=message_id)

    def close(self) -> None:
        """Nothing to release: the Redis pool belongs to the app."""
