"""A query compiled once and run again with other values gives what the queryset gives."""

import pytest
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.transaction import TransactionManagementError

from orders.models import OrderLine
from portal.compiled import CompiledQuery
from portal.cpr import hash_cpr

from ..factories import make_cpr, order_for


def lines_of(cpr_hash, kind_code):
    return (
        OrderLine.objects.filter(person__cpr_hash=cpr_hash, kind__code=kind_code)
        .select_related("order__unit", "kind")
        .annotate(event_count=Count("events"), unit_name=F("order__unit__name"))
        .order_by("pk")
    )


def seen(line: OrderLine) -> tuple:
    """Everything a caller reads from a line: its fields, the related objects, annotations."""
    return (
        {f.attname: getattr(line, f.attname) for f in OrderLine._meta.concrete_fields},
        line.order.public_id,
        line.order.created_at,
        line.order.unit.name,
        line.kind.code,
        line.event_count,
        line.unit_name,
    )


@pytest.fixture
def two_people(school, teacher, school_manager):
    cprs = [make_cpr("010190"), make_cpr("020290")]
    for cpr in cprs:
        order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)
    return [hash_cpr(cpr) for cpr in cprs]


def test_each_run_gives_the_querysets_instances_for_its_own_values(
    two_people, django_assert_num_queries
):
    compiled = CompiledQuery(lines_of, cpr_hash=str, kind_code=str)

    for cpr_hash in two_people:
        for kind_code in ("child", "criminal_public"):
            expected = [seen(line) for line in lines_of(cpr_hash, kind_code)]
            with django_assert_num_queries(1):  # related objects came with the row
                got = [seen(line) for line in compiled.run(cpr_hash=cpr_hash, kind_code=kind_code)]
            assert got == expected
            assert len(got) == 1
    assert compiled.run(cpr_hash=hash_cpr(make_cpr("030390")), kind_code="child") == []


def test_an_integer_value_and_a_saved_instance(two_people):
    line = OrderLine.objects.order_by("pk").first()
    compiled = CompiledQuery(lambda pk: OrderLine.objects.filter(pk=pk), pk=int)

    [found] = compiled.run(pk=line.pk)
    found.status = OrderLine.Status.CANCELLED
    found.save(update_fields=["status"])  # a normal instance: it saves as one

    line.refresh_from_db()
    assert line.status == OrderLine.Status.CANCELLED


def test_a_value_the_query_does_not_carry_as_a_parameter_is_refused(db):
    compiled = CompiledQuery(lambda pk: OrderLine.objects.all(), pk=int)

    with pytest.raises(ValueError, match="pk"):
        compiled.run(pk=1)


@pytest.mark.django_db(transaction=True)
def test_a_locking_query_is_refused_outside_a_transaction_as_the_queryset_is(two_people):
    def locking(cpr_hash):
        return OrderLine.objects.select_for_update().filter(person__cpr_hash=cpr_hash)

    compiled = CompiledQuery(locking, cpr_hash=str)
    with transaction.atomic():
        assert len(compiled.run(cpr_hash=two_people[0])) == 2

    def refused(run) -> bool:
        try:
            run()
        except TransactionManagementError:
            return True
        return False

    queryset_refuses = refused(lambda: list(locking(two_people[0])))
    assert refused(lambda: compiled.run(cpr_hash=two_people[0])) == queryset_refuses
    assert queryset_refuses == connection.features.has_select_for_update  # PostgreSQL locks
