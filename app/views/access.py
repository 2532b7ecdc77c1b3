"""Who may open what: decorators for views, so no view checks roles by hand."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user, login_required

from app.vocabulary import Role

F = TypeVar("F", bound=Callable)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Login required, then one of `roles`; anyone else gets 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


staff_required = roles_required(Role.PRACTITIONER, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)
patient_required = roles_required(Role.PATIENT)
