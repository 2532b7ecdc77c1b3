"""The legal status changes, as a specification."""

import pytest

from app.models.status import AFTER_AMBIGUOUS, PENDING, TRANSITIONS, Status, can_transition, sources_of


def test_every_status_has_a_transition_entry():
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.QUEUED])
def test_pending_work_can_be_claimed_cancelled_or_rescheduled(status):
    assert can_transition(status, Status.SENDING)
    assert can_transition(status, Status.CANCELLED)
    assert can_transition(status, Status.SCHEDULED)


def test_claimed_work_can_no_longer_be_cancelled():
    assert not can_transition(Status.SENDING, Status.CANCELLED)


@pytest.mark.parametrize("outcome", [Status.SENT, Status.QUEUED, Status.FAILED, Status.SCHEDULED, Status.SUPPRESSED])
def test_an_attempt_ends_sent_retried_failed_deferred_or_suppressed(outcome):
    assert can_transition(Status.SENDING, outcome)


def test_sent_moves_on_by_provider_report_or_reading():
    assert TRANSITIONS[Status.SENT] == {Status.DELIVERED, Status.READ, Status.FAILED}


def test_delivered_can_only_be_read():
    assert TRANSITIONS[Status.DELIVERED] == {Status.READ}


@pytest.mark.parametrize("final", [Status.READ, Status.CANCELLED, Status.SUPPRESSED])
def test_final_statuses_never_change(final):
    assert final.is_final
    assert not TRANSITIONS[final]


def test_a_failed_notification_changes_only_to_delivered_by_a_receipt_for_an_ambiguous_attempt():
    assert Status.FAILED.is_final
    assert TRANSITIONS[Status.FAILED] == {Status.DELIVERED}
    assert (Status.FAILED, Status.DELIVERED) in AFTER_AMBIGUOUS


def test_a_retry_waiting_after_an_ambiguous_attempt_may_end_delivered_by_its_receipt():
    assert (Status.QUEUED, Status.DELIVERED) in AFTER_AMBIGUOUS
    assert {(source, target) for source, targets in TRANSITIONS.items() for target in targets} >= AFTER_AMBIGUOUS


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.QUEUED, Status.SENDING])
def test_work_not_yet_attempted_or_under_way_is_not_final(status):
    assert not status.is_final


def test_nothing_goes_back_to_sending_except_by_a_claim():
    assert sources_of(Status.SENDING) == PENDING


def test_a_read_item_cannot_become_unread():
    assert not can_transition(Status.READ, Status.DELIVERED)
