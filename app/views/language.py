"""Which language a page speaks.

Only the patient's pages are translated: a patient reads them in the language they chose (the
one their messages are written in), while staff pages stay in English whatever a staff member's
own language, so a clinic's staff share one vocabulary for statuses and settings.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_login import current_user

from app.vocabulary import Role


def page_locale() -> str:
    if current_user.is_authenticated and current_user.role is Role.PATIENT:
        return current_user.locale
    return "en"


def page_language() -> str:
    """The language this page is rendered in: `page_locale`'s choice, or the one a page that
    speaks to someone signed out (an unsubscribe link's patient) forced for itself."""
    return str(get_locale() or "en")
