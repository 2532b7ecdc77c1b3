"""Faults at scale: a group send through two real worker processes, broken on purpose mid-run.

    .venv/bin/python bench/chaos.py [--rows N] [--faults NAME,...] [--timeout S]

Each fault gets the same send (N/2 patients, an SMS and an email each) on a PostgreSQL cluster
and a redis-server the run starts itself (never the shared ones: it restarts them), with two
`python worker.py` processes and the fake Twilio and SendGrid servers of tests/fakes in a process
of their own (bench/fake_process.py). Once a quarter of the rows are final the fault is injected;
the run then waits until every row is final and counts, from the fakes' side, what each
recipient got. The first fault, `none`, is the baseline: on a shared, noisy machine its figures,
beside each fault's as a ratio, say more than the seconds alone. Exit status 1 means a
notification was lost or sent twice beyond the stated bound; see bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.delivery import (  # noqa: E402
    LOG_FORMAT,
    PENDING,
    BenchFailure,
    Run,
    app_settings,
    create_people,
    report_failure,
    restore_signal_handlers,
    start_workers,
    statuses_of_group,
    stop_workers,
    worker_env,
)
from bench.fake_process import FakeProviders  # noqa: E402
from tests.faults.servers import STARTUP_SECONDS, PostgresCluster, RedisServer  # noqa: E402

WORKERS = 2
INJECT_AT = 0.25  # share of rows final when the fault is injected
REDIS_DOWN_SECONDS = 5
POSTGRES_DOWN_SECONDS = 10
SCHEDULED_IN_SECONDS = 12  # how far ahead the scheduled send is set; its holder dies 2 s before
PROVIDER_TIMEOUT_SECONDS = 2.0
# The provider fault mix, drawn for every request: 30% HTTP 500, 10% 429 asking for a second,
# 5% timeouts, of which half the provider accepted before it answered too late (ambiguous).
PROVIDER_MIX = {
    "server_error": (0.30, {}),
    "rate_limited": (0.10, {"retry_after": 1}),
    "timeout": (0.025, {"hold": 30}),
    "slow": (0.025, {"delay": PROVIDER_TIMEOUT_SECONDS + 1}),
}
# The retry policy of the run: the defaults (30 s doubling) would make the provider fault take
# minutes; the policy's own window is what the bound is checked against.
RETRY_SETTINGS = {"RETRY_BASE_SECONDS": 2, "RETRY_MAX_SECONDS": 30, "MAX_ATTEMPTS": 5}


class ChaosFailure(Exception):
    """The run could not measure (a worker would not start, a phase never ended)."""


@dataclass
class Lab:
    """What a fault can break: the servers, the workers, and the app used to send and count."""

    app: Any
    args: argparse.Namespace
    run: Run
    redis: RedisServer
    postgres: PostgresCluster
    fakes: FakeProviders
    env: dict[str, str]
    practitioner_id: int
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self) -> None:
        """Start one more worker process and wait until it has registered on Redis.

        Registered by its own pid: after a FLUSHALL the workers already running keep working
        but are no longer listed, so a count of registered workers would wait for ever.
        """
        from rq import Worker

        [worker] = start_workers(1, self.env, self.run)
        self.workers.append(worker)
        deadline = time.monotonic() + STARTUP_SECONDS
        while worker.pid not in {w.pid for w in Worker.all(connection=self.redis.client)}:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise ChaosFailure(f"worker {worker.pid} did not start; see its log")
            time.sleep(0.1)


@dataclass
class Result:
    fault: str
    rows: int
    final: int
    lost: int
    duplicates: int
    bound: int  # duplicates the README allows for this fault
    failed: int
    misreported: int  # failed although the provider has it, before its receipts came
    wrong: int  # the same, after them
    total_s: float  # from the send (or its due time) until every row was final
    recovery_s: float  # from the fault until every row was final
    attempts: int


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    inject: Callable[[Lab], None] | None = None  # mid-run, once INJECT_AT of the rows are final
    before_send: Callable[[Lab], None] | None = None
    scheduled: bool = False  # the send is for later; `inject` runs 2 s before it is due


# --- faults -----------------------------------------------------------------------------------


def restart_redis(lab: Lab) -> None:
    lab.redis.stop()
    time.sleep(REDIS_DOWN_SECONDS)
    lab.redis.start()


def flush_redis(lab: Lab) -> None:
    lab.redis.client.flushall()


def kill_a_worker(lab: Lab) -> None:
    victim = lab.workers.pop(0)
    kill(victim)
    lab.start_worker()


def restart_postgres(lab: Lab) -> None:
    lab.postgres.stop()
    time.sleep(POSTGRES_DOWN_SECONDS)
    lab.postgres.start()


def provider_faults(lab: Lab) -> None:
    for kind in ("twilio", "sendgrid"):
        lab.fakes.control(kind, "fail_randomly", PROVIDER_MIX, seed=9)


def kill_the_scheduler(lab: Lab) -> None:
    from app.services.scheduler import SCHEDULER_LOCK

    token = lab.redis.client.get(SCHEDULER_LOCK)
    holder_pid = int(token.decode().split(":")[1]) if token else None
    [holder] = [w for w in lab.workers if w.pid == holder_pid] or [lab.workers[0]]
    lab.workers.remove(holder)
    kill(holder)
    lab.start_worker()


def kill(worker: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


FAULTS = [
    Fault("none", "baseline: nothing broken"),
    Fault("redis-restart", f"redis-server killed, back {REDIS_DOWN_SECONDS} s later, empty", restart_redis),
    Fault("redis-flushall", "FLUSHALL", flush_redis),
    Fault("worker-killed", "kill -9 one worker, a new one started at once", kill_a_worker),
    Fault("postgres-restart", f"PostgreSQL stopped (immediate), back {POSTGRES_DOWN_SECONDS} s later",
          restart_postgres),
    Fault("provider-faults", "30% HTTP 500, 10% 429 Retry-After 1, 5% timeouts (half accepted)",
          before_send=provider_faults),
    Fault("scheduler-killed", "the scheduler lock's holder killed 2 s before a scheduled send",
          kill_the_scheduler, scheduled=True),
]


# --- one fault --------------------------------------------------------------------------------


def run_fault(lab: Lab, fault: Fault) -> Result:
    from app.extensions import db
    from app.models.user import User
    from app.services.outbox import ALL_MY_PATIENTS, SendRequest, create_send

    dead = [w.pid for w in lab.workers if w.poll() is not None]
    if dead or len(lab.workers) != WORKERS:
        raise ChaosFailure(f"before {fault.name}: worker process(es) {dead} exited; see their log")
    for kind in ("twilio", "sendgrid"):
        lab.fakes.reset(kind)
    if fault.before_send:
        fault.before_send(lab)
    due_at = (datetime.now(UTC) + timedelta(seconds=SCHEDULED_IN_SECONDS)).replace(microsecond=0)
    sender = db.session.get(User, lab.practitioner_id)
    sent_at = time.monotonic()
    fault_at = sent_at  # a fault set before the send
    result = create_send(
        sender,
        SendRequest(
            type="treatment_update",
            recipient_group=ALL_MY_PATIENTS,
            channels=["sms", "email"],
            title=f"Chaos: {fault.name}",
            body="The clinic is closed on Friday for Ekadashi; your sessions move to Saturday.",
            scheduled_at=due_at if fault.scheduled else None,
        ),
    )
    db.session.commit()
    rows = len(result.items)
    group = result.group_id

    if fault.scheduled:
        started = time.monotonic() + (due_at - datetime.now(UTC)).total_seconds()  # its due time
        time.sleep(max(0.0, started - 2 - time.monotonic()))
    else:
        started = sent_at
        wait_until(lambda: final_count(group) >= rows * INJECT_AT, lab.args.timeout, f"{fault.name}: a quarter final")
        if not fault.before_send:
            fault_at = time.monotonic()  # the baseline's recovery runs from here too
    if fault.inject:
        fault_at = time.monotonic()
        fault.inject(lab)
    wait_until(lambda: final_count(group) == rows, lab.args.timeout, f"{fault.name}: every row final")
    done_at = time.monotonic()
    print(f"  {fault.name}: every row final {done_at - fault_at:.1f} s after the fault", file=sys.stderr)
    return count_outcomes(lab, fault, group, rows, total_s=done_at - started, recovery_s=done_at - fault_at)


def count_outcomes(lab: Lab, fault: Fault, group: str, rows: int, *, total_s: float, recovery_s: float) -> Result:
    """Lost and duplicated, by what the fake providers received against the rows; then the
    providers' receipts of delivery for what they received, and what those corrected."""
    from app.models.status import Status

    received = {"twilio": lab.fakes.received("twilio"), "sendgrid": lab.fakes.received("sendgrid")}
    copies = {kind: collections.Counter(m["to"] for m in messages) for kind, messages in received.items()}
    before = group_rows(group)
    misreported = sum(row.status is Status.FAILED and copies[row.kind][row.to] > 0 for row in before)
    deliver_receipts(received)
    after = group_rows(group)
    lost = duplicates = failed = final = wrong = 0
    for row in after:
        got = copies[row.kind][row.to]
        final += row.status.is_final
        failed += row.status is Status.FAILED
        wrong += row.status is Status.FAILED and got > 0
        # Lost: never final, or taken for sent while the provider has nothing for it.
        lost += not row.status.is_final or (row.status is not Status.FAILED and not got)
        duplicates += max(0, got - 1)
    concurrency = lab.app.config["DELIVERY_CONCURRENCY"]
    bound = {"worker-killed": concurrency, "scheduler-killed": concurrency,
             "provider-faults": ambiguous_attempts(group)}
    return Result(fault.name, rows, final, lost, duplicates, bound.get(fault.name, 0), failed,
                  misreported, wrong, total_s, recovery_s, sum(row.attempts for row in after))


