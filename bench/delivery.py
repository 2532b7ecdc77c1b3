"""Delivery throughput, end to end, beside the naive design measured in the same run.

    .venv/bin/python bench/delivery.py [--patients N] [--naive S] [--ceiling M] [--workers K]

One practitioner sends one free-text SMS to all N of their patients (`create_send`, the same
call the compose page makes); the clock runs from that call until every row is final, with the
real delivery worker (`build_worker(app)`) sending to the fake Twilio server. Beside it:

- naive: a sample of the same kind of notifications, one RQ job each, run by RQ's forking
  Worker with a fresh twilio Client per message (bench/naive.py);
- provider ceiling: one thread, one keep-alive twilio Client, no database, no queue.

The fake provider servers run in a process of their own (bench/fake_process.py), as a real
provider's CPU would not be ours. Everything the run creates (scratch database, Redis, fake
servers, worker processes, temporary files) is removed at exit. Exit status 1 means a
notification was lost, duplicated or not sent; see bench/README.md for reading the output.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from redis import Redis  # noqa: E402

from bench.fake_process import FakeProviders  # noqa: E402
from tests.faults.servers import spawn_worker  # noqa: E402

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # the app's own format
PENDING = ("scheduled", "queued", "sending")
SCRATCH_DATABASE = "sutra_bench"
DEFAULT_BENCH_REDIS_DB = 15


class BenchFailure(Exception):
    """A notification was lost, duplicated or not sent: the figures mean nothing."""


@dataclass
class Phase:
    label: str
    count: int
    create_s: float | None
    deliver_s: float
    cpu_ms: float | None = None  # client CPU per notification (all threads, and forked children)
    note: str = ""

    @property
    def total_s(self) -> float:
        return (self.create_s or 0.0) + self.deliver_s

    @property
    def rate(self) -> float:
        return self.count / self.total_s if self.total_s else 0.0

    @property
    def deliver_rate(self) -> float:
        return self.count / self.deliver_s if self.deliver_s else 0.0


@dataclass
class Run:
    args: argparse.Namespace
    tmp: Path
    log_file: Path
    description: list[str] = field(default_factory=list)
    worker_logs: list[Path] = field(default_factory=list)


# --- set-up -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=2000, help="N: patients in the group send")
    parser.add_argument(
        "--naive",
        type=int,
        default=200,
        help="notifications the naive baseline delivers (a sample; 0 skips it)",
    )
    parser.add_argument(
        "--ceiling", type=int, default=1000, help="messages for the provider ceiling (0 skips it)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="0: run the worker in this process (burst); K>0: K `python worker.py` processes",
    )
    parser.add_argument(
        "--email",
        action="store_true",
        help="also send email (fake SendGrid): 2N notifications instead of N",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="DELIVERY_BATCH_SIZE (default: the app's)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="DELIVERY_CONCURRENCY (default: the app's)"
    )
    parser.add_argument(
        "--provider-timeout", type=float, default=5.0, help="PROVIDER_TIMEOUT_SECONDS"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="log level for the app, RQ and the SDKs (INFO is what worker.py runs with); "
        "records go to a temporary file, not the terminal",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="give up waiting for a phase after this many seconds",
    )
    args = parser.parse_args(argv)
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    if args.naive < 0 or args.ceiling < 0 or args.workers < 0:
        parser.error("sizes cannot be negative")
    if args.naive > args.patients:
        parser.error("--naive cannot exceed --patients")
    return args


@contextlib.contextmanager
def scratch_database(tmp: Path, description: list[str]):
    """A temporary SQLite file, or the scratch database `sutra_bench` on DATABASE_URL's server."""
    base = os.environ.get("DATABASE_URL", "").strip()
    if not base:
        description.append("SQLite (temporary file)")
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    if not base.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        raise SystemExit(
            "DATABASE_URL must be a PostgreSQL URL (unset it for a temporary SQLite file)"
        )
    from sqlalchemy.engine import make_url

    url = make_url(base.replace("postgres://", "postgresql://", 1)).set(
        drivername="postgresql+psycopg"
    )
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{SCRATCH_DATABASE}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{SCRATCH_DATABASE}"'))
        description.append(
            f"PostgreSQL (scratch database {SCRATCH_DATABASE} on {url.host}:{url.port or 5432})"
        )
        yield url.set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{SCRATCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def bench_redis(tmp: Path, db_index: int, description: list[str]) -> Iterator[str]:
    """An embedded redis-server, or logical database `db_index` of REDIS_URL's server.

    The database from REDIS_URL's path is ignored on purpose: `redis://host:6379/0` is often a
    server's working database, and this run empties the one it uses when it ends.
    """
    base = os.environ.get("REDIS_URL", "").strip()
    if not base:
        from app.embedded_redis import EmbeddedRedis

        server = EmbeddedRedis.start(tmp / "redis")
        description.append("embedded Redis")
        try:
            yield server.url
        finally:
            server.stop()
        return
    parts = urlsplit(base)
    if parts.scheme == "unix":  # unix:///path/redis.sock?db=N
        parts = parts._replace(query=urlencode({**dict(parse_qsl(parts.query)), "db": db_index}))
    else:
        parts = parts._replace(path=f"/{db_index}")
    url = parts.geturl()
    client = Redis.from_url(url)
    try:
        if client.dbsize():
            raise SystemExit(
                f"Redis database {url} is not empty; choose an empty one with --redis-db"
            )
    except BaseException:
        client.close()
        raise
    description.append(f"Redis {url}")
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            client.flushdb()  # only what this run wrote: the database was empty at start
        client.close()


def app_settings(
    args: argparse.Namespace, database_url: str, redis_url: str, fakes: FakeProviders
) -> dict:
    settings: dict[str, Any] = {
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "http://localhost",
        "SMS_PROVIDER": "console",
        "EMAIL_PROVIDER": "console",
        "PUSH_PROVIDER": "console",
        **fakes.settings,
        "PROVIDER_TIMEOUT_SECONDS": args.provider_timeout,
        "SMS_PUSH_BODIES": "full",
        "MAX_RECIPIENTS": max(10000, args.patients),
    }
    if args.batch_size is not None:
        settings["DELIVERY_BATCH_SIZE"] = args.batch_size
    if args.concurrency is not None:
        settings["DELIVERY_CONCURRENCY"] = args.concurrency
    return settings


def create_people(n: int, with_email: bool) -> tuple[int, list[int], list[str]]:
    """One practitioner and `n` patients with phones who prefer SMS: (its id, their ids, phones)."""
    from app.clock import utcnow
    from app.extensions import db
    from app.models.user import User
    from app.services.channel_choice import same_for_every_type
    from app.vocabulary import Role
    from tests import factories

    practitioner = factories.create_practitioner(
        name="Dr. Bench", email="bench.practitioner@clinic.test"
    )
    channels = ["in_app", "sms", *(["email"] if with_email else [])]
    phones = [f"+9190{i:08d}" for i in range(n)]
    now = utcnow()
    rows = [
        {
            "role": Role.PATIENT,
            "name": f"Patient {i}",
            "email": f"patient{i}@clinic.test",
            "phone": phones[i],
            "timezone": "Asia/Kolkata",
            "locale": "en",
            "practitioner_id": practitioner.id,
            "channel_choices": same_for_every_type(channels),
            "active": True,
            "created_at": now,
        }
        for i in range(n)
    ]
    ids = list(
        db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True), rows)
    )
    db.session.commit()
    return practitioner.id, ids, phones


