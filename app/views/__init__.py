"""Blueprints, one per area, registered on the app."""

from __future__ import annotations

from flask import Flask


def register_views(app: Flask) -> None:
    from app import ws
    from app.extensions import csrf
    from app.views import (
        account,
        admin,
        api,
        appointments,
        auth,
        dashboard,
        errors,
        filters,
        home,
        inbox,
        medication,
        security_headers,
        treatment_plans,
        two_factor,
        unsubscribe,
        webhooks,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(two_factor.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(appointments.bp)
    app.register_blueprint(treatment_plans.bp)
    app.register_blueprint(medication.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(unsubscribe.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer keys, never cookies, authenticate it (see app.views.api)
    errors.register(app)
    filters.register(app)
    ws.register(app)
    two_factor.register(app)
    security_headers.register(app)
