"""The queues page: sizes, workers, failed jobs, and retrying them."""

import sqlalchemy as sa
from rq import Queue

from app.clock import utcnow
from app.extensions import db
from app.models import Notification
from app.models.status import Status
from app.services.enqueueing import DELIVER_FUNC
from app.tasks.worker import build_worker
from tests import factories
from tests.conftest import csrf_token_from, queued_job_ids


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


def post(client, path: str):
    token = csrf_token_from(client.get("/admin/queues").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


def test_the_page_shows_each_queues_sizes(login, admin, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    body = login(admin).get("/admin/queues").get_data(as_text=True)
    assert '<th scope="row">default</th>\n            <td class="num">1</td>' in body
    assert "No failed jobs." in body


def test_failed_jobs_are_listed_with_their_exception_and_a_retry_button(login, admin, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    body = login(admin).get("/admin/queues").get_data(as_text=True)
    assert f"<code>{job.id}</code>" in body
    assert "TypeError: deliver_notifications takes a list of notification ids" in body
    assert f'action="/admin/queues/failed/{job.id}/retry"' in body and "not an id" not in body


def test_retrying_a_failed_job_puts_it_back_and_a_worker_delivers_it(app, login, admin, redis, run_worker,
                                                                       practitioner, patient):
    job_id = failed_delivery_job(app, redis, practitioner, patient)
    client = login(admin)
    response = post(client, f"/admin/queues/failed/{job_id}/retry")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/queues"
    assert queued_job_ids(redis)["default"] == [job_id]
    assert "is back on the default queue" in client.get("/admin/queues").get_data(as_text=True)
    run_worker()
    assert db.session.scalar(sa.select(Notification.status)) is Status.DELIVERED


def test_a_retried_job_that_fails_again_is_run_and_listed_again(login, admin, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    post(login(admin), f"/admin/queues/failed/{job.id}/retry")
    run_worker()
    assert queued_job_ids(redis)["default"] == []
    assert len(job.results()) == 2


def test_retry_all_puts_every_failed_job_back(login, admin, redis, run_worker):
    jobs = [broken_job(redis, "high"), broken_job(redis, "low")]
    run_worker()
    client = login(admin)
    post(client, "/admin/queues/failed/retry-all")
    ids = queued_job_ids(redis)
    assert (ids["high"], ids["low"]) == ([jobs[0].id], [jobs[1].id])
    assert "2 failed job(s) put back on their queues." in client.get("/admin/queues").get_data(as_text=True)


def test_retrying_an_unknown_job_is_a_404(login, admin):
    response = post(login(admin), "/admin/queues/failed/deliver-gone/retry")
    assert response.status_code == 404 and "no longer in the failed list" in response.get_data(as_text=True)


def test_running_workers_are_listed(app, login, admin):
    worker = build_worker(app)
    worker.register_birth()
    try:
        body = login(admin).get("/admin/queues").get_data(as_text=True)
    finally:
        worker.register_death()
    assert f"<code>{worker.name}</code>" in body and "high, default, low" in body


def test_the_summary_refreshes_itself_as_a_fragment(login, admin):
    client = login(admin)
    assert 'hx-trigger="every 5s"' in client.get("/admin/queues").get_data(as_text=True)
    fragment = client.get("/admin/queues", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="queue-summary"') and "Failed jobs" not in fragment


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


def test_the_refreshing_summary_reads_no_failed_job_but_the_page_does(login, admin, redis, run_worker):
    job = broken_job(redis)
    run_worker()
    client = login(admin)
    summary = job_reads(redis, lambda: client.get("/admin/queues", headers={"HX-Request": "true"}))
    page = job_reads(redis, lambda: client.get("/admin/queues"))
    assert [c for c in summary if job.id in c] == []
    assert [c for c in page if job.id in c], "the page lists the failed job, so it must read it"
