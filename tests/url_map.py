"""Every route the app serves, from its URL map, with the roles each area is for.

Tests that must cover every route (security headers, access rules) walk this instead of a list,
so a route is covered the day it is added; a new area fails them until it says who it is for.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask

STAFF = ("practitioner", "admin")
EVERYONE = ("patient", "practitioner", "admin")

# The signed-in roles each blueprint's pages are for, the first being the one tests open them as.
ROLES_FOR_BLUEPRINT: dict[str, tuple[str, ...]] = {
    "auth": EVERYONE,
    "home": EVERYONE,
    "account": EVERYONE,
    "two_factor": STAFF,
    "inbox": ("patient",),
    "dashboard": STAFF,
    "appointments": STAFF,
    "treatment_plans": STAFF,
    "medication": STAFF,
    "admin": ("admin",),
    "ws": ("patient",),
    "api": (),  # API keys only: no signed-in role reaches it with its session
}
# Open to anyone: the sign-in page, static files, the webhooks (which check signatures instead),
# email unsubscribe links (signed too) and the API's own description.
PUBLIC_BLUEPRINTS = {"static", "webhooks", "unsubscribe"}
PUBLIC_ENDPOINTS = {"auth.login", "api.openapi"}
# Signing out ends the session the other requests use, so it goes last.
LAST = "auth.logout"


def blueprint_of(endpoint: str) -> str:
    return endpoint.partition(".")[0]


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or blueprint_of(endpoint) in PUBLIC_BLUEPRINTS


def roles_for(endpoint: str) -> tuple[str, ...]:
    blueprint = blueprint_of(endpoint)
    assert blueprint in ROLES_FOR_BLUEPRINT or is_public(endpoint), (
        f"{endpoint}: say in tests/url_map.py which roles its area is for"
    )
    return ROLES_FOR_BLUEPRINT.get(blueprint, EVERYONE)


# What a browser sends to open a socket; without it a WebSocket route does not even match.
WEBSOCKET_UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket"}


class Route(NamedTuple):
    endpoint: str
    method: str
    url: str
    headers: dict[str, str]


def every_request(app: Flask, samples: dict[str, object]) -> list[Route]:
    """Every route and method in the URL map, sign-out last."""
    found = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        missing = set(rule.arguments) - set(samples)
        assert not missing, f"{rule.endpoint}: add a sample value for {sorted(missing)}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = adapter.build(rule.endpoint, {name: samples[name] for name in rule.arguments}, method=method)
            url = url.removeprefix("ws://localhost")  # the inbox socket's rule builds a ws:// URL
            found.append(Route(rule.endpoint, method, url, WEBSOCKET_UPGRADE if rule.websocket else {}))
    return sorted(found, key=lambda route: route.endpoint == LAST)
