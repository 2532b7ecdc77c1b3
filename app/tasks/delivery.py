"""RQ job functions. They take ids, never objects, and run inside the worker's app context."""

from __future__ import annotations

import logging
from dataclasses import asdict

from rq import get_current_job

from app.services.delivery import deliver_batch

log = logging.getLogger(__name__)


def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Deliver one batch; a second run of the same job finds nothing left to claim."""
    if not isinstance(notification_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in notification_ids
    ):
        raise TypeError("deliver_notifications takes a list of notification ids")
    job = get_current_job()
    report = deliver_batch(notification_ids, job.id if job else None)
    log.info("delivery batch: %s", asdict(report))
    return asdict(report)
