"""A patient's delivery preferences."""

from __future__ import annotations

from wtforms import TimeField
from wtforms.validators import Optional

from app.forms.channel_grid import ChannelGridForm


class PreferencesForm(ChannelGridForm):
    quiet_start = TimeField("Quiet from", validators=[Optional()])
    quiet_end = TimeField("Quiet until", validators=[Optional()])
