"""Every write of a notification's status: set-based, guarded by the legal-transition table.

Three writers, one rule. `change_status` moves many rows to one status (cancel, read, a
provider's receipt, recovery); `claim` takes rows for a delivery job; `write_outcomes` stores
each claimed row's own result of an attempt. All three are compare-and-set updates whose WHERE
clause comes from `sources_of(target)` in `app.models.status`, so two actors racing for the
same rows (a worker claiming while a practitioner cancels, a job run twice) cannot both win,
and a change the table does not allow cannot happen. Each moved row gets its event in the same
transaction. `confirm_delivered`, a provider's receipt of delivery, is the one writer allowed
the moves the table keeps for a receipt of an ambiguous attempt (`AFTER_AMBIGUOUS`: a retry
waiting, or given up on, while the patient has the message). `reassign_job` and
`grant_waiting` keep the status and change only the job (a lost job replaced; work whose time
has come given one).

No other module updates notification rows (tests/services/test_status_writers.py keeps it so).
Nothing here commits: the calling service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.notification import EventKind, Notification, NotificationEvent
from app.models.status import AFTER_AMBIGUOUS, PENDING, Status, sources_of
from app.services import lease
from app.services.row_counts import changed_rows

CHUNK = 2000  # ids per statement: well under every database's bound-parameter limit
CLAIMED = Status.SENDING  # what a claim moves rows to, and where their outcomes come from


def change_status(
    ids: Collection[int],
    target: Status,
    kind: EventKind,
    *,
    only_from: Iterable[Status] | None = None,
    where: Sequence[sa.ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
    detail: str | None = None,
    scheduled_for: datetime | None = None,
    actor_id: int | None = None,
    provider: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Move every listed notification that may legally reach `target`; return those moved."""
    now = now or utcnow()
    moved = _update(ids, [Notification.status.in_(_sources(target, only_from)), *where],
                    {"status": target, "updated_at": now, **(values or {})})
    record_events(
        [
            {"notification_id": nid, "kind": kind, "status": target, "detail": detail,
             "scheduled_for": scheduled_for, "actor_id": actor_id, "provider": provider, "created_at": now}
            for nid in moved
        ]
    )
    return moved


def confirm_delivered(
    ids: Collection[int], *, detail: str, provider: str, now: datetime | None = None
) -> list[int]:
    """Apply a provider's receipt of delivery; return the notifications it moved.

    A sent notification becomes delivered. So does one whose attempt was ambiguous (it timed out
    after the request went) and which has since been given up on or waits for its retry: the
    receipt proves the provider had it, so it ends delivered, and a waiting retry is withdrawn
    (granted to no job, its job finds nothing to claim) rather than sent a second time.
    """
    now = now or utcnow()
    moved = change_status(ids, Status.DELIVERED, EventKind.DELIVERED, only_from=[Status.SENT],
                          values={"delivered_at": now}, detail=detail, provider=provider, now=now)
    rest = set(ids) - set(moved)
    if not rest:
        return moved
    after_ambiguous = _update(
        rest,
        [Notification.status.in_({source for source, _ in AFTER_AMBIGUOUS}), _had_ambiguous_attempt()],
        {"status": Status.DELIVERED, "delivered_at": now, "failed_at": None, "status_reason": None,
         "next_attempt_at": None, **lease.granted_to(None), "updated_at": now},
    )
    record_events(
        [{"notification_id": nid, "kind": EventKind.DELIVERED, "status": Status.DELIVERED,
          "detail": f"{detail} (an attempt that timed out had reached {provider})", "provider": provider,
          "created_at": now} for nid in after_ambiguous]
    )
    return moved + after_ambiguous


def _had_ambiguous_attempt() -> sa.ColumnElement[bool]:
    return sa.exists().where(NotificationEvent.notification_id == Notification.id,
                             NotificationEvent.ambiguous.is_(True))


def claim(ids: Collection[int], job_id: str | None, *, now: datetime) -> list[int]:
    """Take rows for one delivery job: move them to `sending`; return those taken.

    Only rows the table lets reach `sending` (pending ones) and, for a job, rows still granted
    to that job move, so a job run twice, or racing a cancel, sends each notification at most
    once. The claim starts the rows' lease (`app.services.lease`). No event is written: the
    attempt's outcome, moments later, is the event, and a row whose lease lapses in `sending`
    is the sweeper's to recover.
    """
    held_by_job, lease_values = lease.claim_terms(job_id, now)
    return _update(ids, [Notification.status.in_(sources_of(CLAIMED)), *held_by_job],
                   {"status": CLAIMED, "updated_at": now, **lease_values})


