"""The JSON API's own requests and answers, beside the send request it shares with the forms.

The routes read their input with these models and answer with them, and the OpenAPI document
is generated from the same models, so the document cannot drift from what the API does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.models.status import Status
from app.schemas.fields import moment
from app.services.input_rules import DAY_OUT_OF_RANGE, MAX_ID, plausible_day
from app.vocabulary import Channel, NotificationType, Priority

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- requests ------------------------------------------------------------------------------


class RescheduleRequest(_Request):
    """When a message should go instead: a moment with its offset, or null (or absent) for now."""

    scheduled_at: Annotated[datetime | None, BeforeValidator(moment)] = None


class NotificationQuery(_Request):
    """Filters of the notification list, newest first; `cursor` is the `next_cursor` of the
    page before, as it was given."""

    status: Status | None = None
    type: NotificationType | None = None
    channel: Channel | None = None
    patient: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    since: Annotated[datetime | None, BeforeValidator(moment)] = None
    cursor: Annotated[str | None, Field(max_length=100)] = None
    limit: Annotated[int, Field(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT


def _plausible(day: date | None) -> date | None:
    if day is not None and not plausible_day(day):
        raise ValueError(DAY_OUT_OF_RANGE)
    return day


class StatsQuery(_Request):
    """Days of the delivery stats, in UTC: by default the last two weeks."""

    date_from: Annotated[date | None, AfterValidator(_plausible)] = Field(default=None, alias="from")
    date_to: Annotated[date | None, AfterValidator(_plausible)] = Field(default=None, alias="to")


# --- answers -------------------------------------------------------------------------------


class ChannelOutcome(_Answer):
    """One notification a send made: a channel to a patient, and where it stands."""

    notification_id: str
    channel: Channel
    status: Status
    reason: str | None = Field(description="Why a channel was suppressed (an opt-out, no address, ...)")


class RecipientOutcome(_Answer):
    patient_id: int
    channels: list[ChannelOutcome]


class SendAnswer(_Answer):
    send_id: str
    created: bool = Field(description="False when an earlier request with the same key is answered again")
    scheduled_at: datetime | None
    recipients: list[RecipientOutcome]


class NotificationOut(_Answer):
    id: str
    send_id: str
    patient_id: int
    type: NotificationType
    channel: Channel
    priority: Priority
    status: Status
    status_reason: str | None
    title: str
    attempts: int
    scheduled_at: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    cancelled_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NotificationPage(_Answer):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description="Give it as `cursor` for the next page; null on the last")


class ChannelState(_Answer):
    channel: Channel
    status: Status


class ChangeAnswer(_Answer):
    """What a cancel or reschedule did to the message the notification belongs to."""

    changed: list[Channel]
    untouched: list[ChannelState]
    scheduled_at: datetime | None
    message: str


class ChannelTotals(_Answer):
    channel: Channel | None = Field(description="null: every channel together")
    sent: int
    delivered: int
    failed: int
    failure_rate: float | None = Field(description="Percent of notifications that reached an outcome")


class FailureReasonOut(_Answer):
    reason: str
    count: int


class QueueOut(_Answer):
    name: str
    queued: int
    scheduled: int
    started: int
    failed: int


class StatsAnswer(_Answer):
    date_from: date
    date_to: date
    channels: list[ChannelTotals]
    overall: ChannelTotals
    failure_reasons: list[FailureReasonOut]
    queues: list[QueueOut]
    workers: int


class FieldError(_Answer):
    field: str
    message: str


class Problem(_Answer):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