# --- checks -----------------------------------------------------------------------------------


def statuses_of_group(group_public_id: str) -> dict[str, int]:
    from app.extensions import db
    from app.models.notification import Notification, NotificationGroup

    stmt = (
        sa.select(Notification.status, sa.func.count())
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .where(NotificationGroup.public_id == group_public_id)
        .group_by(Notification.status)
    )
    counts = {
        str(status.value if hasattr(status, "value") else status): n
        for status, n in db.session.execute(stmt)
    }
    db.session.commit()  # end the read transaction: no snapshot held while workers write
    return counts


def check_delivered(
    label: str,
    group_public_id: str,
    expected_rows: int,
    received: dict[str, list[dict]],
    expected_to: dict[str, set[str]],
) -> None:
    """Every row `sent`, and each fake got exactly one message per expected recipient."""
    problems = []
    counts = statuses_of_group(group_public_id)
    if counts.get("sent", 0) != expected_rows or sum(counts.values()) != expected_rows:
        problems.append(f"rows by status {counts}, expected {expected_rows} sent")
    for kind, messages in received.items():
        to = collections.Counter(m["to"] for m in messages)
        duplicated = {k: v for k, v in to.items() if v > 1}
        missing = expected_to[kind] - set(to)
        unexpected = set(to) - expected_to[kind]
        if len(messages) != len(expected_to[kind]):
            problems.append(
                f"fake {kind} received {len(messages)} messages, expected {len(expected_to[kind])}"
            )
        if duplicated:
            problems.append(f"fake {kind}: {len(duplicated)} recipients got more than one message")
        if missing:
            problems.append(f"fake {kind}: {len(missing)} recipients got nothing")
        if unexpected:
            problems.append(
                f"fake {kind}: {len(unexpected)} messages to recipients outside the send"
            )
    if problems:
        raise BenchFailure(f"{label}: " + "; ".join(problems))


