"""The benchmark seeder writes a history the portal can read: valid, distinct CPR numbers,
every status, lines in batches of at most 50, and pages that open on it."""

import pytest
from django.db.models import Count

from bench.seed import seed_history, synthetic_cpr
from orders.models import Order, OrderLine, PoliceBatch
from portal.cpr import hash_cpr, normalise_cpr
from portal.models import Unit


def test_synthetic_cpr_numbers_are_valid_and_never_repeat():
    numbers = [synthetic_cpr(i) for i in range(150_000)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[::97] + numbers[-500:]:
        assert normalise_cpr(number) == number  # python-stdnum's check, as the order form


@pytest.mark.django_db
def test_seeded_history_is_readable_by_the_portal(client):
    report = seed_history(orders=1500, years=2, units=30)

    assert Order.objects.count() == report.orders == 1500
    assert Unit.objects.count() == 30
    statuses = set(OrderLine.objects.values_list("status", flat=True))
    assert {"new", "ordered", "cleared", "refused", "expired", "cancelled"} <= statuses
    order = Order.objects.filter(created_by__isnull=False).select_related("person").first()
    assert order.person.cpr_hash == hash_cpr(order.person.cpr)
    assert max(PoliceBatch.objects.annotate(n=Count("lines")).values_list("n", flat=True)) <= 50

    client.force_login(order.created_by)
    assert client.get(f"/bestillinger/{order.public_id}/").status_code == 200
