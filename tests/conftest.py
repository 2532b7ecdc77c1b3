"""Shared fixtures: the app, its database, Redis, logged-in users and the fake providers."""

pytest_plugins = ["tests.fakes.plugin"]
