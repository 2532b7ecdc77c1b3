"""Treatment plans: starting one for a patient, and a plan's page with its progress and updates."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.forms.treatment_plans import PLACEHOLDERS, PlanForm, ProgressForm
from app.models.treatment_plan import TreatmentPlan
from app.services import treatment_plans
from app.services.errors import Conflict, ValidationError
from app.services.input_rules import as_id
from app.views.access import staff_required
from app.views.appointments import patient_choices
from app.views.form_errors import show_errors
from app.vocabulary import TreatmentPlanStatus

bp = Blueprint("treatment_plans", __name__, url_prefix="/treatment-plans")


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    """Start a plan for one of the practitioner's patients, in dated phases."""
    form = PlanForm()
    form.patient_id.choices = patient_choices()
    general_errors: list[str] = []
    links: list[tuple[str, str]] = []
    if request.method == "GET" and (patient_id := as_id(request.args.get("patient"))) is not None:
        form.patient_id.data = str(patient_id)
    if request.method == "POST":
        form.validate()
        try:
            plan = treatment_plans.create_plan(current_user, form.plan())
        except ValidationError as error:
            rest, links = form.show_phase_errors(error.errors)
            general_errors = show_errors(form, rest)
        else:
            flash("Plan started. Record progress here; each record sends the patient an update.", "success")
            return redirect(url_for("treatment_plans.show", public_id=plan.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("treatment_plans/new.html", form=form, placeholders=PLACEHOLDERS,
                           general_errors=general_errors, links=links), status


@bp.get("/<public_id>")
@staff_required
def show(public_id: str):
    """A plan: its phases, where it stands, the progress form and every update sent."""
    plan = treatment_plans.visible_plan(current_user, public_id)
    return _show(plan, _progress_form(plan))


@bp.post("/<public_id>/progress")
@staff_required
def progress(public_id: str):
    plan = treatment_plans.visible_plan(current_user, public_id)
    form = _progress_form(plan)
    general_errors: list[str] = []
    form.validate()
    try:
        record = treatment_plans.record_progress(current_user, public_id, form.progress())
    except ValidationError as error:
        general_errors = show_errors(form, error.errors)
    else:
        flash(f"Recorded at {record.percent}%. The patient has been sent the update.", "success")
        return redirect(url_for("treatment_plans.show", public_id=public_id))
    return _show(plan, form, general_errors=general_errors, status=422)


@bp.post("/<public_id>/close")
@staff_required
def close(public_id: str):
    asked = request.form.get("status")
    try:
        if not TreatmentPlanStatus.has_value(asked):
            raise ValidationError({"status": "A plan is closed as completed or stopped"})
        plan = treatment_plans.close_plan(current_user, public_id, TreatmentPlanStatus(asked))
    except (ValidationError, Conflict) as error:
        flash(error.message if isinstance(error, Conflict) else "; ".join(error.errors.values()), "error")
    else:
        flash(f"The plan is {plan.status.label.lower()}. No more progress is recorded on it.", "success")
    return redirect(url_for("treatment_plans.show", public_id=public_id))


def _show(plan: TreatmentPlan, form: ProgressForm, *, general_errors: list[str] | None = None, status: int = 200):
    return render_template(
        "treatment_plans/show.html", plan=plan, entries=treatment_plans.progress_of(plan), form=form,
        general_errors=general_errors or [], today=datetime.now(current_user.zone).date(),
    ), status


def _progress_form(plan: TreatmentPlan) -> ProgressForm:
    form = ProgressForm()
    form.phase_id.choices = [SelectChoice(str(p.id), p.name) for p in plan.phases]
    if request.method == "GET" and (current := plan.current_phase(datetime.now(current_user.zone).date())):
        form.phase_id.data = str(current.id)
    return form

