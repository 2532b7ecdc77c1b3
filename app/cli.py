"""`flask` commands for operators: users, demo data, sending from the shell, sweeping."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from app.clock import utcnow
from app.services.accounts import create_user, find_user_by_email
from app.services.errors import ServiceError, ValidationError
from app.services.input_rules import as_id
from app.vocabulary import Channel, NotificationType, Role


def register_cli(app: Flask) -> None:
    for command in (create_user_command, seed_demo_command, send_command, sweep_command, templates_command):
        app.cli.add_command(command)


def _fail(error: ServiceError) -> None:
    if isinstance(error, ValidationError):
        lines = [f"  {field}: {message}" for field, message in error.errors.items()]
        raise click.ClickException("the request was refused:\n" + "\n".join(lines))
    raise click.ClickException(error.message)


@click.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", required=True)
@click.option("--email", default=None)
@click.option("--phone", default=None, help="With country code, e.g. +919876543210")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--practitioner", "practitioner_email", default=None, help="A patient's practitioner (email)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, default="",
              help="Prompted for when not given; empty for a patient without a login")
@with_appcontext
def create_user_command(role, name, email, phone, timezone, locale, practitioner_email, password):
    """Create a user (admin, practitioner or patient)."""
    practitioner_id = None
    if practitioner_email:
        practitioner = find_user_by_email(practitioner_email)
        if practitioner is None:
            raise click.ClickException(f"no user with email {practitioner_email}")
        practitioner_id = practitioner.id
    try:
        user = create_user(role=role, name=name, email=email, phone=phone, timezone=timezone, locale=locale,
                           practitioner_id=practitioner_id, password=password or None)
    except ServiceError as error:
        _fail(error)
    click.echo(f"created {user.role} #{user.id}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo clinic once; print its logins every time, while its accounts exist."""
    from app.services.demo_data import DEMO_PASSWORD, demo_logins, seed_demo_data

    if seed_demo_data():
        click.echo("Created the demo clinic.")
    logins = demo_logins()
    if not logins:
        return
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        click.echo(f"  {login.role.value:<13} {login.email:<26} {login.name}")


@click.command("install-templates")
@with_appcontext
def templates_command():
    """Add any default template the clinic does not have yet."""
    from app.services.templates import install_default_templates

    click.echo(f"added {install_default_templates()} template(s)")


@click.command("send")
@click.option("--to", "recipients", multiple=True, required=True,
              help="Patient email or id; repeat for several, or 'all' for every active patient")
@click.option("--type", "type_", type=click.Choice([t.value for t in NotificationType]), required=True)
@click.option("--channel", "channels", multiple=True, type=click.Choice([c.value for c in Channel]),
              help="Repeat for several; none means each patient's preferences")
@click.option("--title", default="")
@click.option("--body", default="", help="Free text; leave out to use the type's templates")
@click.option("--data", "data_json", default="{}", help='Template data as JSON, e.g. \'{"when": "Mon 10:00"}\'')
@click.option("--at", "scheduled_at", default=None, help="ISO 8601 time with offset; default now")
@click.option("--idempotency-key", default=None)
@click.option("--as", "sender_email", default=None, help="Send as this staff member (email)")
@with_appcontext
def send_command(recipients, type_, channels, title, body, data_json, scheduled_at, idempotency_key, sender_email):
    """Send a notification from the shell, through the same pipeline as the dashboard."""
    from app.schemas import read
    from app.schemas.send import ALL_PATIENTS, SendRequest
    from app.services.outbox import create_send

    data = _json_object(data_json)
    sender = None
    if sender_email:
        sender = find_user_by_email(sender_email)
        if sender is None or sender.role is Role.PATIENT:
            raise click.ClickException(f"no staff member with email {sender_email[:80]!r}")
    ids, group = [], None
    for recipient in recipients:
        if recipient == "all":
            group = ALL_PATIENTS
        elif "@" in recipient:
            user = find_user_by_email(recipient)
            if user is None:
                raise click.ClickException(f"no user with email {recipient[:80]!r}")
            ids.append(user.id)
        elif (user_id := as_id(recipient)) is not None:
            ids.append(user_id)
        else:
            raise click.ClickException(f"--to takes a patient's email, id or 'all', not {recipient[:80]!r}")
    try:
        request = read(SendRequest, dict(
            type=type_, recipient_ids=ids, recipient_group=group, channels=list(channels) or None,
            template_key=None if body else type_, title=title, body=body, data=data,
            scheduled_at=scheduled_at, idempotency_key=idempotency_key,
        ), context={"now": utcnow()})
        result = create_send(sender, request)
    except ServiceError as error:
        _fail(error)
    click.echo(f"send {result.group_id}{'' if result.created else ' (already sent with this key)'}")
    for item in result.items:
        reason = f" ({item.reason})" if item.reason else ""
        click.echo(f"  #{item.recipient_id} {item.channel.value:<7} {item.status.value}{reason}")


def _json_object(text: str) -> dict:
    """`--data`: a JSON object of template values, or a one-line refusal."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise click.ClickException("--data is not valid JSON") from exc
    if not isinstance(data, dict):
        raise click.ClickException('--data must be a JSON object of names to values, like \'{"when": "Mon 10:00"}\'')
    return data


@click.command("sweep")
@with_appcontext
def sweep_command():
    """Re-enqueue due work that has no live job (a worker also does this every SWEEP_INTERVAL_SECONDS)."""
    from app.services.sweeper import sweep

    report = sweep()
    click.echo(f"recovered {report.recovered}, requeued {report.requeued}")
