"""Choosing each channel's provider from configuration, once per process."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from app.channels.base import Provider
from app.channels.console import ConsoleProvider
from app.extensions import get_redis
from app.vocabulary import Channel

SETTING_FOR_CHANNEL = {
    Channel.SMS: "SMS_PROVIDER",
    Channel.EMAIL: "EMAIL_PROVIDER",
    Channel.PUSH: "PUSH_PROVIDER",
}


def _real_providers() -> dict[tuple[Channel, str], Callable[[Mapping[str, Any]], Provider]]:
    from app.channels.email import SendGridEmailProvider, SmtpEmailProvider
    from app.channels.push import FcmPushProvider
    from app.channels.sms import TwilioSmsProvider

    return {
        (Channel.SMS, "twilio"): TwilioSmsProvider.from_settings,
        (Channel.EMAIL, "sendgrid"): SendGridEmailProvider.from_settings,
        (Channel.EMAIL, "smtp"): SmtpEmailProvider.from_settings,
        (Channel.PUSH, "fcm"): FcmPushProvider.from_settings,
    }


def provider_names() -> dict[Channel, tuple[str, ...]]:
    """Every provider name each channel accepts, for settings validation and docs."""
    names: dict[Channel, list[str]] = {channel: ["console"] for channel in SETTING_FOR_CHANNEL}
    for channel, name in _real_providers():
        names[channel].append(name)
    return {channel: tuple(found) for channel, found in names.items()}


def build_provider(channel: Channel, settings: Mapping[str, Any]) -> Provider:
    provider = _configured(channel, settings)
    if channel is not Channel.PUSH:
        return provider
    from app.channels.devices import PushDevices
    from app.channels.web_push import WebPushProvider

    # Browsers are reached with the clinic's own VAPID keys, whichever provider serves the app.
    browsers = WebPushProvider.from_settings(settings) if settings.get("VAPID_PRIVATE_KEY") else None
    return PushDevices(provider, browsers)


def _configured(channel: Channel, settings: Mapping[str, Any]) -> Provider:
    name = settings[SETTING_FOR_CHANNEL[channel]]
    if name == "console":
        return ConsoleProvider(channel, get_redis())
    factory = _real_providers().get((channel, name))
    if factory is None:
        raise RuntimeError(
            f"{SETTING_FOR_CHANNEL[channel]}={name!r} is not a known provider; "
            f"choose one of {', '.join(provider_names()[channel])}"
        )
    return factory(settings)


def get_provider(app: Flask, channel: Channel) -> Provider:
    """The process's provider for a channel, built on first use and then reused.

    Reuse is what keeps HTTP connections alive from one job to the next.
    """
    providers: dict[Channel, Provider] = app.extensions.setdefault("providers", {})
    if channel not in providers:
        providers[channel] = build_provider(channel, app.config)
    return providers[channel]


def close_providers(app: Flask) -> None:
    for provider in app.extensions.pop("providers", {}).values():
        provider.close()
