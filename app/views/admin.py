"""The admin area: delivery log, stats, queues, users, clinic settings, templates, audit log, dev outbox."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app.clock import utcnow
from app.extensions import get_redis
from app.forms.admin import (
    COMMON_TIMEZONES,
    LANGUAGE_NAMES,
    AssignPractitionerForm,
    AuditFilterForm,
    ClinicSettingsForm,
    DeliveryLogFilterForm,
    GetForm,
    NewApiKeyForm,
    NewUserForm,
    StatsRangeForm,
    TemplateForm,
    UserFilterForm,
    chosen_id,
    offer_practitioners,
)
from app.models.audit_event import AuditAction
from app.services import api_keys, audit, clinic_settings, queue_health, two_factor, user_admin
from app.services import delivery_log as log_service
from app.services import dev_outbox as dev_outbox_service
from app.services import stats as stats_service
from app.services import templates as template_service
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.input_rules import as_id
from app.services.preview import preview_template
from app.services.query_filters import patient_searched
from app.services.template_checks import has_subject, subject_label, variables_for
from app.views.access import admin_required
from app.views.filters import viewer_zone
from app.views.form_errors import show_errors
from app.views.htmx import is_htmx, page_or_fragment
from app.vocabulary import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

OUTBOX_SHOWN = 50


@bp.get("")
@admin_required
def home():
    """The admin area opens on the delivery log."""
    return redirect(url_for("admin.delivery_log"))


# --- delivery log -----------------------------------------------------------------------------


@bp.get("/log")
@admin_required
def delivery_log():
    """Every event and provider attempt, newest first, filtered, a page at a time."""
    form = DeliveryLogFilterForm(request.args)
    before = _cursor()
    if not form.validate():
        return render_template("admin/delivery_log.html", form=form, page=None, args={}), 422
    filters = form.filters(viewer_zone())
    page = log_service.log_page(filters, before=before)
    _record_read(AuditAction.DELIVERY_LOG_VIEWED, form, patient_search=filters.patient, before=before)
    template = page_or_fragment("admin/delivery_log.html", "partials/_admin_log_results.html")
    return render_template(template, form=form, page=page, args=request.args.to_dict())


@bp.get("/log.csv")
@admin_required
def delivery_log_csv():
    """The whole filtered log as CSV, streamed as it is read."""
    form = DeliveryLogFilterForm(request.args)
    if not form.validate():
        abort(400, description="Fix the filters: " + _error_text(form))
    filters = form.filters(viewer_zone())
    _record_read(AuditAction.DELIVERY_LOG_EXPORTED, form, patient_search=filters.patient)
    return _csv_download(log_service.csv_lines(filters), "delivery-log")


# --- stats ------------------------------------------------------------------------------------


@bp.get("/stats")
@admin_required
def stats():
    """Sent, delivered and failed per channel per day, and the commonest failure reasons."""
    zone = viewer_zone()
    today = datetime.now(zone).date()
    form = StatsRangeForm(request.args)
    first, last = stats_service.default_range(today)
    if form.validate():
        try:
            first, last = stats_service.chosen_range(form.date_from.data, form.date_to.data, today)
        except ValidationError as exc:
            form.date_to.errors = list(exc.errors.values())
    report = stats_service.delivery_stats(first, last, zone)
    return render_template("admin/stats.html", form=form, report=report), 422 if form.errors else 200


# --- queues -----------------------------------------------------------------------------------


@bp.get("/queues")
@admin_required
def queues():
    """Queue lengths, workers and failed jobs; the summary part refreshes itself (and reads
    only what it shows)."""
    if is_htmx():
        return render_template("partials/_admin_queue_summary.html", summary=queue_health.summary(get_redis()))
    overview = queue_health.overview(get_redis())
    return render_template("admin/queues.html", summary=overview.summary, failed_jobs=overview.failed_jobs)


@bp.post("/queues/failed/<job_id>/retry")
@admin_required
def queue_retry_job(job_id: str):
    """Put one failed job back on its queue."""
    queue = queue_health.retry_failed_job(get_redis(), job_id)
    flash(f"Job {job_id} is back on the {queue} queue.", "info")
    return redirect(url_for("admin.queues"))


@bp.post("/queues/failed/retry-all")
@admin_required
def queue_retry_all():
    """Put every failed job back on its queue."""
    count = queue_health.retry_all_failed(get_redis())
    if count:
        flash(f"{count} failed job(s) put back on their queues.", "info")
    else:
        flash("There were no failed jobs to retry.", "info")
    return redirect(url_for("admin.queues"))


# --- users ------------------------------------------------------------------------------------


@bp.get("/users")
@admin_required
def users():
    """Everyone, newest first, by role and name or email."""
    form = UserFilterForm(request.args)
    before = _cursor()
    if not form.validate():
        return render_template("admin/users.html", form=form, page=None, args={}), 422
    page = user_admin.users_page(role=Role(form.role.data) if form.role.data else None,
                                 search=form.q.data, before=before)
    return render_template("admin/users.html", form=form, page=page, args=request.args.to_dict())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    """Create a patient or a practitioner."""
    form = NewUserForm(timezone=current_app.config["DEFAULT_TIMEZONE"])
    offer_practitioners(form.practitioner_id, user_admin.practitioners())
    other_errors: list[str] = []
    if form.validate_on_submit():
        try:
            user = user_admin.create_account(
                current_user, role=form.role.data, name=form.name.data, email=form.email.data, phone=form.phone.data,
                timezone=(form.timezone.data or "").strip(), locale=form.locale.data,
                practitioner_id=chosen_id(form.practitioner_id), password=form.password.data,
            )
        except ValidationError as exc:
            other_errors = form.add_service_errors(exc.errors)
        else:
            flash(f"Created {user.role.value} {user.name}.", "info")
            return redirect(url_for("admin.user", user_id=user.id))
    status = 422 if form.errors or other_errors else 200
    return render_template("admin/user_new.html", form=form, other_errors=other_errors,
                           common_zones=COMMON_TIMEZONES), status


@bp.get("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    """One user: their details, (de)activation and, for a patient, their practitioner."""
    person = user_admin.get_user(user_id)
    form = AssignPractitionerForm(practitioner_id=str(person.practitioner_id or ""))
    offer_practitioners(form.practitioner_id, user_admin.practitioners())
    return render_template("admin/user.html", person=person, form=form)


@bp.post("/users/<int:user_id>/practitioner")
@admin_required
def user_practitioner(user_id: int):
    """Assign (or unassign) a patient's practitioner."""
    person = user_admin.get_user(user_id)
    form = AssignPractitionerForm()
    offer_practitioners(form.practitioner_id, user_admin.practitioners())
    if form.validate():
        try:
            user_admin.assign_practitioner(current_user, user_id, chosen_id(form.practitioner_id))
        except ValidationError as exc:
            form.practitioner_id.errors = list(exc.errors.values())
        else:
            now_with = person.practitioner.name if person.practitioner else "nobody"
            flash(f"{person.name}'s practitioner is now {now_with}.", "info")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user.html", person=person, form=form), 422


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def user_deactivate(user_id: int):
    """Stop a user signing in; their open sessions end too."""
    return _set_active(user_id, active=False)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def user_reactivate(user_id: int):
    """Let a deactivated user sign in again."""
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool):
    try:
        person = user_admin.set_active(current_user, user_id, active)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        state = "active again" if active else "deactivated and can no longer sign in"
        flash(f"{person.name} is {state}.", "info")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/two-factor/reset")
