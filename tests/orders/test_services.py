import datetime
import uuid

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from orders.models import AccessLog, Order, OrderEvent, OrderLine
from orders.services import DuplicateOrder, OrderError, cancel_line, place_order
from portal.cpr import hash_cpr

from ..factories import basis, make_cpr, order_for


def test_place_order_creates_one_line_per_certificate_with_a_timeline(
    school, teacher, school_manager
):
    order = order_for(unit=school, profile=teacher, by=school_manager, name="  Sofie   Holm ")

    lines = list(order.lines.order_by("kind__sort_order"))
    assert [line.kind.code for line in lines] == ["child", "criminal_public"]
    assert {line.status for line in lines} == {OrderLine.Status.NEW}
    assert order.full_name == "Sofie   Holm"
    events = OrderEvent.objects.filter(order=order)
    assert {(e.line_id, e.action, e.to_status, e.actor_id) for e in events} == {
        (line.pk, "placed", "new", school_manager.pk) for line in lines
    }
    assert (
        AccessLog.objects.filter(order=order, action="place_order", user=school_manager).count()
        == 1
    )


def test_cpr_is_stored_encrypted_and_found_by_keyed_hash(school, teacher, school_manager):
    cpr = make_cpr("150385")
    order = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)

    with connection.cursor() as cursor:
        cursor.execute("SELECT cpr_hash, cpr_encrypted FROM orders_person")
        stored = cursor.fetchall()
    assert cpr not in repr(stored)
    assert stored[0][0] == hash_cpr(cpr)
    assert order.person.cpr == cpr
    assert order.person.cpr_masked == "150385-xxxx"


def test_an_open_line_for_the_same_person_and_kind_blocks_a_second_order(
    school, teacher, school_manager
):
    cpr = make_cpr()
    first = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)

    with pytest.raises(DuplicateOrder) as error:
        order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)

    assert error.value.line.order == first
    assert Order.objects.count() == 1


def test_a_cancelled_line_no_longer_blocks_a_new_order(school, teacher, school_manager):
    cpr = make_cpr()
    first = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)
    for line in first.lines.all():
        cancel_line(line=line, by=school_manager)

    second = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)

    assert second.person == first.person
    assert second.lines.open().count() == 2


def test_the_database_refuses_two_open_lines_for_one_person_and_kind(
    school, teacher, school_manager
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    line = order.lines.first()

    # PostgreSQL names the constraint; SQLite names the constrained columns instead.
    with pytest.raises(
        IntegrityError,
        match="orderline_one_open_per_person_and_kind|"
        r"UNIQUE constraint failed: orders_orderline\.person_id, "
        r"orders_orderline\.kind_id",
    ):
        OrderLine.objects.create(
            order=order, person=order.person, kind=line.kind, legal_basis=line.legal_basis
        )


def test_submitting_the_same_form_twice_returns_the_first_order(school, teacher, school_manager):
    token = uuid.uuid4()
    kwargs = dict(
        by=school_manager,
        unit=school,
        profile=teacher,
        full_name="Ida Berg",
        cpr=make_cpr(),
        start_date=timezone.localdate(),
        child_contact=None,
        submission_token=token,
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
    )

    first = place_order(**kwargs)
    second = place_order(**kwargs)

    assert first == second
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2


def test_a_form_token_cannot_be_reused_by_another_user(school, teacher, school_manager, payroll):
    token = uuid.uuid4()
    common = dict(
        unit=school,
        profile=teacher,
        full_name="Ida Berg",
        cpr=make_cpr(),
        start_date=timezone.localdate(),
        child_contact=None,
        submission_token=token,
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
    )
    place_order(by=school_manager, **common)

    with pytest.raises(OrderError, match="Formularen er allerede brugt til en anden bestilling"):
        place_order(by=payroll, **common)


def test_a_position_from_another_area_is_refused(school, care_helper, school_manager):
    with pytest.raises(OrderError, match="Stillingen hører ikke til enhedens forvaltning"):
        order_for(unit=school, profile=care_helper, by=school_manager)
    assert not Order.objects.exists()


def test_an_order_needs_at_least_one_certificate(school, teacher, school_manager):
    with pytest.raises(OrderError, match="Vælg mindst én attest"):
        place_order(
            by=school_manager,
            unit=school,
            profile=teacher,
            full_name="A B",
            cpr=make_cpr(),
            start_date=timezone.localdate(),
            legal_bases=[],
            child_contact=None,
            submission_token=uuid.uuid4(),
        )


def test_cancel_line_records_who_cancelled_it(school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    line = order.lines.get(kind__code="child")

    cancel_line(line=line, by=school_manager)

    line.refresh_from_db()
    assert line.status == OrderLine.Status.CANCELLED
    event = OrderEvent.objects.filter(line=line).last()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "cancelled",
        "new",
        "cancelled",
        school_manager,
    )
    assert order.lines.get(kind__code="criminal_public").status == OrderLine.Status.NEW


@pytest.mark.parametrize("status", ["ordered", "in_review", "cleared", "expired"])
def test_only_lines_not_yet_sent_to_the_police_can_be_cancelled(
    school, teacher, school_manager, status
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    line = order.lines.first()
    OrderLine.objects.filter(pk=line.pk).update(status=status)

    with pytest.raises(
        OrderError, match="Attesten er allerede sendt til politiet og kan ikke annulleres her"
    ):
        cancel_line(line=line, by=school_manager)
    line.refresh_from_db()
    assert line.status == status


def test_start_date_is_kept_as_given(school, teacher, school_manager):
    start = timezone.localdate() + datetime.timedelta(days=30)
    order = order_for(unit=school, profile=teacher, by=school_manager, start_date=start)
    assert Order.objects.get(pk=order.pk).start_date == start


def test_the_same_form_with_another_person_is_refused(school, teacher, school_manager):
    token = uuid.uuid4()
    common = dict(
        by=school_manager,
        unit=school,
        profile=teacher,
        full_name="Ida Berg",
        start_date=timezone.localdate(),
        child_contact=None,
        submission_token=token,
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
    )
    place_order(cpr=make_cpr(), **common)
    with pytest.raises(OrderError, match="Formularen er allerede brugt til en anden bestilling"):
        place_order(cpr=make_cpr("020202"), **common)
    assert Order.objects.count() == 1


def test_a_manager_cannot_order_for_a_unit_they_do_not_belong_to(
    care_home, care_helper, school_manager
):
    with pytest.raises(OrderError, match="Du kan ikke bestille for denne enhed"):
        order_for(unit=care_home, profile=care_helper, by=school_manager)
    assert not Order.objects.exists()


def test_a_required_certificate_cannot_be_left_out(school, teacher, school_manager):
    with pytest.raises(OrderError, match="Der mangler en attest, som stillingen kræver"):
        order_for(unit=school, profile=teacher, by=school_manager, bases=[basis("child")])


def test_a_certificate_outside_the_position_cannot_be_added(school, teacher, school_manager):
    extra = basis("criminal_private")
    with pytest.raises(OrderError, match="Attesterne passer ikke til stillingen"):
        order_for(
            unit=school,
            profile=teacher,
            by=school_manager,
            bases=[r.legal_basis for r in teacher.requirements.all()] + [extra],
        )


def test_cancelling_twice_is_harmless(school, teacher, school_manager):
    line = order_for(unit=school, profile=teacher, by=school_manager).lines.first()
    cancel_line(line=line, by=school_manager)
    cancel_line(line=line, by=school_manager)
    assert OrderEvent.objects.filter(line=line, action="cancelled").count() == 1
