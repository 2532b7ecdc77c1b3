"""Template filters: how times read on the page."""

from datetime import UTC, datetime

import pytest

from app.views import filters

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 17:30 in Kolkata, the default zone


@pytest.mark.parametrize("moment, shown", [
    (datetime(2026, 12, 1, 10, 12, 30, tzinfo=UTC), "Today, 15:42"),
    (datetime(2026, 11, 30, 18, 30, tzinfo=UTC), "Today, 00:00"),  # already the 1st in Kolkata
    (datetime(2026, 11, 30, 10, 12, tzinfo=UTC), "Yesterday, 15:42"),
    (datetime(2026, 3, 1, 3, 35, tzinfo=UTC), "1 Mar, 09:05"),
    (datetime(2025, 12, 1, 10, 12, tzinfo=UTC), "1 Dec 2025, 15:42"),
])
def test_a_short_time_says_the_day_in_words_and_the_time_to_the_minute(app, monkeypatch, moment, shown):
    monkeypatch.setattr(filters, "utcnow", lambda: NOW)
    with app.test_request_context():
        assert filters.short_time(moment) == shown