@admin_required
def user_reset_two_factor(user_id: int):
    """Turn off a staff member's two-factor sign-in (a lost phone); their sign-ins end."""
    try:
        person = user_admin.reset_two_factor(current_user, user_id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        then = ("set it up again before anything else" if two_factor.required_for(person)
                else "sign in with their password alone until they set it up again")
        flash(f"{person.name}'s two-factor sign-in is reset and they are signed out everywhere; they {then}.", "info")
    return redirect(url_for("admin.user", user_id=user_id))


# --- settings ---------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """The clinic's settings: whether staff must use two-factor sign-in, the channels each type
    goes on for patients who have not chosen, and the SMS segment limit templates must fit."""
    saved = clinic_settings.current_settings()
    form = ClinicSettingsForm(obj=saved)
    problems: list[str] = []
    if request.method == "GET":
        form.fill_grid(clinic_settings.channel_defaults())
        form.fallback_order.data = ",".join(c.value for c in clinic_settings.fallback_order())
    if form.validate_on_submit():
        try:
            clinic_settings.save_settings(current_user, require_staff_two_factor=form.require_staff_two_factor.data,
                                          default_channels=form.grid(),
                                          fallback=form.fallback(), sms_segment_limit=form.sms_segment_limit.data)
        except ValidationError as error:
            problems = show_errors(form, error.errors)
        else:
            flash("Settings saved.", "info")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, saved=saved, problems=problems,
                           without_two_factor=two_factor.staff_without_two_factor()), \
        422 if form.errors or problems else 200


# --- API keys ---------------------------------------------------------------------------------


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_required
def api_key_list():
    """The clinic systems' API keys: create one (its token is shown once), see when each was last
    used, revoke one."""
    form = NewApiKeyForm()
    new_token = None
    other_errors: list[str] = []
    if form.validate_on_submit():
        try:
            _, new_token = api_keys.create_key(current_user, form.name.data, form.scopes.data or [])
        except ValidationError as exc:
            other_errors = show_errors(form, exc.errors)
        else:
            form = NewApiKeyForm(formdata=None)
    status = 422 if form.errors or other_errors else 201 if new_token else 200
    return render_template("admin/api_keys.html", form=form, keys=api_keys.all_keys(), new_token=new_token,
                           other_errors=other_errors), status


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_required
def api_key_revoke(key_id: int):
    """Revoke a key: the next request with it is refused."""
    try:
        key = api_keys.revoke_key(current_user, key_id)
    except Conflict as exc:
        flash(exc.message, "error")
    except NotFound:
        abort(404)
    else:
        flash(f"The key “{key.name}” is revoked: requests with it are refused from now on.", "info")
    return redirect(url_for("admin.api_key_list"))


# --- templates --------------------------------------------------------------------------------

TEMPLATE_URL = "/templates/<type_key>/<channel>/<locale>"


@bp.get("/templates")
@admin_required
def message_templates():
    """Every type x channel x language, saying which the clinic has no template for."""
    return render_template("admin/templates.html", slots=template_service.every_slot(),
                           language_names=LANGUAGE_NAMES)


@bp.route(TEMPLATE_URL, methods=["GET", "POST"])
@admin_required
def template_edit(type_key: str, channel: str, locale: str):
    """Edit one template beside its type's variables and a live preview; its earlier versions below."""
    slot = template_service.slot_for(type_key, channel, locale)
    subject, body = template_service.starting_text(slot)
    form = TemplateForm(subject=subject, body=body)
    if form.validate_on_submit():
        try:
            template_service.save_template(current_user, slot, subject=form.subject.data or "",
                                           body=form.body.data or "")
        except ValidationError as exc:
            show_errors(form, exc.errors)
        except Conflict as exc:
            flash(exc.message, "error")
        else:
            flash("Saved. Notifications written from now on use it.", "info")
            return redirect(url_for("admin.template_edit", type_key=type_key, channel=channel, locale=locale))
    return _template_page(slot, form), 422 if form.errors else 200


@bp.post(TEMPLATE_URL + "/preview")
@admin_required
def template_preview(type_key: str, channel: str, locale: str):
    """The template as typed, rendered with sample values, or what would refuse it (htmx)."""
    slot = template_service.slot_for(type_key, channel, locale)
    form = TemplateForm()
    preview = preview_template(slot, subject=form.subject.data or "", body=form.body.data or "")
    return render_template("partials/_template_preview.html", preview=preview)


@bp.post(TEMPLATE_URL + "/versions/<int:version_id>/restore")
@admin_required
def template_restore(type_key: str, channel: str, locale: str, version_id: int):
    """Put an earlier version back in use (as a new version)."""
    slot = template_service.slot_for(type_key, channel, locale)
    try:
        template_service.restore_version(current_user, slot, version_id)
    except ValidationError as exc:
        flash(" ".join(exc.errors.values()), "error")
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash("Restored: it is in use again, as the newest version.", "info")
    return redirect(url_for("admin.template_edit", type_key=type_key, channel=channel, locale=locale))


def _template_page(slot: template_service.TemplateSlot, form: TemplateForm) -> str:
    form.subject.label.text = subject_label(slot.channel)
    return render_template(
        "admin/template_edit.html", slot=slot, form=form, has_subject=has_subject(slot.channel),
        variables=variables_for(slot.type), versions=template_service.versions_of(slot.template),
        preview=preview_template(slot, subject=form.subject.data or "", body=form.body.data or ""),
        segment_limit=clinic_settings.current_settings().sms_segment_limit, language_names=LANGUAGE_NAMES,
    )


# --- audit log --------------------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log():
    """Who did what to whose data, from where, newest first, filtered, a page at a time."""
    form = AuditFilterForm(request.args)
    before = _cursor()
    if not form.validate():
        return render_template("admin/audit_log.html", form=form, page=None, args={}), 422
    page = audit.audit_page(form.filters(viewer_zone()), before=before)
    template = page_or_fragment("admin/audit_log.html", "partials/_admin_audit_results.html")
    return render_template(template, form=form, page=page, args=request.args.to_dict())


@bp.get("/audit.csv")
@admin_required
def audit_log_csv():
    """The whole filtered audit log as CSV, streamed as it is read (the export is itself recorded)."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        abort(400, description="Fix the filters: " + _error_text(form))
    filters = form.filters(viewer_zone())
    _record_read(AuditAction.AUDIT_LOG_EXPORTED, form, patient_search=filters.patient)
    return _csv_download(audit.csv_lines(filters), "audit-log")


# --- dev outbox -------------------------------------------------------------------------------


@bp.get("/outbox")
@admin_required
def dev_outbox():
    """What console providers would have sent, per channel."""
    entries = dev_outbox_service.recent_entries(OUTBOX_SHOWN)
    return render_template("admin/dev_outbox.html", entries=entries, shown=OUTBOX_SHOWN)


# --- helpers ----------------------------------------------------------------------------------


def _cursor() -> int | None:
    """The `before` keyset cursor: absent, or a positive id (anything else is a 400)."""
    raw = request.args.get("before", "")
    if not raw:
        return None
    cursor = as_id(raw)
    if cursor is None:
        abort(400, description="The page link is broken: `before` must be a positive whole number.")
    return cursor


def _record_read(action: AuditAction, form: GetForm, *, patient_search: str | None, before: int | None = None) -> None:
    """Record a read of a filtered listing: the names of the filters used (not what was typed
    in them), and the patient when the search named one by id."""
    audit.record_now(action, actor_id=current_user.id, patient_id=patient_searched(patient_search),
                     detail={"filters": form.used_filters(), "before": before})


def _csv_download(lines, name: str) -> Response:
    filename = f"{name}-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _error_text(form) -> str:
    return "; ".join(f"{field.label.text}: {' '.join(field.errors)}" for field in form if field.errors)
