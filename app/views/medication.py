"""Medication courses: prescribing one, a course with its adherence and reminders, changing
and stopping it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.forms.medication import CourseForm, PrescriptionForm
from app.services import medication
from app.services.errors import Conflict, ValidationError
from app.services.input_rules import as_id
from app.views.access import staff_required
from app.views.appointments import patient_choices
from app.views.form_errors import show_errors
from app.views.reminder_words import already_on_their_way

bp = Blueprint("medication", __name__, url_prefix="/medication")


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    """Prescribe a course: the patient is reminded at each of its times, in their own zone."""
    form = PrescriptionForm()
    form.patient_id.choices = patient_choices()
    general_errors: list[str] = []
    if request.method == "GET" and (patient_id := as_id(request.args.get("patient"))) is not None:
        form.patient_id.data = str(patient_id)
    if request.method == "POST":
        form.validate()
        try:
            if form.errors:
                medication.validate_prescription(current_user, form.prescription())
                raise ValidationError({})
            course = medication.prescribe(current_user, form.prescription())
        except ValidationError as error:
            general_errors = show_errors(form, error.errors)
        else:
            flash("Prescribed. The patient will be reminded at each time, in their own time zone.", "success")
            return redirect(url_for("medication.show", public_id=course.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("medication/new.html", form=form, general_errors=general_errors), status


@bp.get("/<public_id>")
@staff_required
def show(public_id: str):
    """A course: what was prescribed, the doses taken, and every reminder with its delivery."""
    course = medication.visible_course(current_user, public_id)
    return render_template(
        "medication/show.html", course=course, status=medication.status_of(course),
        adherence=medication.adherence(course), notifications=medication.notifications_of(course),
    )


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(public_id: str):
    """Change a running course: the reminders not yet sent follow the change."""
    course = medication.visible_course(current_user, public_id)
    form = CourseForm(obj=course) if request.method == "GET" else CourseForm()
    general_errors: list[str] = []
    if request.method == "GET":
        form.times_of_day.data = ", ".join(course.times_of_day)
    else:
        form.validate()
        try:
            if form.errors:
                medication.validate_change(current_user, public_id, form.details())
                raise ValidationError({})
            change = medication.change(current_user, public_id, form.details())
        except ValidationError as error:
            general_errors = show_errors(form, error.errors)
        except Conflict as error:
            flash(error.message, "error")
            return redirect(url_for("medication.show", public_id=public_id))
        else:
            flash("Changed. The reminders not yet sent follow the change." + already_on_their_way(change), "success")
            return redirect(url_for("medication.show", public_id=public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("medication/edit.html", course=course, form=form, general_errors=general_errors), status


@bp.post("/<public_id>/stop")
@staff_required
def stop(public_id: str):
    """Stop a course: its reminders not yet sent are cancelled."""
    try:
        change = medication.stop(current_user, public_id)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash("Stopped. No further reminders will be sent." + already_on_their_way(change), "success")
    return redirect(url_for("medication.show", public_id=public_id))

