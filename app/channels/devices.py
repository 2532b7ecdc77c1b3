"""One push message to each of a patient's devices, and one result for them all.

FCM (the app) and Web Push (browsers) send a copy to every device a patient registered and
report a single outcome: delivered when any device took it, so a retry never repeats it on the
devices that did; otherwise retryable when any device failed for a passing reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.channels.base import DeliveryResult, OutboundMessage, Outcome, Provider
from app.vocabulary import Channel


@dataclass(frozen=True, slots=True)
class DeviceFailure:
    outcome: Outcome
    label: str
    http_status: int | None = None
    retry_after: float | None = None
    token_gone: bool = False


def result_for_devices(provider: str, accepted: Sequence[str], failures: Sequence[DeviceFailure],
                       invalid: tuple[str, ...]) -> DeliveryResult:
    """`accepted` holds each accepting device's message id; `invalid`, the tokens gone for good."""
    if accepted:
        partial = f"{len(failures)} of {len(accepted) + len(failures)} devices failed"
        return DeliveryResult(Outcome.OK, provider, provider_message_id=accepted[0], http_status=200,
                              error=partial if failures else None, invalid_tokens=invalid)
    retryable = [f for f in failures if f.outcome is Outcome.RETRYABLE]
    first = (retryable or failures)[0]
    waits = [f.retry_after for f in failures if f.retry_after is not None]
    labels = sorted({f.label for f in failures})
    return DeliveryResult(
        Outcome.RETRYABLE if retryable else Outcome.PERMANENT,
        provider,
        http_status=first.http_status,
        error=f"{provider} {', '.join(labels)}",
        retry_after=max(waits) if waits else None,
        invalid_tokens=invalid,
    )


class PushDevices:
    """The push channel's provider: the app's devices through FCM (or the console), browsers
    through Web Push. A patient may have both; the message goes to each once."""

    channel = Channel.PUSH

    def __init__(self, apps: Provider, browsers: Provider | None) -> None:
        self.name = apps.name
        self._apps = apps
        self._browsers = browsers  # None: no VAPID keys, so no browser can be reached

    def send(self, message: OutboundMessage) -> DeliveryResult:
        results = []
        if message.push_tokens or not message.web_push:
            results.append(self._apps.send(replace(message, web_push=())))
        if message.web_push:
            results.append(
                self._browsers.send(replace(message, push_tokens=())) if self._browsers is not None
                else DeliveryResult(Outcome.PERMANENT, "webpush", error="web push is not set up (no VAPID keys)")
            )
        return _either(results)

    def close(self) -> None:
        self._apps.close()
        if self._browsers is not None:
            self._browsers.close()


def _either(results: Sequence[DeliveryResult]) -> DeliveryResult:
    """Delivered when either kind of device took it, as for the devices of one kind."""
    invalid = tuple(token for result in results for token in result.invalid_tokens)
    ranked = sorted(results, key=lambda result: _RANK[result.outcome])
    return replace(ranked[0], invalid_tokens=invalid)


_RANK = {Outcome.OK: 0, Outcome.RETRYABLE: 1, Outcome.PERMANENT: 2}
