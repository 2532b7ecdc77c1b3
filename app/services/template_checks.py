"""What a template must be before it is saved, so a broken one is refused by the admin's save
and never found out by a send.

Each part (subject, body) is checked in order and its first problem named, with its line where
the problem has one: it must be written and not too long, compile in the sandbox sends render
in (Jinja's own parser), use only the variables its type provides (Jinja's `meta`), render with
sample values, and, for SMS, have fixed text that fits the clinic's segment limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import TemplateSyntaxError, meta, nodes

from app.services.rendering import RenderError, parse_template_text, render_template_text
from app.services.sms_text import sms_cost
from app.services.template_fields import RECIPIENT_FIELDS, DataField, fields_for
from app.vocabulary import Channel, NotificationType

SUBJECT_MAX = 200
BODY_MAX = 4000


def has_subject(channel: Channel) -> bool:
    """SMS has no subject: the email's subject, and the title of a push or inbox item, do."""
    return channel is not Channel.SMS


def subject_label(channel: Channel) -> str:
    return "Subject" if channel is Channel.EMAIL else "Title"


def variables_for(type_: NotificationType) -> tuple[DataField, ...]:
    """Every variable a template of `type_` may use: the recipient's and clinic's, then the type's data."""
    return RECIPIENT_FIELDS + fields_for(type_.value)


def sample_values(type_: NotificationType, context: Mapping[str, str]) -> dict[str, str]:
    """Each variable's sample value (`context` gives the clinic's own, such as its name)."""
    return {field.name: context.get(field.name) or field.sample or f"[{field.label}]" for field in variables_for(type_)}


def template_problems(
    type_: NotificationType,
    channel: Channel,
    *,
    subject: str,
    body: str,
    samples: Mapping[str, str],
    sms_segment_limit: int,
) -> dict[str, str]:
    """The first problem of each part that has one, keyed "subject" or "body"; empty when it may be saved.

    Args:
        samples: a value for every variable (see `sample_values`); the template must render with them.
        sms_segment_limit: the clinic's limit; an SMS whose fixed text alone costs more is refused.
    """
    problems = {}
    if has_subject(channel):
        problem = _text_problem(type_, subject, samples, what=subject_label(channel).lower(), limit=SUBJECT_MAX)
        if problem:
            problems["subject"] = problem
    problem = _text_problem(type_, body, samples, what="text", limit=BODY_MAX)
    if problem is None and channel is Channel.SMS:
        problem = _sms_problem(type_, body, sms_segment_limit)
    if problem:
        problems["body"] = problem
    return problems


def _text_problem(
    type_: NotificationType, source: str, samples: Mapping[str, str], *, what: str, limit: int
) -> str | None:
    if not source.strip():
        return f"Write the {what}"
    if len(source) > limit:
        return f"The {what} is {len(source):,} characters long; at most {limit:,} are allowed"
    try:
        tree = parse_template_text(source)
    except TemplateSyntaxError as exc:
        return f"Line {exc.lineno}: {exc.message}"
    allowed = {field.name for field in variables_for(type_)}
    unknown = meta.find_undeclared_variables(tree) - allowed
    if unknown:
        found = "; ".join(f"Line {line}: “{name}” is not a variable of {type_.label.lower()} templates"
                          for line, name in sorted((_first_line(tree, name), name) for name in unknown))
        return f"{found}. Use one of {', '.join(sorted(allowed))}"
    try:
        render_template_text(source, samples)
    except RenderError as exc:
        return f"It cannot be rendered with sample values: {exc}"
    return None


def _first_line(tree: nodes.Template, name: str) -> int:
    return min(node.lineno for node in tree.find_all(nodes.Name) if node.name == name)


def _sms_problem(type_: NotificationType, body: str, limit: int) -> str | None:
    """The SMS's fixed text (every variable empty, optional data left out) against the limit.

    Values only ever lengthen a message, or switch it to the costlier UCS-2, so a text that
    does not fit with them empty never fits.
    """
    shortest = _shortest_rendering(type_, body)
    if shortest is None:
        return None
    cost = sms_cost(shortest)
    if cost.segments <= limit:
        return None
    return (f"The SMS's fixed text alone is {cost.units:,} characters in {cost.encoding}: {cost.segments} "
            f"segments, over the clinic's limit of {limit} (set in Settings); shorten it")


def _shortest_rendering(type_: NotificationType, body: str) -> str | None:
    variables = variables_for(type_)
    every_value_empty = {field.name: "" for field in variables}
    optional_left_out = {field.name: "" for field in variables if field.required}
    texts = []
    for context in (every_value_empty, optional_left_out):
        try:
            texts.append(render_template_text(body, context))
        except RenderError:
            continue
    return min(texts, key=len, default=None)
