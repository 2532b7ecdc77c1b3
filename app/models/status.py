"""Notification statuses and the only legal ways to move between them.

Every status change in the product goes through `sources_of` (set-based compare-and-set
updates use it as their WHERE clause), so a change this table does not allow cannot happen,
whichever code path asks for it.
"""

from __future__ import annotations

from app.vocabulary import Vocabulary


class Status(Vocabulary):
    SCHEDULED = "scheduled"  # waiting for its time (or for quiet hours to end)
    QUEUED = "queued"  # due; a job is on Redis for it
    SENDING = "sending"  # claimed by a worker; the provider is being called
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider (or the inbox) confirmed delivery
    READ = "read"  # the patient opened it in the inbox
    FAILED = "failed"  # gave up: permanent error, retries exhausted, or bounced
    CANCELLED = "cancelled"  # withdrawn before a worker claimed it
    SUPPRESSED = "suppressed"  # never sent: opted out, preference off, or no address

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_pending(self) -> bool:
        """Not yet claimed by a worker, so it may still be cancelled or rescheduled."""
        return self in PENDING

    @property
    def is_final(self) -> bool:
        """Nothing more will be attempted: only a provider's receipt or the patient moves it on."""
        return self in FINAL


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SCHEDULED: frozenset(
        {Status.SCHEDULED, Status.QUEUED, Status.SENDING, Status.CANCELLED}
    ),
    Status.QUEUED: frozenset(
        {
            Status.SCHEDULED,
            Status.QUEUED,
            Status.SENDING,
            Status.CANCELLED,
            Status.DELIVERED,  # a receipt for an ambiguous attempt: its retry is not needed
        }
    ),
    Status.SENDING: frozenset(
        {
            Status.SENT,
            Status.DELIVERED,  # in-app items are delivered the moment they are stored
            Status.QUEUED,  # retry, or recovery after a worker died mid-delivery
            Status.SCHEDULED,  # deferred by quiet hours
            Status.FAILED,
            Status.SUPPRESSED,  # the patient opted out after the notification was created
        }
    ),
    Status.SENT: frozenset({Status.DELIVERED, Status.READ, Status.FAILED}),
    Status.DELIVERED: frozenset({Status.READ}),
    Status.READ: frozenset(),
    # Given up on, yet a receipt for an ambiguous attempt says the patient has it: believed.
    Status.FAILED: frozenset({Status.DELIVERED}),
    Status.CANCELLED: frozenset(),
    Status.SUPPRESSED: frozenset(),
}

PENDING = frozenset({Status.SCHEDULED, Status.QUEUED})
FINAL = frozenset({Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED, Status.CANCELLED, Status.SUPPRESSED})
# Moves only a provider's receipt for an ambiguous attempt may make (`transitions.confirm_delivered`).
AFTER_AMBIGUOUS = frozenset({(Status.QUEUED, Status.DELIVERED), (Status.FAILED, Status.DELIVERED)})
UNREAD_INBOX = frozenset({Status.SENT, Status.DELIVERED})


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def sources_of(target: Status) -> frozenset[Status]:
    """Statuses from which `target` may be reached: the WHERE clause of a compare-and-set."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
