"""Words the clinic-record pages share about reminders a change could not stop."""

from __future__ import annotations

from typing import Protocol


class ReminderChange(Protocol):
    """A change to an appointment or a medication course, as its service reports it."""

    @property
    def reminders_already_sent(self) -> int: ...


def already_on_their_way(change: ReminderChange) -> str:
    """The end of a flash after moving, cancelling or stopping something whose reminders a worker
    had already claimed: the practitioner must know the patient may still get them."""
    if not change.reminders_already_sent:
        return ""
    return f" {change.reminders_already_sent} reminder(s) were already on their way and could not be stopped."
