"""Which status an order line may take after which: one table (orders.timeline.ALLOWED_MOVES),
held by change_line_status whoever calls it, and every move on the timeline once."""

import itertools
import random

import pytest
from django.db import transaction

from orders.demo import seed_timeline
from orders.models import OrderEvent, OrderLine
from orders.services import ROBOT, OrderError, change_line_status
from orders.timeline import ALLOWED_MOVES

from ..factories import order_for

Status = OrderLine.Status
MOVES = list(itertools.product(Status, Status))
ALLOWED = [(seen, to) for seen, to in MOVES if to in ALLOWED_MOVES[seen]]
REFUSED = [(seen, to) for seen, to in MOVES if to not in ALLOWED_MOVES[seen]]


def move_id(move) -> str:
    return "->".join(move)


@pytest.fixture
def line_in(school, teacher, school_manager):
    """A line of a placed order, put in the given status the way no service would."""

    def make(status: str) -> OrderLine:
        order = order_for(unit=school, profile=teacher, by=school_manager)
        line = order.lines.get(kind__code="child")
        OrderLine.objects.filter(pk=line.pk).update(status=status)
        line.refresh_from_db()
        return line

    return make


def moves_on_the_timeline(line: OrderLine) -> list[tuple[str, str]]:
    return list(
        line.events.exclude(action=OrderEvent.Action.PLACED).values_list("from_status", "to_status")
    )


def test_the_table_says_where_every_status_may_go():
    assert set(ALLOWED_MOVES) == set(Status)
    assert all(to in Status for targets in ALLOWED_MOVES.values() for to in targets)
    assert not [status for status, targets in ALLOWED_MOVES.items() if status in targets]


def test_nothing_leaves_cancelled_or_expired_but_a_new_line():
    assert ALLOWED_MOVES[Status.CANCELLED] == ALLOWED_MOVES[Status.EXPIRED] == set()


@pytest.mark.parametrize(("seen", "to"), ALLOWED, ids=map(move_id, ALLOWED))
def test_an_allowed_move_changes_the_line_and_writes_one_event(line_in, payroll, seen, to):
    line = line_in(seen)

    moved = change_line_status(line=line, to=to, by=payroll, action=OrderEvent.Action.RECEIVED)

    assert moved is True
    stored = OrderLine.objects.get(pk=line.pk)
    assert (stored.status, stored.status_changed_at) == (to, line.status_changed_at)
    assert moves_on_the_timeline(line) == [(seen, to)]
    event = line.events.get(action=OrderEvent.Action.RECEIVED)
    assert (event.order_id, event.actor, event.at) == (
        line.order_id,
        payroll,
        stored.status_changed_at,
    )


@pytest.mark.parametrize(("seen", "to"), REFUSED, ids=map(move_id, REFUSED))
def test_a_refused_move_raises_and_writes_nothing(line_in, seen, to):
    line = line_in(seen)
    events = line.events.count()

    with pytest.raises(OrderError, match="cannot be moved|kan ikke"), transaction.atomic():
        change_line_status(line=line, to=to, by=ROBOT, action=OrderEvent.Action.RECEIVED)

    assert OrderLine.objects.get(pk=line.pk).status == seen
    assert line.events.count() == events


def test_a_line_another_transaction_moved_is_left_alone(line_in):
    line = line_in(Status.ORDERED)
    OrderLine.objects.filter(pk=line.pk).update(status=Status.EXPIRED)  # since it was read

    moved = change_line_status(
        line=line, to=Status.CLEARED, by=ROBOT, action=OrderEvent.Action.RECEIVED
    )

    assert moved is False
    assert (line.status, OrderLine.objects.get(pk=line.pk).status) == ("ordered", "expired")
    assert moves_on_the_timeline(line) == []


def test_the_demo_history_records_only_moves_the_table_allows(
    school, teacher, school_manager, payroll
):
    seed_timeline(
        random.Random(3),
        first_day=120,
        last_day=0,
        per_weekday=2,
        serial=0,
        total_days=120,
        profiles=[teacher],
        orderers={school.pk: school_manager},
        payroll=payroll,
    )

    moves = set(OrderEvent.objects.exclude(from_status="").values_list("from_status", "to_status"))
    assert moves and moves <= set(ALLOWED)
