"""Queue health read from Redis: sizes, workers, failed jobs, and putting failed jobs back."""

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue

from app.services.enqueueing import DELIVER_FUNC
from app.services.errors import NotFound
from app.services.queue_health import (
    exception_headline,
    failed_jobs,
    queue_counts,
    retry_all_failed,
    retry_failed_job,
    workers,
)
from app.services.queues import ALL_QUEUES
from app.tasks.worker import build_worker
from tests import factories
from tests.conftest import queued_job_ids


def broken_job(redis, queue: str = "default", secret: str = "Priya Sharma"):
    """A job whose function raises when a worker runs it (its arguments are not ids)."""
    return Queue(queue, connection=redis).enqueue(DELIVER_FUNC, [secret])


def test_counts_show_queued_jobs_and_notifications_waiting_for_their_time_per_queue(redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "email"],
                          scheduled_at=datetime.now(UTC) + timedelta(hours=2))
    by_name = {c.name: c for c in queue_counts(redis)}
    assert [c.name for c in queue_counts(redis)] == list(ALL_QUEUES)
    assert (by_name["default"].queued, by_name["default"].scheduled, by_name["default"].failed) == (1, 2, 0)
    assert by_name["high"].queued == by_name["low"].queued == 0


def test_a_job_that_raised_is_listed_with_its_exception_headline_and_no_arguments(redis, run_worker):
    job = broken_job(redis)
    run_worker()
    [failed] = failed_jobs(redis)
    assert (failed.id, failed.queue) == (job.id, "default")
    assert failed.exception == "TypeError: deliver_notifications takes a list of notification ids"
    assert failed.description == DELIVER_FUNC  # RQ's default description writes the arguments out
    assert "Priya" not in repr(failed)
    assert failed.ended_at is not None and failed.ended_at.tzinfo is not None
    assert queue_counts(redis)[1].failed == 1


def test_retrying_puts_the_job_back_on_the_queue_it_came_from(redis, run_worker):
    job = broken_job(redis, queue="high")
    run_worker()
    assert retry_failed_job(redis, job.id) == "high"
    assert queued_job_ids(redis)["high"] == [job.id]
    assert failed_jobs(redis) == []


def test_retrying_a_job_that_is_not_failed_is_not_found(redis):
    with pytest.raises(NotFound):
        retry_failed_job(redis, "deliver-unknown")


def test_retry_all_requeues_every_failed_job(redis, run_worker):
    jobs = [broken_job(redis, queue=name) for name in ("high", "low", "low")]
    run_worker()
    assert retry_all_failed(redis) == 3
    ids = queued_job_ids(redis)
    assert (ids["high"], sorted(ids["low"])) == ([jobs[0].id], sorted([jobs[1].id, jobs[2].id]))


def test_registered_workers_are_listed_with_their_queues(app, redis):
    worker = build_worker(app)
    worker.register_birth()
    try:
        [found] = workers(redis)
    finally:
        worker.register_death()
    assert found.name == worker.name and found.queues == list(ALL_QUEUES)
    assert found.current_job_id is None and found.last_heartbeat is not None


def test_the_headline_is_the_exception_line_not_what_follows_it():
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "app/services/delivery.py", line 10, in deliver_batch\n'
        "    db.session.commit()\n"
        "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key\n"
        "DETAIL:  Key (email)=(priya@clinic.test) already exists.\n"
        "[SQL: UPDATE users SET email=%(email)s]\n"
        "[parameters: {'email': 'priya@clinic.test'}]\n"
    )
    assert exception_headline(traceback) == (
        "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key"
    )


def test_the_headline_of_nothing_is_empty():
    assert exception_headline("") == ""