def failed_jobs(redis: Redis, queue_names: list[str]) -> list[str]:
    from rq import Queue
    from rq.job import Job

    found = []
    for name in queue_names:
        registry = Queue(name, connection=redis).failed_job_registry
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=redis)
            found.append(f"{name} {job_id}: {(job.exc_info or '').strip().splitlines()[-1:]}")
    return found


def children_cpu() -> float:
    return (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
    )


def own_cpu() -> float:
    return time.process_time()


# --- phases -----------------------------------------------------------------------------------


def provider_ceiling(
    settings: dict, count: int, fakes: FakeProviders, *, sdk_logging: bool
) -> Phase:
    """One thread, one keep-alive twilio Client, no database and no queue."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    sdk_logger = logging.getLogger("twilio.http_client")
    saved_level = sdk_logger.level
    if not sdk_logging:
        sdk_logger.setLevel(logging.WARNING)
    try:
        fakes.reset("twilio")
        client = Client(
            settings["TWILIO_ACCOUNT_SID"],
            settings["TWILIO_AUTH_TOKEN"],
            http_client=TwilioHttpClient(timeout=settings["PROVIDER_TIMEOUT_SECONDS"]),
        )
        client.api.base_url = settings["TWILIO_BASE_URL"]
        callback = settings["PUBLIC_BASE_URL"] + "/webhooks/twilio/status"

        def send(i: int) -> None:
            client.messages.create(
                to=f"+1555{i:07d}",
                from_=settings["TWILIO_FROM_NUMBER"],
                body=f"Ceiling message {i}: please rest after Abhyanga.",
                status_callback=callback,
            )

        send(count)  # open the connection first: the ceiling is the steady state
        cpu0, t0 = own_cpu(), time.perf_counter()
        for i in range(count):
            send(i)
        elapsed, cpu = time.perf_counter() - t0, own_cpu() - cpu0
        client.http_client.session.close()
    finally:
        sdk_logger.setLevel(saved_level)
    stats = fakes.stats("twilio")
    received = fakes.received("twilio")
    if len(received) != count + 1:
        raise BenchFailure(f"provider ceiling: fake received {len(received)}, expected {count + 1}")
    label = (
        "provider ceiling (SDK, one thread)"
        if not sdk_logging
        else "  same, with twilio's INFO request logs"
    )
    return Phase(
        label,
        count,
        None,
        elapsed,
        cpu * 1000 / count,
        note=f"{stats['connections']} connection(s)",
    )


def run_naive(
    app,
    args,
    run: Run,
    fakes: FakeProviders,
    practitioner_id: int,
    patient_ids: list[int],
    phones: list[str],
) -> Phase:
    """The sample, created by the outbox like any send, delivered one forked job at a time."""
    from rq import Queue, Worker

    from app.extensions import db
    from app.models.notification import Notification, NotificationGroup
    from app.models.user import User
    from app.schemas.send import SendRequest
    from app.services.outbox import create_send
    from app.services.queues import ALL_QUEUES
    from bench import naive

    redis = app.extensions["redis"]
    count = args.naive
    fakes.reset("twilio")
    queue = Queue(naive.QUEUE, connection=redis)

    t0 = time.perf_counter()
    sender = db.session.get(User, practitioner_id)
    result = create_send(
        sender,
        SendRequest(
            type="treatment_update",
            recipient_ids=patient_ids[:count],
            channels=["sms"],
            title="Naive baseline",
            body="Naive baseline: please rest after Abhyanga.",
        ),
    )
    # The outbox enqueued batch jobs; this design had one job per notification instead.
    for name in ALL_QUEUES:
        Queue(name, connection=redis).empty()
    ids = list(
        db.session.scalars(
            sa.select(Notification.id)
            .join(NotificationGroup)
            .where(NotificationGroup.public_id == result.group_id)
            .order_by(Notification.id)
        )
    )
    naive.enqueue_each(queue, ids)
    db.session.commit()
    create_s = time.perf_counter() - t0

    db.session.remove()
    db.engine.dispose()  # no forked child may inherit an open database connection
    naive.APP = app
    cpu0, child0 = own_cpu(), children_cpu()
    t1 = time.perf_counter()
    worker = Worker([queue], connection=redis)
    try:
        worker.work(burst=True, logging_level=args.log_level)
    finally:
        restore_signal_handlers()
    deliver_s = time.perf_counter() - t1
    cpu = own_cpu() - cpu0 + children_cpu() - child0
    if worker._stop_requested:
        raise KeyboardInterrupt

    problems = failed_jobs(redis, [naive.QUEUE])
    if problems:
        raise BenchFailure("naive: failed jobs: " + "; ".join(problems[:5]))
    check_delivered(
        "naive",
        result.group_id,
        count,
        {"twilio": fakes.received("twilio")},
        {"twilio": set(phones[:count])},
    )
    return Phase(
        "naive (job per notification, fork)",
        count,
        create_s,
        deliver_s,
        cpu * 1000 / count,
        note=f"sample of {count}" if count < args.patients else "",
    )


def run_ours(
    app,
    args,
    run: Run,
    fakes: FakeProviders,
    practitioner_id: int,
    phones: list[str],
    env: dict[str, str],
) -> Phase:
    """One group send to every patient, delivered by the real worker."""
    from app.extensions import db
    from app.models.user import User
    from app.schemas.send import ALL_MY_PATIENTS, SendRequest
    from app.services.outbox import create_send
    from app.services.queues import ALL_QUEUES
    from app.tasks.worker import build_worker

    redis = app.extensions["redis"]
    kinds = ["twilio", *(["sendgrid"] if args.email else [])]
    for kind in kinds:
        fakes.reset(kind)
    channels = ["sms", *(["email"] if args.email else [])]
    expected_rows = args.patients * len(channels)

    workers: list[subprocess.Popen] = []
    with contextlib.ExitStack() as stack:
        if args.workers:
            workers = start_workers(args.workers, env, run)
            stack.callback(stop_workers, workers)
            wait_for_workers(redis, args.workers, workers, timeout=60)

        sender = db.session.get(User, practitioner_id)
        cpu0 = own_cpu()
        t0 = time.perf_counter()
        result = create_send(
            sender,
            SendRequest(
                type="treatment_update",
                recipient_group=ALL_MY_PATIENTS,
                channels=channels,
                title="Clinic closed on Friday",
                body="The clinic is closed on Friday for Ekadashi; "
                "your sessions move to Saturday at the same time.",
            ),
        )
        db.session.commit()
        create_s = time.perf_counter() - t0
        if len(result.items) != expected_rows:
            raise BenchFailure(
                f"ours: the send made {len(result.items)} rows, expected {expected_rows}"
            )

        t1 = time.perf_counter()
        if args.workers:
            wait_until_final(result.group_id, expected_rows, workers, args.timeout)
            cpu_ms = None  # spent in the worker processes
        else:
            db.session.remove()  # the worker's jobs open their own sessions
            worker = build_worker(app)
            try:
                worker.work(burst=True, logging_level=args.log_level)
            finally:
                restore_signal_handlers()
            if worker._stop_requested:
                raise KeyboardInterrupt
        deliver_s = time.perf_counter() - t1
        if not args.workers:
            cpu_ms = (own_cpu() - cpu0) * 1000 / expected_rows

    problems = failed_jobs(redis, list(ALL_QUEUES))
    if problems:
        raise BenchFailure("ours: failed jobs: " + "; ".join(problems[:5]))
    received = {kind: fakes.received(kind) for kind in kinds}
    expected_to = {
        "twilio": set(phones),
        "sendgrid": {f"patient{i}@clinic.test" for i in range(args.patients)},
    }
    check_delivered("ours", result.group_id, expected_rows, received, expected_to)
    how = f"{args.workers} worker process(es)" if args.workers else "in-process worker"
    return Phase(
        "ours (batched, SimpleWorker, keep-alive)",
        expected_rows,
        create_s,
        deliver_s,
        cpu_ms,
        note=how,
    )


# --- worker processes -------------------------------------------------------------------------


def worker_env(config: Mapping[str, Any]) -> dict[str, str]:
    """The environment `python worker.py` reads its settings from: every setting of the run's
    app spelled out, so a `.env` in the project folder fills in nothing (it logs at INFO, as
    deployed)."""
    from app.config import environment_spelling, setting_names

    env = {name: value for name, value in os.environ.items() if name not in setting_names()}
    env.update({name: environment_spelling(config.get(name)) for name in setting_names()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_workers(count: int, env: dict[str, str], run: Run) -> list[subprocess.Popen]:
    workers = []
    for _ in range(count):
        log_path = run.tmp / f"worker-{len(run.worker_logs)}.log"
        run.worker_logs.append(log_path)
        workers.append(spawn_worker(env, log_path))
    return workers


def wait_for_workers(
    redis: Redis, count: int, workers: list[subprocess.Popen], timeout: float
) -> None:
    from rq import Worker

    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=redis)) < count:
        dead = [w.pid for w in workers if w.poll() is not None]
        if dead:
            raise BenchFailure(f"worker process(es) {dead} exited at start; see their log")
        if time.monotonic() > deadline:
            raise BenchFailure(
                f"only {len(Worker.all(connection=redis))} of {count} workers registered"
            )
        time.sleep(0.05)


def wait_until_final(
    group_public_id: str, expected_rows: int, workers: list[subprocess.Popen], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        counts = statuses_of_group(group_public_id)
        if not any(counts.get(s) for s in PENDING):
            return
        if counts.get("failed"):
            raise BenchFailure(f"ours: {counts['failed']} notification(s) failed: {counts}")
        dead = [w.pid for w in workers if w.poll() is not None]
        if dead:
            raise BenchFailure(f"ours: worker process(es) {dead} died: {counts}")
        if time.monotonic() > deadline:
            raise BenchFailure(f"ours: not final after {timeout:.0f} s: {counts}")
        time.sleep(0.02)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGTERM each worker's process group (a warm shutdown), SIGKILL what is left after 10 s."""
    for worker in workers:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # also any child left in its group
        worker.wait()


