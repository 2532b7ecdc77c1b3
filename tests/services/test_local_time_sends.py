"""A group send at a wall-clock time in each patient's own zone ("08:00 where they live")."""

from datetime import UTC, datetime

import pytest

from app.models.status import Status
from app.services.errors import ValidationError
from tests import factories

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def kolkata_and_new_york(practitioner):
    return (factories.create_patient(practitioner=practitioner, name="Priya", timezone="Asia/Kolkata"),
            factories.create_patient(practitioner=practitioner, name="Arjun", timezone="America/New_York"))


def send_at(practitioner, patients, local: str, now=NOW):
    return factories.create_send(sender=practitioner, recipients=patients, at_local_time=local, now=now)


def refusal(practitioner, patients, local: str, now=NOW) -> str:
    with pytest.raises(ValidationError) as caught:
        send_at(practitioner, patients, local, now)
    assert factories.notifications() == []
    return caught.value.errors["at_local_time"]


def test_each_patient_gets_it_at_that_time_in_their_own_zone(practitioner, kolkata_and_new_york):
    priya, arjun = kolkata_and_new_york
    send_at(practitioner, [priya, arjun], "2026-12-03T08:00")
    when = {n.user_id: n.scheduled_at for n in factories.notifications()}
    assert when[priya.id] == datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
    assert when[arjun.id] == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert {n.status for n in factories.notifications()} == {Status.SCHEDULED}


def test_a_time_the_clocks_skip_for_a_patient_is_refused_naming_them(practitioner, kolkata_and_new_york):
    message = refusal(practitioner, list(kolkata_and_new_york), "2027-03-14T02:30")
    assert message == ("14 Mar 2027, 02:30 does not exist in America/New_York (the clocks go forward over it) "
                       "(for Arjun)")


def test_a_time_that_happens_twice_for_a_patient_is_refused_naming_them(practitioner, kolkata_and_new_york):
    message = refusal(practitioner, list(kolkata_and_new_york), "2026-11-01T01:30",
                      now=datetime(2026, 10, 1, tzinfo=UTC))
    assert "happens twice in America/New_York" in message and "Arjun" in message


def test_a_time_already_past_for_some_patients_is_refused_naming_them(practitioner, kolkata_and_new_york):
    # 10:00 on 2 December has passed in Kolkata (it is 11:30 there) but not in New York (01:00).
    message = refusal(practitioner, list(kolkata_and_new_york), "2026-12-02T10:00")
    assert message == "02 Dec 2026, 10:00 has passed in Asia/Kolkata (for Priya)"


def test_a_local_time_with_an_offset_is_refused(practitioner, kolkata_and_new_york):
    with pytest.raises(ValidationError) as caught:
        send_at(practitioner, list(kolkata_and_new_york), "2026-12-03T08:00+05:30")
    assert "without a zone" in caught.value.errors["at_local_time"]


def test_an_instant_and_a_local_time_together_are_refused(practitioner, patient):
    with pytest.raises(ValidationError) as caught:
        factories.create_send(sender=practitioner, recipients=[patient], at_local_time="2026-12-03T08:00",
                              scheduled_at="2026-12-03T08:00:00+05:30", now=NOW)
    assert caught.value.errors == {"at_local_time": "Give one time: an instant, or a local time for each patient"}
