"""What a delivery worker holds between jobs, and letting it go when the worker stops.

Kept across jobs on purpose (the sending threads, the providers' keep-alive connections); the
worker and the tests release them through this one call instead of knowing each holder.
"""

from __future__ import annotations

from flask import Flask

from app.channels.registry import close_providers
from app.services.delivery import shutdown_pool


def release_delivery_resources(app: Flask) -> None:
    """Stop the sending threads (after their sends finish), then close every provider."""
    shutdown_pool(app)
    close_providers(app)
