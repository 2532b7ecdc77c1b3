"""One URL serves a page or the fragment of it htmx swaps."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def page_or_fragment(page: str, fragment: str) -> str:
    """htmx asks for the fragment it swaps; anyone else gets the page (which includes it)."""
    return fragment if is_htmx() else page