def group_rows(group: str) -> list[Any]:
    """Each row of the send: its status, attempts, and the provider and address it went to."""
    from app.extensions import db
    from app.models.notification import Notification, NotificationGroup
    from app.models.user import User
    from app.vocabulary import Channel

    found = db.session.execute(
        sa.select(Notification.status, Notification.attempts,
                  sa.case((Notification.channel == Channel.SMS, "twilio"), else_="sendgrid").label("kind"),
                  sa.case((Notification.channel == Channel.SMS, User.phone), else_=User.email).label("to"))
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .join(User, User.id == Notification.user_id)
        .where(NotificationGroup.public_id == group)
    ).all()
    db.session.commit()
    return list(found)


def ambiguous_attempts(group: str) -> int:
    from app.extensions import db
    from app.models.notification import Notification, NotificationEvent, NotificationGroup

    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(NotificationEvent)
        .join(Notification, Notification.id == NotificationEvent.notification_id)
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .where(NotificationGroup.public_id == group, NotificationEvent.ambiguous.is_(True))
    )
    db.session.commit()
    return count or 0


def deliver_receipts(received: dict[str, list[dict]]) -> None:
    """What the providers would report for every message they accepted: delivered, each to the
    webhook's service with the reference the message carried (callback URL, custom args)."""
    from app.services.provider_events import TWILIO_REFERENCE_ARG, apply_sendgrid_events, apply_twilio_status

    for message in received["twilio"]:
        reference = parse_qs(urlsplit(message["status_callback"]).query)[TWILIO_REFERENCE_ARG][0]
        apply_twilio_status(message["sid"], "delivered", reference=reference)
    for start in range(0, len(received["sendgrid"]), 500):
        apply_sendgrid_events([{"event": "delivered", **message["custom_args"]}
                               for message in received["sendgrid"][start : start + 500]])


