"""The practitioner's dashboard: compose, monitor, a notification's timeline, a send's progress."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.forms.compose import ONE_PATIENT, ComposeForm, MonitorFilterForm, RescheduleForm
from app.models.audit_event import AuditAction
from app.models.status import Status
from app.models.user import User
from app.services import audit, monitoring, preferences, scheduling
from app.services.access import visible_patients
from app.services.errors import ValidationError
from app.services.input_rules import as_id, has_control_characters
from app.services.outbox import create_send, validate_send
from app.services.preview import preview_send
from app.services.template_fields import fields_for
from app.views import filters
from app.views.access import staff_required
from app.views.htmx import page_or_fragment
from app.views.preferences import preferences_page
from app.views.safe_redirect import local_path
from app.vocabulary import Channel, NotificationType, Role

bp = Blueprint("dashboard", __name__)

AUTOCOMPLETE_LIMIT = 8
# Where each service error field shows on the compose form (recipients: see _error_field).
COMPOSE_ERROR_FIELDS = {
    "recipient_group": "recipient_mode",
    "channels": "channels",
    "type": "type",
    "title": "title",
    "body": "body",
    "scheduled_at": "send_date",
    "at_local_time": "send_date",
}


@bp.get("/dashboard")
@staff_required
def home():
    """The dashboard opens on Monitor."""
    return redirect(url_for("dashboard.monitor"))


# --- compose ------------------------------------------------------------------------------


@bp.route("/compose", methods=["GET", "POST"])
@staff_required
def compose():
    """Compose a notification for one patient or a group; send now or schedule.

    A refused submit names every problem at once: the form's own checks and the outbox's
    (patient, template values, schedule) in one answer, summarised at the top.
    """
    form = _compose_form()
    data_errors: dict[str, str] = {}
    general_errors: list[str] = []
    if request.method == "POST":
        form.validate()
        try:
            send_request = form.send_request(current_user.zone)
            if form.errors:
                validate_send(current_user, send_request)
            else:
                result = create_send(current_user, send_request)
                # The send's page says how it stands, live; a flash would go on saying "Sending"
                # after it has finished.
                if not result.created:
                    flash("This was already sent; here it is.", "info")
                return redirect(url_for("dashboard.send", group_id=result.group_id))
        except ValidationError as error:
            general_errors = _place_errors(form, error.errors, data_errors)
    elif (patient_id := as_id(request.args.get("patient"))) is not None:
        _prefill_patient(form, patient_id)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "dashboard/compose.html",
        form=form,
        general_errors=general_errors,
        data_errors=data_errors,
        data_fields=fields_for(form.type.data),
        data_values=form.data_values(),
        zone_name=current_user.timezone,
    ), status


@bp.post("/compose/preview")
@staff_required
def compose_preview():
    """Each channel as the patient will see it (htmx, on every change to the form)."""
    form = _compose_form()
    preview = preview_send(
        current_user,
        type_=form.type.data or "",
        patient_id=as_id(form.patient_id.data),
        recipient_group=form.recipient_mode.data if form.recipient_mode.data != ONE_PATIENT else None,
        channels=form.channels.data if form.channel_mode.data == "choose" else None,
        template_key=form.type.data if form.content_mode.data == "template" else None,
        title=form.title.data or "",
        body=form.body.data or "",
        data=form.data_values(),
    )
    return render_template("partials/_compose_preview.html", preview=preview)


@bp.post("/compose/patients")
@staff_required
def patient_suggestions():
    """Patients whose name or email contains what was typed (autocomplete).

    A POST, so the typed name never lands in a URL, a proxy's access log or browser history.
    """
    term = request.form.get("patient_search", "").strip()[:120]
    patients: list[User] = []
    if term and not has_control_characters(term):  # no name holds one; PostgreSQL refuses a NUL
        like = f"%{term.replace('%', '').replace('_', '')}%"
        patients = list(
            db.session.scalars(
                visible_patients(current_user)
                .where(User.active.is_(True), sa.or_(User.name.ilike(like), User.email.ilike(like)))
                .order_by(User.name)
                .limit(AUTOCOMPLETE_LIMIT)
            )
        )
    return render_template("partials/_patient_suggestions.html", patients=patients, term=term)


@bp.get("/compose/fields")
@staff_required
def template_fields():
    """The data fields the chosen type's templates use."""
    type_value = request.args.get("type")
    return render_template("partials/_compose_template_fields.html", data_fields=fields_for(type_value),
                           data_values={})


