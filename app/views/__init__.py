"""Blueprints, one per area, registered on the app."""

from __future__ import annotations

from flask import Flask


def register_views(app: Flask) -> None:
    from app import ws
    from app.views import auth, errors, filters, home, inbox

    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(inbox.bp)
    errors.register(app)
    filters.register(app)
    ws.register(app)
