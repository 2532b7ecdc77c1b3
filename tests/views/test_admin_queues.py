"""The queues page: sizes, workers, failed jobs, and retrying them."""

import pytest
import sqlalchemy as sa
from rq import Queue

from app.clock import utcnow
from app.extensions import db
from app.models import Notification
from app.models.status import Status
from app.services.enqueueing import DELIVER_FUNC
from app.tasks.worker import build_worker
from tests import factories
from tests.conftest import queued_job_ids
from tests.pages import one, text, texts


def broken_job(redis, queue: str = "default"):
    """A job whose function raises when a worker runs it."""
    return Queue(queue, connection=redis).enqueue(DELIVER_FUNC, ["not an id"])


def failed_delivery_job(app, redis, practitioner, patient) -> str:
    """A real delivery job for a queued notification, failed the way a worker fails a job that
    raised (say, the database was unreachable), so its notification is still waiting."""
    factories.create_send(sender=practitioner, recipients=[patient])
    queue = Queue("default", connection=redis)
    job = queue.fetch_job(queue.get_job_ids()[0])
    queue.remove(job)
    job.ended_at = utcnow()
    build_worker(app).handle_job_failure(job, queue, exc_string="Traceback (most recent call last):\n"
                                         "psycopg.OperationalError: connection refused\n")
    return job.id


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def press(admin_pages, path: str, expected_status: int = 302):
    """Press the button posting to `path` on the queues page."""
    admin_pages.get("/admin/queues")
    return admin_pages.post(path, expected_status=expected_status)


def queue_sizes(page) -> dict[str, list[str]]:
    """Queue name -> [queued, scheduled, running, failed]."""
    rows = page.select('section[aria-labelledby="queues-heading"] tbody tr')
    return {text(row.th): texts(row, "td") for row in rows}


def test_the_page_shows_each_queues_sizes(admin_pages, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    page = admin_pages.get("/admin/queues")
    assert queue_sizes(page) == {"high": ["0", "0", "0", "0"], "default": ["1", "0", "0", "0"],
                                 "low": ["0", "0", "0", "0"]}
    assert text(one(page, 'section[aria-labelledby="failed-heading"] .empty')) == "No failed jobs."


def test_failed_jobs_are_listed_with_their_exception_and_a_retry_button(admin_pages, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    page = admin_pages.get("/admin/queues")
    [row] = page.select('section[aria-labelledby="failed-heading"] tbody tr')
    assert text(row.code) == job.id
    assert text(one(row, ".error-text")) == "TypeError: deliver_notifications takes a list of notification ids"
    assert one(row, "form")["action"] == f"/admin/queues/failed/{job.id}/retry"
    assert "not an id" not in text(page)


def test_retrying_a_failed_job_puts_it_back_and_a_worker_delivers_it(app, admin_pages, redis, run_worker,
                                                                       practitioner, patient):
    job_id = failed_delivery_job(app, redis, practitioner, patient)
    admin_pages.get("/admin/queues")
    admin_pages.post(f"/admin/queues/failed/{job_id}/retry", expected_redirect="/admin/queues")
    assert queued_job_ids(redis)["default"] == [job_id]
    [flash] = texts(admin_pages.get("/admin/queues"), ".flash")
    assert flash.endswith("is back on the default queue.")
    run_worker()
    assert db.session.scalar(sa.select(Notification.status)) is Status.DELIVERED


def test_a_retried_job_that_fails_again_is_run_and_listed_again(admin_pages, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    press(admin_pages, f"/admin/queues/failed/{job.id}/retry")
    run_worker()
    assert queued_job_ids(redis)["default"] == []
    assert len(job.results()) == 2


def test_retry_all_puts_every_failed_job_back(admin_pages, redis, run_worker):
    jobs = [broken_job(redis, "high"), broken_job(redis, "low")]
    run_worker()
    press(admin_pages, "/admin/queues/failed/retry-all")
    ids = queued_job_ids(redis)
    assert (ids["high"], ids["low"]) == ([jobs[0].id], [jobs[1].id])
    assert texts(admin_pages.get("/admin/queues"), ".flash") == ["2 failed job(s) put back on their queues."]


def test_retrying_an_unknown_job_is_a_404(admin_pages):
    page = press(admin_pages, "/admin/queues/failed/deliver-gone/retry", expected_status=404)
    assert "no longer in the failed list" in text(page.main)


def test_running_workers_are_listed(app, admin_pages):
    worker = build_worker(app)
    worker.register_birth()
    try:
        page = admin_pages.get("/admin/queues")
    finally:
        worker.register_death()
    [row] = page.select('section[aria-labelledby="workers-heading"] tbody tr')
    assert text(row.th) == worker.name and texts(row, "td")[1] == "high, default, low"


def test_the_summary_refreshes_itself_as_a_fragment(admin_pages):
    assert one(admin_pages.get("/admin/queues"), "#queue-summary")["hx-trigger"] == "every 5s"
    fragment = admin_pages.get("/admin/queues", htmx=True)
    assert [tag["id"] for tag in fragment.find_all(recursive=False)] == ["queue-summary"]
    assert fragment.select("#failed-heading") == []


def job_reads(redis, action) -> list[str]:
    """The commands the Redis server ran on this test's database while `action` ran that touched
    a job's own hash (rq:job:<id>), as MONITOR reported them."""
    db_number = redis.connection_pool.connection_kwargs.get("db", 0)
    marker = f"end-of-action-{utcnow().timestamp()}"
    seen: list[str] = []
    with redis.monitor() as monitor:
        action()
        redis.echo(marker)
        while True:
            command = monitor.next_command()
            if marker in command["command"]:
                break
            if command["db"] == db_number and "rq:job:" in command["command"]:
                seen.append(command["command"])
    return seen


def test_the_refreshing_summary_reads_no_failed_job_but_the_page_does(admin_pages, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    client = admin_pages.client
    summary = job_reads(redis, lambda: client.get("/admin/queues", headers={"HX-Request": "true"}))
    page = job_reads(redis, lambda: client.get("/admin/queues"))
    assert [c for c in summary if job.id in c] == []
    assert [c for c in page if job.id in c], "the page lists the failed job, so it must read it"