def _compose_form() -> ComposeForm:
    form = ComposeForm()
    if current_user.role is Role.ADMIN:
        form.allow_all_patients()
    return form


def _prefill_patient(form: ComposeForm, patient_id: int) -> None:
    patient = db.session.scalar(visible_patients(current_user).where(User.id == patient_id))
    if patient is not None:
        form.patient_id.data = str(patient.id)
        form.patient_search.data = patient.name


def _place_errors(form: ComposeForm, errors: dict[str, str], data_errors: dict[str, str]) -> list[str]:
    """Put each service error under its field, unless the form already objected there; errors of
    the template values the form shows go into `data_errors`; return those that belong to no field."""
    shown_values = {f.name for f in fields_for(form.type.data)}
    general = []
    for key, message in errors.items():
        if key.startswith("data.") and key.removeprefix("data.") in shown_values:
            data_errors[key.removeprefix("data.")] = message
            continue
        name = _error_field(form, key)
        if name is None:
            general.append(message)
        elif not form[name].errors:
            form[name].errors = [*form[name].errors, message]
    return general


def _error_field(form: ComposeForm, key: str) -> str | None:
    if key in ("recipients", "recipient_ids"):
        return "patient_search" if form.recipient_mode.data == ONE_PATIENT else "recipient_mode"
    return COMPOSE_ERROR_FIELDS.get(key)


# --- monitor --------------------------------------------------------------------------------


@bp.get("/monitor")
@staff_required
def monitor():
    """What this practitioner sent and scheduled, newest first; statuses refresh by themselves."""
    form = MonitorFilterForm(request.args)
    filters = _monitor_filters(form) if form.validate() else monitoring.MonitorFilters()
    before = as_id(request.args.get("before"))
    page = monitoring.monitor_page(current_user, filters, zone=current_user.zone, before=before)
    template = page_or_fragment("dashboard/monitor.html", "partials/_monitor_rows.html")
    args = {k: v for k, v in request.args.items() if v}
    return render_template(template, form=form, page=page, args=args)


