import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order, OrderLine, Person
from orders.services import DuplicateOrder, place_order

from ..factories import make_cpr


def run_concurrently(*calls):
    """Run the calls in threads that start together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # reported to the test below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_form_make_one_order(school, teacher, school_manager):
    kwargs = dict(
        by=school_manager,
        unit=school,
        profile=teacher,
        full_name="Ida Berg",
        cpr=make_cpr(),
        start_date=timezone.localdate(),
        child_contact=None,
        submission_token=uuid.uuid4(),
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
    )

    first, second = run_concurrently(lambda: place_order(**kwargs), lambda: place_order(**kwargs))

    assert isinstance(first, Order) and first == second
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2
    assert Person.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_managers_ordering_the_same_person_at_once_make_one_open_line(
    school, teacher, school_manager, payroll
):
    cpr = make_cpr()

    def order(user):
        return lambda: place_order(
            by=user,
            unit=school,
            profile=teacher,
            full_name="Ida Berg",
            cpr=cpr,
            start_date=timezone.localdate(),
            child_contact=None,
            submission_token=uuid.uuid4(),
            legal_bases=[r.legal_basis for r in teacher.requirements.all()],
        )

    results = run_concurrently(order(school_manager), order(payroll))

    assert sorted(type(r).__name__ for r in results) == ["DuplicateOrder", "Order"]
    assert all(isinstance(r, (Order, DuplicateOrder)) for r in results)
    assert OrderLine.objects.open().count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_clerks_preparing_batches_at_once_never_share_a_line(
    school, teacher, school_manager, payroll
):
    from orders.batching import prepare_batches
    from orders.models import PoliceBatch

    from ..factories import UserFactory, order_for

    other_clerk = UserFactory(username="loen2", is_payroll=True)
    for _ in range(60):
        order_for(unit=school, profile=teacher, by=school_manager)

    results = run_concurrently(
        lambda: prepare_batches(by=payroll), lambda: prepare_batches(by=other_clerk)
    )

    from orders.models import OrderEvent

    assert not [r for r in results if isinstance(r, Exception)], results
    assert OrderLine.objects.filter(batch__isnull=True).count() == 0
    # Each line was put in a batch exactly once, by one of the two clerks.
    batched = OrderEvent.objects.filter(action="batched")
    assert batched.count() == 120
    assert batched.values("line").distinct().count() == 120
    sizes = [b.lines.count() for b in PoliceBatch.objects.all()]
    assert all(0 < size <= 50 for size in sizes)
