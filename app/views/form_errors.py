"""A service's field errors shown on the form that asked."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import Form


def show_errors(form: Form, errors: Mapping[str, str], *, fields: Mapping[str, str] | None = None) -> list[str]:
    """Put each error under the form field of its name (or the one `fields` maps it to), unless
    the form already objected there; return those that belong to no field of the form."""
    general = []
    for key, message in errors.items():
        name = (fields or {}).get(key, key)
        if name not in form:
            general.append(message)
        elif not form[name].errors:
            form[name].errors = [*form[name].errors, message]
    return general