def _monitor_filters(form: MonitorFilterForm) -> monitoring.MonitorFilters:
    return monitoring.MonitorFilters(
        status=Status(form.status.data) if form.status.data else None,
        channel=Channel(form.channel.data) if form.channel.data else None,
        type=NotificationType(form.type.data) if form.type.data else None,
        patient=form.patient.data or None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


# --- one notification ------------------------------------------------------------------------


@bp.get("/notifications/<public_id>")
@staff_required
def notification(public_id: str):
    """A notification, its content, and its timeline of events."""
    view = monitoring.notification_view(current_user, public_id)
    page = render_template("dashboard/notification.html", view=view, reschedule=RescheduleForm())
    # Recorded once the page is drawn: the commit would otherwise make every row on it load again.
    audit.record_now(AuditAction.NOTIFICATION_VIEWED, actor_id=current_user.id, patient_id=view.notification.user_id,
                     detail={"notification": view.notification.public_id})
    return page


@bp.post("/notifications/<public_id>/cancel")
@staff_required
def cancel(public_id: str):
    """Cancel one channel of a message, if no worker has claimed it yet."""
    change = scheduling.cancel_notification(current_user, public_id)
    _flash_change(change.sentence("Cancelled", too_late="Too late to cancel"), change)
    return redirect(_back_to(url_for("dashboard.notification", public_id=public_id)))


@bp.post("/notifications/<public_id>/reschedule")
@staff_required
def reschedule(public_id: str):
    """Move one channel of a message, not yet sent, to another time."""
    form = RescheduleForm()
    if form.validate_on_submit():
        when = datetime.combine(form.send_date.data, form.send_time.data, tzinfo=current_user.zone)
        try:
            change = scheduling.reschedule_notification(current_user, public_id, when)
        except ValidationError as error:
            form.send_date.errors = list(error.errors.values())
        else:
            _flash_change(_rescheduled(change), change)
            return redirect(url_for("dashboard.notification", public_id=public_id))
    view = monitoring.notification_view(current_user, public_id)
    return render_template("dashboard/notification.html", view=view, reschedule=form), 422


# --- one message (a send to one patient, every channel) ---------------------------------------


@bp.post("/sends/<group_id>/to/<int:patient_id>/cancel")
@staff_required
def cancel_message(group_id: str, patient_id: int):
    """Cancel every channel of a message that no worker has claimed yet."""
    change = scheduling.cancel_message(current_user, group_id, patient_id)
    _flash_change(change.sentence("Cancelled", too_late="Too late to cancel"), change)
    return redirect(_back_to(url_for("dashboard.monitor")))


@bp.route("/sends/<group_id>/to/<int:patient_id>/reschedule", methods=["GET", "POST"])
@staff_required
def reschedule_message(group_id: str, patient_id: int):
    """Move every channel of a message not yet sent to another time."""
    form = RescheduleForm()
    if form.validate_on_submit():
        when = datetime.combine(form.send_date.data, form.send_time.data, tzinfo=current_user.zone)
        try:
            change = scheduling.reschedule_message(current_user, group_id, patient_id, when)
        except ValidationError as error:
            form.send_date.errors = list(error.errors.values())
        else:
            _flash_change(_rescheduled(change), change)
            return redirect(_back_to(url_for("dashboard.monitor")))
    message = monitoring.message_view(current_user, group_id, patient_id)
    status = 422 if request.method == "POST" else 200
    return render_template("dashboard/reschedule.html", message=message, form=form), status


def _rescheduled(change: scheduling.ChannelChange) -> str:
    when = f" for {filters.when(change.run_at)}" if change.run_at else " to go now"
    return change.sentence("Rescheduled", too_late="Too late to reschedule", when=when)


def _flash_change(sentence: str, change: scheduling.ChannelChange) -> None:
    flash(sentence, "success" if change.changed else "error")


# --- one send (a group) -----------------------------------------------------------------------


@bp.get("/sends/<group_id>")
@staff_required
def send(group_id: str):
    """A send: its progress (live while anything is pending) and its notifications."""
    return render_template("dashboard/send.html", view=monitoring.group_view(current_user, group_id))


@bp.get("/sends/<group_id>/live")
@staff_required
def send_live(group_id: str):
    """The progress bar and rows, polled by the send page until nothing is pending."""
    return render_template("partials/_send_live.html", view=monitoring.group_view(current_user, group_id))


@bp.post("/sends/<group_id>/cancel")
@staff_required
def cancel_send(group_id: str):
    """Cancel everything in a send that has not gone out yet."""
    count = scheduling.cancel_group(current_user, group_id)
    if count:
        flash(f"Cancelled {count} notification(s).", "success")
    else:
        flash("Nothing in this send can still be cancelled.", "error")
    return redirect(url_for("dashboard.send", group_id=group_id))


def _back_to(default: str) -> str:
    """Return to the page the button was on, when that is a page of this site."""
    return local_path(request.form.get("next")) or default


# --- a patient's preferences, set by their practitioner or an admin ---------------------------


@bp.route("/patients/<int:patient_id>/preferences", methods=["GET", "POST"])
@staff_required
def patient_preferences(patient_id: int):
    """A patient's delivery preferences, changed on their behalf (a patient who asked at the desk)."""
    patient = preferences.editable_patient(current_user, patient_id)
    return preferences_page(patient, back=url_for("appointments.day", patient=patient_id))