def write_outcomes(
    outcomes: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]], *, now: datetime
) -> list[Mapping[str, Any]]:
    """Store each claimed row's own outcome with one executemany UPDATE; return those applied.

    Every outcome is a mapping of column names to values, with at least `id` and `status`,
    and all of them have the same keys. A row moves only if it is still claimed (a row the
    sweeper took back from a job that overran keeps the sweeper's status), and only the
    events of rows that moved are recorded, so the history stays true.
    """
    if not outcomes:
        record_events(events)
        return []
    for target in {outcome["status"] for outcome in outcomes}:
        if CLAIMED not in sources_of(target):
            raise ValueError(f"illegal transition {CLAIMED.value} -> {target.value}")
    table = Notification.__table__
    columns = [name for name in outcomes[0] if name != "id"]
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"), table.c.status == CLAIMED)
        .values({name: sa.bindparam(f"b_{name}") for name in (*columns, "updated_at")})
    )
    params = [{**{f"b_{name}": value for name, value in outcome.items()}, "b_updated_at": now}
              for outcome in outcomes]
    result = db.session.execute(stmt, params)
    applied: Sequence[Mapping[str, Any]] = outcomes
    if changed_rows(result) != len(outcomes):
        # A row left `sending` meanwhile: the sweeper took it back from a job that overran.
        # The rows that took an outcome are those stamped now with the status it set.
        found = dict(
            db.session.execute(
                sa.select(Notification.id, Notification.status).where(
                    Notification.id.in_([outcome["id"] for outcome in outcomes]),
                    Notification.updated_at == now,
                )
            ).all()
        )
        applied = [outcome for outcome in outcomes if found.get(outcome["id"]) is outcome["status"]]
    applied_ids = {outcome["id"] for outcome in applied}
    record_events([event for event in events if event["notification_id"] in applied_ids])
    return list(applied)


def renew_lease(ids: Collection[int], *, now: datetime) -> list[int]:
    """Extend the lease of rows a live worker still holds; return those extended."""
    return _update(ids, [Notification.status == CLAIMED], {"lease_expires_at": lease.deadline(now)})


def reassign_job(ids: Collection[int], job_id: str, *, now: datetime) -> list[int]:
    """Give pending rows to a new job, their own having been lost; return those given.

    Their status stays; a row a cancel or a claim moved since the caller looked is left alone.
    """
    return _update(ids, [Notification.status.in_(PENDING)], {**lease.granted_to(job_id), "updated_at": now})


def grant_waiting(ids: Collection[int], job_id: str, *, now: datetime) -> list[int]:
    """Give rows that waited for their time to the job that will deliver them; return those given.

    Their status stays; a row a cancel, a reschedule or another grant moved since the caller
    looked is left alone.
    """
    return _update(ids, [lease.waiting()], {**lease.granted_to(job_id), "updated_at": now})


def record_events(events: Sequence[Mapping[str, Any]]) -> None:
    """Insert many events in one statement (or a few, for very large batches)."""
    if events:
        db.session.execute(sa.insert(NotificationEvent), list(events))


def _update(ids: Collection[int], where: Sequence[sa.ColumnElement[bool]], values: Mapping[str, Any]) -> list[int]:
    """One UPDATE ... RETURNING per chunk of ids; the ids of the rows it changed."""
    changed: list[int] = []
    id_list = list(ids)
    for start in range(0, len(id_list), CHUNK):
        stmt = (
            sa.update(Notification)
            .where(Notification.id.in_(id_list[start : start + CHUNK]), *where)
            .values(**values)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
        changed.extend(db.session.scalars(stmt).all())
    return changed


def _sources(target: Status, only_from: Iterable[Status] | None) -> frozenset[Status]:
    """Where `target` may be reached from, leaving out what only `confirm_delivered` may do."""
    sources = sources_of(target) - {source for source, to in AFTER_AMBIGUOUS if to is target}
    return sources if only_from is None else sources & frozenset(only_from)

