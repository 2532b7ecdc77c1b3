"""Where a redirect may lead when the target came from the request (`next` after sign-in,
the page a button was on): only to a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_TARGET_CHARS = 2000


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None.

    Browsers read a backslash as a slash (`/\\evil.example` is another site) and drop tabs and
    newlines inside URLs, so both are refused along with schemes and `//host`; control
    characters could not go into a Location header at all.
    """
    if not target or len(target) > MAX_TARGET_CHARS or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
