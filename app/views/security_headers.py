"""Headers every response carries, so the browser enforces what the pages need and no more.

The Content-Security-Policy allows this site's own scripts, styles, images and connections
(the inbox socket included) and nothing inline, with one exception: the two inline styles of
the email HTML, by hash. Email previews are sandboxed `srcdoc` frames, which inherit the
page's policy, and mail clients need those styles inline. Nobody may frame the dashboard.

Every response but a static file is `no-store`: pages, fragments and CSV exports show patient
data and must not stay in a browser's or a proxy's cache after sign-out. HSTS is sent over
HTTPS only (behind a proxy, `TRUSTED_PROXIES` makes its X-Forwarded-Proto count).
"""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request

from app.services.rendering import EMAIL_STYLES

HSTS = "max-age=31536000; includeSubDomains"


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy() -> str:
    email_styles = " ".join(_hash_source(style) for style in EMAIL_STYLES)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        # Style attributes only (CSP 3): the email's two, allowed by hash, never any other.
        "style-src-attr": f"'unsafe-hashes' {email_styles}",
        "img-src": "'self'",
        "connect-src": "'self'",  # includes ws(s):// to this host for the live inbox
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def register(app: Flask) -> None:
    policy = content_security_policy()

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = policy
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response
