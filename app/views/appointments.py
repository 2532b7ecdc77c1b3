"""Appointments: a practitioner's day, booking, and one appointment with its notifications."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.forms.appointments import TREATMENTS, AppointmentTimeForm, BookingForm, OutcomeForm
from app.models.user import User
from app.services import appointments, medication, treatment_plans
from app.services.access import visible_patients
from app.services.errors import Conflict, ValidationError
from app.services.input_rules import as_id, plausible_day
from app.views.access import staff_required
from app.views.form_errors import show_errors
from app.views.reminder_words import already_on_their_way
from app.vocabulary import AppointmentStatus

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


@bp.get("")
@staff_required
def day():
    """One day of appointments (today unless asked), or one patient's appointments, treatment
    plan and medication courses."""
    zone = current_user.zone
    patient_id = as_id(request.args.get("patient"))
    if patient_id is not None:
        patient = db.session.scalar(visible_patients(current_user).where(User.id == patient_id))
        listed = appointments.of_patient(current_user, patient_id) if patient else []
        plans = treatment_plans.plans_of(current_user, patient_id) if patient else []
        courses = medication.of_patient(current_user, patient_id) if patient else []
        return render_template(
            "appointments/patient.html", patient=patient, appointments=listed, plans=plans,
            entries=treatment_plans.progress_of(plans[0]) if plans else [], today=datetime.now(zone).date(),
            courses=[(course, medication.status_of(course)) for course in courses],
        )
    shown = _day_asked() or datetime.now(zone).date()
    return render_template(
        "appointments/day.html", day=shown, appointments=appointments.day_of(current_user, shown, zone),
        previous_day=shown - timedelta(days=1), next_day=shown + timedelta(days=1),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    """Book an appointment: the patient gets a confirmation now and reminders before it."""
    form = BookingForm()
    general_errors: list[str] = []
    form.patient_id.choices = patient_choices()
    if request.method == "GET" and (patient_id := as_id(request.args.get("patient"))) is not None:
        form.patient_id.data = str(patient_id)
    if request.method == "POST":
        form.validate()
        try:
            if form.errors:
                appointments.validate_booking(form.booking(current_user.zone))
                raise ValidationError({})
            appointment = appointments.book(current_user, form.booking(current_user.zone))
        except ValidationError as error:
            general_errors = show_errors(form, error.errors, fields={"starts_at": "day"})
        else:
            flash("Booked. The patient has been sent a confirmation.", "success")
            return redirect(url_for("appointments.show", public_id=appointment.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("appointments/new.html", form=form, treatments=TREATMENTS,
                           general_errors=general_errors), status


@bp.get("/<public_id>")
@staff_required
def show(public_id: str):
    """An appointment, what was sent and planned for it, and what can still change."""
    return _show(public_id, AppointmentTimeForm(), OutcomeForm())


@bp.post("/<public_id>/reschedule")
@staff_required
def reschedule(public_id: str):
    form = AppointmentTimeForm()
    if form.validate():
        try:
            change = appointments.reschedule(current_user, public_id, form.starts_at(current_user.zone))
        except ValidationError as error:
            form.day.errors = list(error.errors.values())
        except Conflict as error:
            flash(error.message, "error")
            return redirect(url_for("appointments.show", public_id=public_id))
        else:
            flash(_moved_sentence(change), "success")
            return redirect(url_for("appointments.show", public_id=public_id))
    return _show(public_id, form, OutcomeForm(), status=422)


@bp.post("/<public_id>/cancel")
@staff_required
def cancel(public_id: str):
    try:
        change = appointments.cancel(current_user, public_id)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash("Cancelled. The patient has been told." + already_on_their_way(change), "success")
    return redirect(url_for("appointments.show", public_id=public_id))


@bp.post("/<public_id>/outcome")
@staff_required
def outcome(public_id: str):
    form = OutcomeForm()
    if form.validate():
        try:
            appointments.record_outcome(current_user, public_id, AppointmentStatus(form.outcome.data))
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash(f"Recorded as {AppointmentStatus(form.outcome.data).label.lower()}.", "success")
        return redirect(url_for("appointments.show", public_id=public_id))
    return _show(public_id, AppointmentTimeForm(formdata=None), form, status=422)


def _show(public_id: str, time_form: AppointmentTimeForm, outcome_form: OutcomeForm, *, status: int = 200):
    appointment = appointments.visible_appointment(current_user, public_id)
    return render_template(
        "appointments/show.html", appointment=appointment, notifications=appointments.notifications_of(appointment),
        time_form=time_form, outcome_form=outcome_form,
    ), status


def _day_asked() -> date | None:
    try:
        asked = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return None
    return asked if plausible_day(asked) else None


def patient_choices() -> list[SelectChoice]:
    """The staff member's active patients to choose from (a booking's, a prescription's, a plan's)."""
    patients = db.session.scalars(
        visible_patients(current_user).where(User.active.is_(True)).order_by(User.name, User.id)
    )
    return [SelectChoice("", "Choose a patient"), *(SelectChoice(str(p.id), p.name) for p in patients)]


def _moved_sentence(change: appointments.AppointmentChange) -> str:
    return "Moved. The patient has been told, and the reminders follow the new time." + already_on_their_way(change)


