"""Small rules of the pipeline: quiet hours, backoff, channel choice."""

import random
from datetime import UTC, datetime, time

import pytest

from app.models.user import User
from app.services.channel_choice import SUGGESTED_DEFAULTS, checked_grid, choose_channels, same_for_every_type
from app.services.errors import ValidationError
from app.services.quiet_hours import quiet_hours_end
from app.services.retry_policy import retry_delay
from app.vocabulary import Channel, NotificationType, Role

KOLKATA = "Asia/Kolkata"  # UTC+05:30, no daylight saving


def at_local(hour: int, minute: int = 0) -> datetime:
    utc_minutes = (hour * 60 + minute - 330) % (24 * 60)
    return datetime(2026, 12, 1, utc_minutes // 60, utc_minutes % 60, tzinfo=UTC)


def test_outside_quiet_hours_nothing_is_held():
    assert quiet_hours_end(time(22), time(7), KOLKATA, at_local(12)) is None


def test_quiet_hours_across_midnight_end_next_morning():
    end = quiet_hours_end(time(22), time(7), KOLKATA, at_local(23, 30))
    assert end == datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 07:00 IST


def test_quiet_hours_after_midnight_end_the_same_morning():
    end = quiet_hours_end(time(22), time(7), KOLKATA, at_local(3))
    assert end.astimezone(UTC).hour == 1 and end.astimezone(UTC).minute == 30


def test_quiet_hours_within_a_day():
    assert quiet_hours_end(time(13), time(15), KOLKATA, at_local(14)) is not None
    assert quiet_hours_end(time(13), time(15), KOLKATA, at_local(15)) is None


def test_no_quiet_hours_when_unset_or_empty():
    assert quiet_hours_end(None, None, KOLKATA, at_local(3)) is None
    assert quiet_hours_end(time(7), time(7), KOLKATA, at_local(7)) is None


@pytest.mark.parametrize("attempt,ceiling", [(1, 30), (2, 60), (3, 120), (4, 240)])
def test_backoff_grows_exponentially_with_jitter(attempt, ceiling):
    rng = random.Random(7)
    delays = [retry_delay(attempt, base=30, cap=3600, rng=rng) for _ in range(50)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1


def test_backoff_is_capped():
    assert retry_delay(20, base=30, cap=3600) <= 3600


def test_retry_after_is_a_floor():
    assert retry_delay(1, base=30, cap=3600, retry_after=900) >= 900


def patient(**fields) -> User:
    values = {"role": Role.PATIENT, "name": "P", "email": "p@x.test", "phone": "+919800000000",
              "channel_choices": same_for_every_type(["email"])}
    values.update(fields)
    return User(**values)


def choose(someone: User, requested=None, kind=NotificationType.TREATMENT_UPDATE, **options):
    options = {"has_push_device": False, "clinic_defaults": SUGGESTED_DEFAULTS, **options}
    return choose_channels(someone, kind, requested, **options)


def test_preferences_choose_the_channels_inbox_first():
    choices = choose(patient(channel_choices=same_for_every_type(["sms", "email"])))
    assert [c.channel for c in choices] == [Channel.IN_APP, Channel.SMS, Channel.EMAIL]


def test_unknown_stored_preferences_are_ignored():
    choices = choose(patient(channel_choices={"treatment_update": ["fax"]}))
    assert [c.channel for c in choices] == [Channel.IN_APP]


def test_each_type_follows_the_patients_choice_for_that_type():
    chosen = patient(channel_choices={"medication_reminder": ["sms"], "treatment_update": ["email"]})
    assert [c.channel for c in choose(chosen, kind=NotificationType.MEDICATION_REMINDER)] == [Channel.IN_APP,
                                                                                              Channel.SMS]
    assert [c.channel for c in choose(chosen, kind=NotificationType.TREATMENT_UPDATE)] == [Channel.IN_APP,
                                                                                           Channel.EMAIL]


def test_a_type_the_patient_never_chose_for_follows_the_clinic_default():
    defaults = {**SUGGESTED_DEFAULTS, NotificationType.PROGRESS_UPDATE: frozenset({Channel.SMS})}
    choices = choose(patient(channel_choices={}), kind=NotificationType.PROGRESS_UPDATE, clinic_defaults=defaults)
    assert [c.channel for c in choices] == [Channel.IN_APP, Channel.SMS]


def test_choosing_no_channel_for_a_type_is_a_choice_not_the_default():
    choices = choose(patient(channel_choices={"appointment_reminder": []}), kind=NotificationType.APPOINTMENT_REMINDER)
    assert [c.channel for c in choices] == [Channel.IN_APP]


def test_a_health_alert_goes_on_every_channel_whatever_was_chosen():
    choices = choose(patient(channel_choices=same_for_every_type([])), kind=NotificationType.HEALTH_ALERT,
                     has_push_device=True)
    assert [(c.channel, c.deliverable) for c in choices] == [(channel, True) for channel in
                                                             (Channel.IN_APP, Channel.SMS, Channel.EMAIL, Channel.PUSH)]


def test_explicit_channels_keep_their_order_once_each():
    choices = choose(patient(), [Channel.EMAIL, Channel.IN_APP, Channel.EMAIL])
    assert [c.channel for c in choices] == [Channel.EMAIL, Channel.IN_APP]


def test_an_explicit_channel_turned_off_for_the_type_is_a_reason():
    [choice] = choose(patient(), [Channel.SMS])
    assert choice.suppressed_reason == "turned off in the patient's preferences"


def test_an_email_opt_out_is_a_reason():
    [choice] = choose(patient(email_opted_out_at=datetime.now(UTC)), [Channel.EMAIL])
    assert choice.suppressed_reason == "opted out of email"


@pytest.mark.parametrize("grid", [{"fax_reminder": ["sms"]}, {"health_alert": ["sms"]},
                                  {"treatment_update": ["pigeon"]}, {"treatment_update": ["in_app"]}])
def test_a_grid_with_an_unknown_type_or_channel_is_refused(grid):
    with pytest.raises(ValidationError) as refused:
        checked_grid(grid)
    assert refused.value.errors["channels"].startswith("Choose ")
