"""The channel grid: a patient's preferences and the clinic's defaults, one box per type x channel."""

from __future__ import annotations

from collections.abc import Mapping, Set

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field

from app.services.channel_choice import CHOOSABLE, CHOOSABLE_TYPES
from app.vocabulary import Channel, NotificationType


def _box_name(kind: NotificationType, channel: Channel) -> str:
    return f"{kind.value}-{channel.value}"


class ChannelGridForm(FlaskForm):
    """One box per notification type x channel (besides the inbox, always on)."""

    grid_channels = CHOOSABLE

    def box(self, kind: NotificationType, channel: Channel) -> Field:
        return self[_box_name(kind, channel)]

    def grid_rows(self) -> list[tuple[NotificationType, list[Field]]]:
        """Each type with its boxes in the order of `grid_channels`, for the page's table."""
        return [(kind, [self.box(kind, c) for c in CHOOSABLE]) for kind in CHOOSABLE_TYPES]

    def grid(self) -> dict[str, list[str]]:
        """The boxes as a type -> channels mapping, every choosable type present."""
        return {kind.value: [c.value for c in CHOOSABLE if self.box(kind, c).data] for kind in CHOOSABLE_TYPES}

    def fill_grid(self, channels: Mapping[NotificationType, Set[Channel]]) -> None:
        for kind in CHOOSABLE_TYPES:
            for channel in CHOOSABLE:
                self.box(kind, channel).data = channel in channels[kind]


for _kind in CHOOSABLE_TYPES:
    for _channel in CHOOSABLE:
        label = lazy_gettext("%(kind)s by %(channel)s", kind=lazy_gettext(_kind.label),
                             channel=lazy_gettext(_channel.noun))
        setattr(ChannelGridForm, _box_name(_kind, _channel), BooleanField(label))
