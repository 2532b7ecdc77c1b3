"""The worker: every queue the product enqueues to is one it listens to."""

from datetime import UTC, datetime, timedelta

from rq import Queue

from app.services.queues import ALL_QUEUES, QUEUE_FOR_PRIORITY
from app.tasks.worker import AppWorker, build_worker
from app.vocabulary import Priority
from tests import factories


def test_every_priority_maps_to_a_queue_the_worker_listens_to(app):
    listening = set(build_worker(app).queue_names())
    assert set(QUEUE_FOR_PRIORITY) == set(Priority)
    assert set(QUEUE_FOR_PRIORITY.values()) <= listening


def test_the_worker_listens_to_every_queue_sends_actually_used(app, redis, practitioner):
    patients = factories.create_patients(2, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients[:1])
    factories.create_send(sender=practitioner, recipients=patients[:1], type="health_alert")
    factories.create_send(sender=practitioner, recipients=patients)
    factories.create_send(sender=practitioner, recipients=patients[:1], priority="low",
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    used = {q.name for q in Queue.all(connection=redis)}
    assert used == {"high", "default", "low"}
    assert used <= set(build_worker(app).queue_names())


def test_queues_are_taken_most_urgent_first(app):
    assert build_worker(app).queue_names() == list(ALL_QUEUES) == ["high", "default", "low"]


def test_jobs_run_in_the_worker_process_without_forking(app):
    from rq import SimpleWorker

    assert issubclass(AppWorker, SimpleWorker)
