"""A patient's delivery preferences."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import TimeField
from wtforms.validators import Optional

from app.forms.channel_grid import ChannelGridForm


class PreferencesForm(ChannelGridForm):
    quiet_start = TimeField(lazy_gettext("Quiet from"), validators=[Optional()])
    quiet_end = TimeField(lazy_gettext("Quiet until"), validators=[Optional()])
