"""Delivery stats: events counted by kind, per channel, on the viewer's local days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification
from app.models.notification import EventKind
from app.models.status import Status
from app.services.delivery import deliver_batch
from app.services.errors import ValidationError
from app.services.stats import axis_ticks, check_range, chosen_range, default_range, delivery_stats
from app.services.transitions import change_status
from tests import factories

KOLKATA = ZoneInfo("Asia/Kolkata")


def deliver_at(sender, patient, channels, when: datetime) -> None:
    """Create and deliver a send as if both happened at `when`."""
    factories.create_send(sender=sender, recipients=[patient], channels=channels, now=when)
    ids = list(db.session.scalars(sa.select(Notification.id).where(Notification.status == "queued")))
    deliver_batch(ids, now=when)


def counts(report, channel: str, day: date) -> tuple[int, int, int]:
    [series] = [s for s in report.channels if s.channel.value == channel]
    [found] = [d for d in series.days if d.day == day]
    return found.sent, found.delivered, found.failed


def test_events_count_on_the_viewers_local_day(app, practitioner, patient):
    deliver_at(practitioner, patient, ["email"], datetime(2025, 3, 4, 18, 29, tzinfo=UTC))  # 23:59 on the 4th
    deliver_at(practitioner, patient, ["email"], datetime(2025, 3, 4, 18, 30, tzinfo=UTC))  # 00:00 on the 5th
    report = delivery_stats(date(2025, 3, 4), date(2025, 3, 5), KOLKATA)
    assert counts(report, "email", date(2025, 3, 4)) == (1, 0, 0)
    assert counts(report, "email", date(2025, 3, 5)) == (1, 0, 0)


def test_days_follow_daylight_saving_time(app, practitioner, patient):
    # 04:30 UTC on 10 March 2025 is 00:30 that day in New York (EDT); a fixed -5 h would say the 9th.
    deliver_at(practitioner, patient, ["email"], datetime(2025, 3, 10, 4, 30, tzinfo=UTC))
    report = delivery_stats(date(2025, 3, 9), date(2025, 3, 10), ZoneInfo("America/New_York"))
    assert counts(report, "email", date(2025, 3, 10)) == (1, 0, 0)


def test_in_app_items_count_as_delivered_and_never_as_sent(app, practitioner, patient):
    when = datetime(2025, 3, 5, 6, tzinfo=UTC)
    deliver_at(practitioner, patient, ["in_app"], when)
    report = delivery_stats(date(2025, 3, 5), date(2025, 3, 5), KOLKATA)
    assert counts(report, "in_app", date(2025, 3, 5)) == (0, 1, 0)


def test_every_channel_and_day_is_present_even_without_events(app):
    report = delivery_stats(date(2025, 3, 1), date(2025, 3, 3), KOLKATA)
    assert [s.channel.value for s in report.channels] == ["sms", "email", "push", "in_app"]
    assert all([d.day for d in s.days] == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
               for s in report.channels)
    assert report.failure_reasons == []


def test_failures_and_their_reasons_are_counted_but_retries_are_not(app, run_worker, fake_twilio,
                                                                   use_fake, practitioner):
    use_fake(fake_twilio)
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000003{i:02d}",
                                         preferred_channels=["sms"]) for i in range(4)]
    fake_twilio.fail_for(patients[0].phone, "permanent", code=21211)
    fake_twilio.fail_for(patients[1].phone, "permanent", code=21211)
    fake_twilio.fail_for(patients[2].phone, "server_error", times=1)  # retried later, not a failure
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    run_worker()
    today = datetime.now(KOLKATA).date()
    report = delivery_stats(today, today, KOLKATA)
    assert counts(report, "sms", today) == (1, 0, 2)
    [reason] = report.failure_reasons
    assert reason.count == 2 and "21211" in reason.reason


def test_the_default_range_is_the_last_fourteen_days():
    assert default_range(date(2025, 3, 14)) == (date(2025, 3, 1), date(2025, 3, 14))


def test_a_missing_end_is_today_and_a_missing_start_two_weeks_before_the_end():
    today = date(2025, 3, 14)
    assert chosen_range(date(2025, 3, 10), None, today) == (date(2025, 3, 10), today)
    assert chosen_range(None, date(2025, 2, 14), today) == (date(2025, 2, 1), date(2025, 2, 14))


@pytest.mark.parametrize("first,last", [(date(2025, 3, 2), date(2025, 3, 1)),
                                        (date(2024, 1, 1), date(2025, 1, 1))])
def test_backwards_or_overlong_ranges_are_refused(first, last):
    with pytest.raises(ValidationError):
        check_range(first, last)


def test_a_range_of_exactly_366_days_is_allowed():
    check_range(date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=365))


@pytest.mark.parametrize("peak,ticks", [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]),
    (23, [0, 10, 20, 30]), (480, [0, 200, 400, 600]),
])
def test_axis_ticks_are_round_and_reach_the_peak(peak, ticks):
    assert axis_ticks(peak) == ticks


def totals_of(report, channel: str):
    [found] = [t for t in report.totals if t.channel.value == channel]
    return found


def test_the_period_has_totals_and_a_failure_rate_per_channel(app, run_worker, fake_twilio, use_fake,
                                                               practitioner):
    use_fake(fake_twilio)
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000005{i:02d}",
                                         preferred_channels=["sms", "in_app"]) for i in range(4)]
    fake_twilio.fail_for(patients[0].phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms", "in_app"])
    run_worker()
    today = datetime.now(KOLKATA).date()
    report = delivery_stats(today - timedelta(days=6), today, KOLKATA)
    sms = totals_of(report, "sms")
    assert (sms.sent, sms.failed, sms.outcomes, sms.failures, sms.failure_rate) == (3, 1, 4, 1, 25.0)
    assert (totals_of(report, "in_app").delivered, totals_of(report, "in_app").failure_rate) == (4, 0.0)
    assert totals_of(report, "push").failure_rate is None  # nothing went out: no rate, not 0 %
    overall = report.overall  # with the email the refused SMS fell back to
    assert (overall.sent, overall.delivered, overall.failed, overall.outcomes, round(overall.failure_rate, 1)) == (
        4, 4, 1, 9, 11.1)


def test_a_message_sent_then_bounced_is_one_failure_not_one_in_two(app, practitioner, patient):
    deliver_at(practitioner, patient, ["email"], datetime(2025, 3, 5, 6, tzinfo=UTC))
    [row] = db.session.scalars(sa.select(Notification)).all()
    change_status([row.id], Status.FAILED, EventKind.FAILED, detail="bounced",
                  now=datetime(2025, 3, 5, 7, tzinfo=UTC))
    db.session.commit()
    email = totals_of(delivery_stats(date(2025, 3, 5), date(2025, 3, 5), KOLKATA), "email")
    assert (email.sent, email.failed, email.outcomes, email.failure_rate) == (1, 1, 1, 100.0)


def test_the_days_read_newest_first_for_tables(app):
    report = delivery_stats(date(2025, 3, 1), date(2025, 3, 3), KOLKATA)
    assert [d.day for d in report.channels[0].newest_first] == [date(2025, 3, 3), date(2025, 3, 2), date(2025, 3, 1)]
