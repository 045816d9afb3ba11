"""Orders' one door for a certificate's result: a line answered once, whoever holds an old
copy of it, and a timeline that says what really happened."""

import pytest
from django.db import transaction

from orders.answers import record_certificate_result
from orders.models import OrderEvent, OrderLine
from orders.services import ROBOT, OrderError

from ..factories import order_for
from .test_concurrency import run_concurrently


@pytest.fixture
def ordered_line(school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    order.lines.update(status=OrderLine.Status.ORDERED)
    return order.lines.get(kind__code="child")


def received(line):
    return list(
        OrderEvent.objects.filter(line=line, action=OrderEvent.Action.RECEIVED).values_list(
            "from_status", "to_status"
        )
    )


def test_a_second_answer_from_an_old_copy_of_the_line_is_refused(ordered_line):
    stale = OrderLine.objects.get(pk=ordered_line.pk)  # read while the line was ordered
    record_certificate_result(line=ordered_line, result="clean", by=ROBOT)

    with pytest.raises(OrderError), transaction.atomic():
        record_certificate_result(line=stale, result="refused", by=ROBOT)

    ordered_line.refresh_from_db()
    assert ordered_line.status == "cleared"
    assert received(ordered_line) == [("ordered", "cleared")]


def test_an_old_copy_may_still_reopen_a_cleared_line_and_the_timeline_says_from_what(
    ordered_line,
):
    stale = OrderLine.objects.get(pk=ordered_line.pk)
    record_certificate_result(line=ordered_line, result="clean", by=ROBOT)

    line = record_certificate_result(line=stale, result="not_clean", by=ROBOT)

    assert line.status == "in_review"
    assert OrderLine.objects.get(pk=stale.pk).status == "in_review"
    assert received(line) == [("ordered", "cleared"), ("cleared", "in_review")]


@pytest.mark.django_db(transaction=True)
def test_two_workers_answering_one_line_at_once_answer_it_once(school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    order.lines.update(status=OrderLine.Status.ORDERED)
    line_id = order.lines.get(kind__code="child").pk

    def answer(result):
        # Each worker read the line as ordered before either wrote.
        line = OrderLine.objects.get(pk=line_id)
        return lambda: record_certificate_result(line=line, result=result, by=ROBOT)

    results = run_concurrently(answer("clean"), answer("refused"))

    assert sorted(type(result).__name__ for result in results) == ["OrderError", "OrderLine"]
    answered = next(result for result in results if isinstance(result, OrderLine))
    assert OrderLine.objects.get(pk=line_id).status == answered.status
    assert len(received(answered)) == 1


@pytest.mark.parametrize("by_robot", [True, False])
def test_an_answer_writes_the_line_and_its_timeline_event_together(ordered_line, payroll, by_robot):
    by = ROBOT if by_robot else payroll

    line = record_certificate_result(line=ordered_line, result="clean", by=by, note="Ren attest")

    stored = OrderLine.objects.get(pk=line.pk)
    event = OrderEvent.objects.get(line=line, action=OrderEvent.Action.RECEIVED)
    assert (stored.status, stored.status_changed_at) == ("cleared", line.status_changed_at)
    assert (event.order_id, event.at, event.actor) == (
        line.order_id,
        stored.status_changed_at,
        None if by_robot else payroll,
    )
    assert (event.from_status, event.to_status, event.note) == ("ordered", "cleared", "Ren attest")
