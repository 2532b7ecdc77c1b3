"""Turning a send's content into each channel's text, in the recipient's language.

Templates are edited by staff, so they run in Jinja's immutable sandbox with strict undefined
variables: a template that needs a `data` field the send did not give fails the whole send with
a message naming the field, instead of sending a reminder with a blank where the time should be.
Email HTML is produced here from the text, escaped, so no template can inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from app.services.template_fields import RECIPIENT_FIELDS, missing_value_message
from app.vocabulary import Channel, NotificationType

SMS_MAX_CHARS = 1600  # Twilio's limit for one message (up to 10 segments)
PUSH_TITLE_MAX = 100
PUSH_BODY_MAX = 240


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    html: str | None = None


@dataclass(frozen=True, slots=True)
class FreeText:
    title: str
    body: str


class RenderError(ValueError):
    """A template could not be rendered with the data given; the message says why.

    `field` names the data value that was missing, when that was the reason.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# Jinja words a missing variable as "'when' is undefined".
_UNDEFINED_NAME = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)' is undefined$")


_text_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compile(source: str) -> Template:
    return _text_env.from_string(source)


def parse_template_text(source: str) -> nodes.Template:
    """The syntax tree of a template as sends will compile it, for checking it before it is saved.

    Compiled as well as parsed: an unknown filter or test is found only when compiling.

    Raises:
        jinja2.TemplateSyntaxError: with the line (`lineno`) and what is wrong (`message`).
    """
    _compile(source)
    return _text_env.parse(source)


def render_template_text(source: str, context: Mapping[str, Any]) -> str:
    try:
        return _compile(source).render(context).strip()
    except UndefinedError as exc:
        missing = _UNDEFINED_NAME.match(exc.message or "")
        if missing:
            raise RenderError(missing_value_message(missing.group(1)), field=missing.group(1)) from exc
        raise RenderError("the template asks for something this send does not have") from exc
    except SecurityError as exc:
        raise RenderError("the template tried something templates may not do") from exc
    except TemplateError as exc:
        raise RenderError(f"the template is broken: {exc}") from exc


def paragraphs_html(text: str) -> Markup:
    """Plain text as escaped HTML paragraphs: blank lines split paragraphs, newlines break lines."""
    parts = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n")))
        for p in parts
    )


# The email's only inline styles (mail clients ignore stylesheets). The dashboard shows emails
# in sandboxed frames under its own Content-Security-Policy, which allows exactly these by hash.
EMAIL_BODY_STYLE = "font-family:sans-serif;line-height:1.5;color:#1f2a24;max-width:36em"
EMAIL_FOOTER_STYLE = "color:#55625a;font-size:0.9em"
EMAIL_STYLES = (EMAIL_BODY_STYLE, EMAIL_FOOTER_STYLE)


def email_html(subject: str, text: str, clinic: str) -> str:
    """A simple, accessible HTML version of the email's text; every piece is escaped."""
    body = paragraphs_html(text)
    return str(
        Markup(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
            '<body style="{}">{}<p style="{}">{}</p></body></html>'
        ).format(subject, EMAIL_BODY_STYLE, body, EMAIL_FOOTER_STYLE, clinic)
    )


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def minimal_notice(channel: Channel, type_: NotificationType, context: Mapping[str, Any]) -> Rendered:
    """What SMS and push carry for free text when bodies are kept minimal: a pointer to the inbox."""
    label = type_.label.lower()
    if channel is Channel.SMS:
        return Rendered(
            subject=type_.label,
            body=f"{context['clinic']}: you have a new {label} from {context['practitioner_name']}."
            f" Read it: {context['inbox_url']}",
        )
    return Rendered(subject=str(context["clinic"]), body=f"New {label}: open the app to read it.")


def fit_to_channel(channel: Channel, rendered: Rendered, clinic: str) -> Rendered:
    """Apply each channel's shape: HTML for email, short title and body for push."""
    if channel is Channel.EMAIL:
        return Rendered(rendered.subject, rendered.body, email_html(rendered.subject, rendered.body, clinic))
    if channel is Channel.PUSH:
        return Rendered(truncate(rendered.subject, PUSH_TITLE_MAX), truncate(rendered.body, PUSH_BODY_MAX))
    if channel is Channel.SMS and len(rendered.body) > SMS_MAX_CHARS:
        raise RenderError(
            f"the SMS text is {len(rendered.body)} characters; the limit is {SMS_MAX_CHARS}"
        )
    return rendered


class Composer:
    """Renders one send's content for any channel and recipient language.

    Built once per send request, so a group send of thousands compiles each template once.
    """

    def __init__(
        self,
        type_: NotificationType,
        *,
        free_text: FreeText | None,
        templates: Mapping[tuple[Channel, str], tuple[str, str]],
        default_locale: str,
        minimal_bodies: bool,
        clinic: str,
    ):
        self.type = type_
        self.free_text = free_text
        self.templates = templates
        self.default_locale = default_locale
        self.minimal_bodies = minimal_bodies
        self.clinic = clinic

    def render(self, channel: Channel, locale: str, context: Mapping[str, Any]) -> Rendered:
        if self.free_text is not None:
            if self.minimal_bodies and channel in (Channel.SMS, Channel.PUSH):
                rendered = minimal_notice(channel, self.type, context)
            else:
                rendered = Rendered(self.free_text.title, self.free_text.body)
        else:
            template = self.templates.get((channel, locale)) or self.templates.get(
                (channel, self.default_locale)
            )
            if template is None:
                raise RenderError(f"there is no {channel.label} template for {self.type.label.lower()}")
            subject, body = template
            rendered = Rendered(
                render_template_text(subject, context), render_template_text(body, context)
            )
        return fit_to_channel(channel, rendered, self.clinic)


def recipient_context(
    *, patient_name: str, practitioner_name: str, clinic: str, inbox_url: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables a template sees: the send's data first, then the names it may not override."""
    return {
        **data,
        "patient_name": patient_name,
        "practitioner_name": practitioner_name,
        "clinic": clinic,
        "inbox_url": inbox_url,
    }


RESERVED_DATA_KEYS = frozenset(field.name for field in RECIPIENT_FIELDS)
