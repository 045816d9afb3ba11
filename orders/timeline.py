"""The timeline of an order: which status an order line may move to, and the one writer
of timeline events. Services decide what happened; only this module writes it down."""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from portal.models import User

from .models import Order, OrderEvent, OrderLine

Status = OrderLine.Status

#: The statuses a line may move to from each status; change_line_status refuses the rest.
#: A line is created as NEW (placing, ordering again) and leaves CANCELLED and EXPIRED only
#: through a new line that replaces it.
ALLOWED_MOVES: dict[Status, set[Status]] = {
    # Ordered at the police (a batch, or singly on paper consent); cancelled before that.
    # A line payroll answers by hand may not have been marked as ordered.
    Status.NEW: {
        Status.ORDERED,
        Status.CANCELLED,
        Status.CLEARED,
        Status.IN_REVIEW,
        Status.REFUSED,
    },
    # Answered; expired without an answer; or back to NEW when payroll undoes
    # "marked as ordered" on the same day.
    Status.ORDERED: {
        Status.NEW,
        Status.CLEARED,
        Status.IN_REVIEW,
        Status.REFUSED,
        Status.EXPIRED,
    },
    # Payroll decides (cleared or may not be employed), or settles two answers: the earlier
    # one stands again, or the later one replaces it.
    Status.IN_REVIEW: {Status.CLEARED, Status.REJECTED, Status.REFUSED},
    # Back to payroll: a second answer arrived, or payroll reopens a clean certificate as
    # not clean (a registration the robot missed).
    Status.CLEARED: {Status.IN_REVIEW},
    Status.REFUSED: {Status.IN_REVIEW},
    Status.REJECTED: {Status.IN_REVIEW},
    Status.EXPIRED: set(),
    Status.CANCELLED: set(),
}


def record_event(
    *,
    action: str,
    actor: User | None,
    order: Order | None = None,
    line: OrderLine | None = None,
    at: datetime.datetime | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> OrderEvent:
    """Write one timeline event: about a line (and so its order), or about the order as a
    whole. `actor` is None when the portal acted on its own."""
    event = _event(
        action=action,
        actor=actor,
        order=order,
        line=line,
        at=at,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    event.save(force_insert=True)
    return event


def record_events(entries: Iterable[Mapping[str, Any]]) -> list[OrderEvent]:
    """Write many timeline events in one statement, each given as record_event's keywords."""
    return OrderEvent.objects.bulk_create(_event(**entry) for entry in entries)


def clear_correction_notes(*, order: Order) -> None:
    """Empty the notes of an order's corrections: they name the hire ("Name: old → new")."""
    OrderEvent.objects.filter(order=order, action=OrderEvent.Action.EDITED).update(note="")


def _event(
    *,
    action: str,
    actor: User | None,
    order: Order | None = None,
    line: OrderLine | None = None,
    at: datetime.datetime | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> OrderEvent:
    if (order is None) == (line is None):
        raise TypeError("A timeline event is about an order or one of its lines.")
    about = {"line": line, "order_id": line.order_id} if line is not None else {"order": order}
    return OrderEvent(
        **about,
        at=at or timezone.now(),
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
