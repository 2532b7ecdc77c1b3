"""A patient's delivery preferences."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.preferences import CHOOSABLE


class ChannelBoxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PreferencesForm(FlaskForm):
    channels = ChannelBoxes("Also send to me by", choices=[SelectChoice(c.value, c.label) for c in CHOOSABLE],
                            validate_choice=False)
    quiet_start = TimeField("Quiet from", validators=[Optional()])
    quiet_end = TimeField("Quiet until", validators=[Optional()])