def final_count(group: str) -> int:
    """Rows no longer waiting or being sent (0 while the database is unreachable)."""
    try:
        counts = statuses_of_group(group)
    except sa.exc.DBAPIError:
        from app.extensions import db

        db.session.rollback()
        return 0
    return sum(n for status, n in counts.items() if status not in PENDING)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ChaosFailure(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


# --- output -----------------------------------------------------------------------------------

ROW = "  {:18}{:>6}{:>7}{:>6}{:>6}{:>7}{:>8}{:>8}{:>9}{:>9}{:>12}{:>9}{:>14}"


def print_table(results: list[Result], description: str) -> None:
    base = results[0]
    print(description)
    print()
    print(ROW.format("fault", "rows", "final", "lost", "dup", "bound", "failed", "wrong", "total s", "(ratio)",
                     "recovery s", "(ratio)", "attempts"))
    for r in results:
        recovery_ratio = r.recovery_s / (base.total_s if r.fault in ("provider-faults", "scheduler-killed")
                                         else base.recovery_s)
        print(ROW.format(r.fault, r.rows, r.final, r.lost, r.duplicates, r.bound, r.failed,
                         f"{r.misreported}>{r.wrong}", f"{r.total_s:.1f}", f"x{r.total_s / base.total_s:.2f}",
                         f"{r.recovery_s:.1f}", f"x{recovery_ratio:.2f}",
                         f"{r.attempts} x{r.attempts / base.attempts:.2f}"))
    print()
    print("  total: from the send (from its due time, scheduled) until every row was final; recovery: from")
    print("  the fault until then (the baseline's: from a quarter final). Ratios are to the baseline's,")
    print("  recovery after provider faults and a killed scheduler to the baseline's total. wrong: rows")
    print("  failed although the provider had the message, before > after the providers' receipts.")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000, help="notifications per fault (an SMS and an email each)")
    parser.add_argument("--faults", default=",".join(f.name for f in FAULTS[1:]),
                        help="faults to run after the baseline, comma-separated")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on a phase after this many seconds")
    args = parser.parse_args(argv)
    if args.rows < 8:
        parser.error("--rows must be at least 8")
    known = {f.name for f in FAULTS}
    args.fault_names = [name for name in args.faults.split(",") if name]
    unknown = set(args.fault_names) - known
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; known: {sorted(known)}")
    # What bench.delivery.app_settings reads.
    args.patients, args.batch_size, args.concurrency = args.rows // 2, None, None
    args.provider_timeout = PROVIDER_TIMEOUT_SECONDS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    restore_signal_handlers()
    tmp = Path(tempfile.mkdtemp(prefix="sutra-chaos-"))
    # Its own directory: the postgres user must be able to enter it.
    postgres = PostgresCluster(Path(tempfile.mkdtemp(prefix="sutra-chaos-postgres-")))
    run = Run(args, tmp, tmp / "chaos.log")
    logging.basicConfig(filename=run.log_file, level=logging.INFO, format=LOG_FORMAT)
    lab = None
    try:
        reason = postgres.available()
        if reason:
            raise ChaosFailure(reason)
        with contextlib.ExitStack() as stack:
            stack.callback(shutil.rmtree, postgres.directory, ignore_errors=True)
            stack.callback(logging.shutdown)
            postgres.create()
            stack.callback(postgres.stop)
            redis = RedisServer(tmp)
            redis.start()
            stack.callback(redis.stop)
            fakes = stack.enter_context(FakeProviders(("twilio", "sendgrid")))
            settings = {**app_settings(args, postgres.url, redis.url, fakes), **RETRY_SETTINGS}
            lab = setup(args, run, settings, redis, postgres, fakes, stack)
            results = [run_fault(lab, fault) for fault in FAULTS if fault.name == "none"
                       or fault.name in args.fault_names]
            print_table(results, describe(lab))
            bad = [r for r in results if r.lost or r.wrong or r.duplicates > r.bound or r.final != r.rows]
            return 1 if bad else 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except (ChaosFailure, BenchFailure) as exc:
        return report_failure(exc, run)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def setup(args, run: Run, settings: dict, redis: RedisServer, postgres: PostgresCluster, fakes: FakeProviders,
          stack: contextlib.ExitStack) -> Lab:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app(settings)
    ctx = app.app_context()
    ctx.push()
    stack.callback(ctx.pop)
    stack.callback(lambda: app.extensions["redis"].connection_pool.disconnect())
    stack.callback(db.engine.dispose)
    stack.callback(db.session.remove)
    upgrade()
    practitioner_id, _, _ = create_people(args.patients, with_email=True)
    env = worker_env(app.config)
    lab = Lab(app, args, run, redis, postgres, fakes, env, practitioner_id)
    stack.callback(lambda: stop_workers(lab.workers))
    for _ in range(WORKERS):
        lab.start_worker()
    return lab


def describe(lab: Lab) -> str:
    config = lab.app.config
    return (
        f"Sutra Notify chaos: {lab.args.rows} notifications per fault (SMS + email), {WORKERS} worker processes,\n"
        f"  own PostgreSQL cluster and redis-server, fake providers in their own process; batch size "
        f"{config['DELIVERY_BATCH_SIZE']},\n  concurrency {config['DELIVERY_CONCURRENCY']}, lease "
        f"{config['LEASE_SECONDS']:g} s, sweep every {config['SWEEP_INTERVAL_SECONDS']:g} s, scheduler lock "
        f"{config['SCHEDULER_LOCK_SECONDS']:g} s, provider timeout {config['PROVIDER_TIMEOUT_SECONDS']:g} s,\n"
        f"  retries {config['RETRY_BASE_SECONDS']:g} s doubling to {config['RETRY_MAX_SECONDS']:g} s, "
        f"{config['MAX_ATTEMPTS']} attempts; {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    sys.exit(main())
