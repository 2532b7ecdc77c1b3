"""The delivery preferences page, one for a patient's own use and for staff acting for them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user

from app.forms.preferences import PreferencesForm
from app.models.user import User
from app.services import preferences
from app.services.errors import ValidationError
from app.views.form_errors import show_errors


def preferences_page(patient: User, *, back: str):
    """The preferences form for `patient`, shared by the patient's own page and staff's."""
    form = PreferencesForm()
    problems: list[str] = []
    if request.method == "GET":
        form.fill_grid(preferences.channels_by_type(patient))
        form.quiet_start.data, form.quiet_end.data = patient.quiet_hours_start, patient.quiet_hours_end
    elif form.validate():
        try:
            changed = preferences.set_preferences(current_user, patient.id, channels=form.grid(),
                                                  quiet_start=form.quiet_start.data, quiet_end=form.quiet_end.data)
        except ValidationError as error:
            # The service's words, in the page's language where the catalogue has them.
            problems = show_errors(form, {name: gettext(words) for name, words in error.errors.items()})
        else:
            saved = gettext("Saved. The next messages follow these preferences.")
            flash(saved if changed else gettext("Nothing to change."), "info")
            return redirect(request.path)
    status = 422 if request.method == "POST" else 200
    return render_template("inbox/preferences.html", form=form, patient=patient, back=back, problems=problems,
                           following_clinic=preferences.following_clinic(patient)), status
