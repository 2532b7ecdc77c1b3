"""The templates a new clinic starts with."""

import pytest

from app.services.default_templates import DEFAULT_TEMPLATES
from app.services.rendering import render_template_text
from app.services.template_fields import fields_for
from app.vocabulary import Channel, NotificationType


@pytest.mark.parametrize("locale", ["en", "hi"])
def test_every_type_has_a_template_for_every_channel_in_english_and_hindi(locale):
    missing = [(t.value, c.value) for t in NotificationType for c in Channel if (t, c, locale) not in DEFAULT_TEMPLATES]
    assert missing == []


@pytest.mark.parametrize(("key", "texts"), list(DEFAULT_TEMPLATES.items()),
                         ids=[f"{t.value}-{c.value}-{locale}" for t, c, locale in DEFAULT_TEMPLATES])
@pytest.mark.parametrize("optional_values", [True, False], ids=["all-values", "required-values-only"])
def test_every_default_template_renders_with_its_types_values(key, texts, optional_values):
    type_, _, _ = key
    values = {f.name: "x" for f in fields_for(type_.value) if f.required or optional_values}
    context = {"patient_name": "Priya", "practitioner_name": "Dr. Ramesh", "clinic": "Sutra",
               "inbox_url": "http://clinic.test/inbox", **values}
    for text in texts:
        assert render_template_text(text, context)