# --- signals and output -----------------------------------------------------------------------


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def restore_signal_handlers() -> None:
    """RQ installs its own SIGINT/SIGTERM handlers in `work()`; put ours back afterwards."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)


ROW = "  {:44}{:>7}{:>9}{:>9}{:>9}{:>9}  {:>10}  {}"


def print_table(phases: dict[str, Phase], run: Run, config: dict) -> None:
    args = run.args
    print(f"Sutra Notify delivery benchmark: {', '.join(run.description)}")
    print(
        f"  fake providers in their own process; batch size {config['DELIVERY_BATCH_SIZE']}, "
        f"concurrency {config['DELIVERY_CONCURRENCY']}, "
        f"provider timeout {config['PROVIDER_TIMEOUT_SECONDS']} s"
    )
    print(
        f"  log level {args.log_level} (records to a temporary file), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print()
    print(ROW.format("", "count", "create", "deliver", "total", "per s", "cpu ms/msg", "note"))
    for phase in phases.values():
        print(
            ROW.format(
                phase.label,
                phase.count,
                f"{phase.create_s:.2f} s" if phase.create_s is not None else "-",
                f"{phase.deliver_s:.2f} s",
                f"{phase.total_s:.2f} s",
                f"{phase.rate:.0f}",
                f"{phase.cpu_ms:.2f}" if phase.cpu_ms is not None else "-",
                phase.note,
            )
        )
    print()
    ours = phases["ours"]
    ratios = []
    if "naive" in phases:
        ratios.append(f"ours / naive = {ours.rate / phases['naive'].rate:.1f}")
    if "ceiling" in phases:
        ratios.append(f"ours / ceiling = {ours.rate / phases['ceiling'].rate:.2f}")
    if ratios:
        print("  " + "   ".join(ratios) + "   (per s, end to end: create + deliver)")
    alone = [f"ours {ours.deliver_rate:.0f}/s"]
    if "naive" in phases:
        alone.append(f"naive {phases['naive'].deliver_rate:.0f}/s")
    print("  delivery alone (without create): " + ", ".join(alone))


def tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def report_failure(exc: Exception, run: Run) -> int:
    """Say why the run failed, with the last lines of each log it wrote; the exit status."""
    print(f"\nFAILED: {exc}", file=sys.stderr)
    for path in [run.log_file, *run.worker_logs]:
        text = tail(path)
        if text:
            print(f"--- last lines of {path.name} ---\n{text}", file=sys.stderr)
    return 1


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    restore_signal_handlers()
    tmp = Path(tempfile.mkdtemp(prefix="sutra-bench-"))
    run = Run(args, tmp, tmp / "bench.log")
    # Configured before create_app, whose basicConfig then changes nothing: the app, RQ and the
    # SDKs log at the chosen level as they would in worker.py, but into a file.
    logging.basicConfig(filename=run.log_file, level=args.log_level.upper(), format=LOG_FORMAT)
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(logging.shutdown)
            database_url = stack.enter_context(scratch_database(tmp, run.description))
            redis_url = stack.enter_context(bench_redis(tmp, DEFAULT_BENCH_REDIS_DB, run.description))
            fakes = stack.enter_context(
                FakeProviders(("twilio", "sendgrid") if args.email else ("twilio",))
            )
            settings = app_settings(args, database_url, redis_url, fakes)
            return measure(args, run, settings, fakes, stack)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except BenchFailure as exc:
        return report_failure(exc, run)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(
    args, run: Run, settings: dict, fakes: FakeProviders, stack: contextlib.ExitStack
) -> int:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app(settings)
    ctx = app.app_context()
    ctx.push()
    stack.callback(ctx.pop)
    stack.callback(
        lambda: app.extensions["redis"] and app.extensions["redis"].connection_pool.disconnect()
    )
    stack.callback(db.engine.dispose)
    stack.callback(db.session.remove)
    upgrade()
    practitioner_id, patient_ids, phones = create_people(args.patients, args.email)

    phases: dict[str, Phase] = {}
    if args.ceiling:
        phases["ceiling"] = provider_ceiling(app.config, args.ceiling, fakes, sdk_logging=False)
        if logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO):
            phases["ceiling_logged"] = provider_ceiling(
                app.config, args.ceiling, fakes, sdk_logging=True
            )
    if args.naive:
        phases["naive"] = run_naive(app, args, run, fakes, practitioner_id, patient_ids, phones)
    env = worker_env(app.config)
    phases["ours"] = run_ours(app, args, run, fakes, practitioner_id, phones, env)
    print_table(
        {k: phases[k] for k in ("ours", "naive", "ceiling", "ceiling_logged") if k in phases},
        run,
        app.config,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
