"""Correcting an order: the manager until payroll has it, payroll afterwards, every
correction on the timeline, and the CPR number checked as when ordering."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.answers import anonymise_order
from orders.batching import mark_batch_ordered, prepare_batches
from orders.models import AccessLog, OrderEvent
from orders.services import ROBOT, DuplicateOrder, OrderError, correct_order
from portal.cpr import hash_cpr

from ..factories import make_cpr, order_for


@pytest.fixture
def order(school, teacher, school_manager):
    return order_for(unit=school, profile=teacher, by=school_manager, name="Sofie Holm")


def later(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def edited_events(order):
    return list(OrderEvent.objects.filter(order=order, action=OrderEvent.Action.EDITED))


def test_the_manager_corrects_name_and_start_date_before_batching_on_the_timeline(
    order, school_manager
):
    correction = correct_order(
        order=order, by=school_manager, full_name="Sofie Holm Jensen", start_date=later(30)
    )

    order.refresh_from_db()
    assert (order.full_name, order.start_date) == ("Sofie Holm Jensen", later(30))
    assert not correction.tell_police
    [event] = edited_events(order)
    assert event.actor == school_manager
    assert "Sofie Holm → Sofie Holm Jensen" in event.note
    assert "Startdato" in event.note
    assert AccessLog.objects.filter(order=order, action="edit_order").count() == 1


def test_anonymising_the_order_forgets_the_names_in_its_corrections(
    order, school_manager, payroll, client
):
    correct_order(
        order=order, by=school_manager, full_name="Sofie Holm Jensen", start_date=later(30)
    )

    anonymise_order(order=order, by=ROBOT)

    for event in OrderEvent.objects.filter(order=order):
        assert "Sofie" not in event.note and "Holm" not in event.note
    assert OrderEvent.objects.filter(order=order, action=OrderEvent.Action.EDITED).exists()
    client.force_login(payroll)
    page = client.get(reverse("orders:detail", kwargs={"public_id": order.public_id}))
    assert "Sofie" not in page.content.decode() and "Holm" not in page.content.decode()


def test_saving_without_changes_writes_nothing(order, school_manager):
    correction = correct_order(
        order=order, by=school_manager, full_name=order.full_name, start_date=order.start_date
    )

    assert correction.changes == []
    assert edited_events(order) == []


def test_after_batching_the_manager_cannot_correct_but_payroll_can(order, school_manager, payroll):
    prepare_batches(by=payroll)

    with pytest.raises(OrderError, match="lønkontoret|payroll"):
        correct_order(
            order=order, by=school_manager, full_name="Sofie Jensen", start_date=order.start_date
        )
    correction = correct_order(
        order=order, by=payroll, full_name="Sofie Jensen", start_date=order.start_date
    )

    order.refresh_from_db()
    assert order.full_name == "Sofie Jensen"
    assert not correction.tell_police  # the batch has not been sent yet
    [event] = edited_events(order)
    assert event.actor == payroll


def test_a_correction_after_the_police_were_asked_says_the_police_must_be_told(order, payroll):
    batch = prepare_batches(by=payroll)[0]
    mark_batch_ordered(batch=batch, by=payroll)

    correction = correct_order(
        order=order, by=payroll, full_name=order.full_name, start_date=later(40)
    )

    assert correction.tell_police
    [event] = edited_events(order)
    assert "Politiet har de gamle oplysninger" in event.note


def test_the_cpr_number_is_corrected_before_batching_and_moves_every_line(order, school_manager):
    new_cpr = make_cpr("020291")

    correct_order(
        order=order,
        by=school_manager,
        full_name=order.full_name,
        start_date=order.start_date,
        cpr=new_cpr,
    )

    order.refresh_from_db()
    assert order.person.cpr_hash == hash_cpr(new_cpr)
    assert {line.person_id for line in order.lines.all()} == {order.person_id}
    [event] = edited_events(order)
    assert new_cpr not in event.note and new_cpr[:6] not in event.note


def test_a_corrected_cpr_number_that_already_has_an_open_order_is_refused(
    school, teacher, school_manager, order
):
    other_cpr = make_cpr("030392")
    other = order_for(unit=school, profile=teacher, by=school_manager, cpr=other_cpr)

    with pytest.raises(DuplicateOrder) as error:
        correct_order(
            order=order,
            by=school_manager,
            full_name=order.full_name,
            start_date=order.start_date,
            cpr=other_cpr,
        )

    assert error.value.line.order == other
    order.refresh_from_db()
    assert order.person.cpr_hash != hash_cpr(other_cpr)


def test_a_duplicate_in_another_unit_is_refused_without_naming_it(
    care_home, care_helper, care_manager, school_manager, order
):
    other_cpr = make_cpr("040493")
    order_for(unit=care_home, profile=care_helper, by=care_manager, cpr=other_cpr)
    # The care helper's certificate is a public criminal-record one, as the teacher's.

    with pytest.raises(OrderError) as error:
        correct_order(
            order=order,
            by=school_manager,
            full_name=order.full_name,
            start_date=order.start_date,
            cpr=other_cpr,
        )

    assert not isinstance(error.value, DuplicateOrder)
    assert "Plejecenter" not in str(error.value)


def test_the_cpr_number_cannot_change_after_batching_even_for_payroll(order, payroll):
    prepare_batches(by=payroll)

    with pytest.raises(OrderError):
        correct_order(
            order=order,
            by=payroll,
            full_name=order.full_name,
            start_date=order.start_date,
            cpr=make_cpr("050594"),
        )


# Through the pages -----------------------------------------------------------------------


def test_the_manager_corrects_the_order_in_the_browser_form(client, order, school_manager):
    client.force_login(school_manager)
    detail = reverse("orders:detail", kwargs={"public_id": order.public_id})
    url = reverse("orders:correct", kwargs={"public_id": order.public_id})
    assert url in client.get(detail).content.decode()

    response = client.post(
        url,
        {"full_name": "Sofie Holm Jensen", "start_date": later(21).isoformat(), "cpr": ""},
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == detail
    assert "Bestillingen er rettet" in page
    assert "Sofie Holm → Sofie Holm Jensen" in page


def test_the_form_refuses_a_bad_cpr_number_and_a_past_start_date(client, order, school_manager):
    client.force_login(school_manager)
    url = reverse("orders:correct", kwargs={"public_id": order.public_id})

    response = client.post(
        url,
        {
            "full_name": order.full_name,
            "start_date": later(-3).isoformat(),
            "cpr": "12345",
        },
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"cpr", "start_date"}
    assert edited_events(order) == []


@pytest.mark.parametrize("who", ["care_manager", "admin_user"])
def test_another_units_manager_and_an_administrator_without_a_unit_get_404(
    client, order, who, request
):
    client.force_login(request.getfixturevalue(who))
    url = reverse("orders:correct", kwargs={"public_id": order.public_id})

    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"full_name": "X Y", "start_date": later(20).isoformat()}).status_code
        == 404
    )
    order.refresh_from_db()
    assert order.full_name == "Sofie Holm"
    assert edited_events(order) == []


def test_opening_the_correction_form_is_logged_as_a_view_of_the_order(
    client, order, school_manager
):
    client.force_login(school_manager)

    response = client.get(reverse("orders:correct", kwargs={"public_id": order.public_id}))

    assert "Sofie Holm" in response.content.decode()
    assert AccessLog.objects.filter(
        user=school_manager, order=order, action=AccessLog.Action.VIEW_ORDER
    ).exists()


def test_after_batching_the_manager_is_sent_back_and_payroll_is_warned_about_the_police(
    client, order, school_manager, payroll
):
    batch = prepare_batches(by=payroll)[0]
    mark_batch_ordered(batch=batch, by=payroll)
    url = reverse("orders:correct", kwargs={"public_id": order.public_id})
    detail = reverse("orders:detail", kwargs={"public_id": order.public_id})

    client.force_login(school_manager)
    assert url not in client.get(detail).content.decode()
    refused = client.post(
        url, {"full_name": "Sofie Jensen", "start_date": order.start_date.isoformat()}, follow=True
    )
    assert "Kontakt lønkontoret" in refused.content.decode()

    client.force_login(payroll)
    form = client.get(url)
    assert "cpr" not in form.context["form"].fields
    corrected = client.post(
        url, {"full_name": "Sofie Jensen", "start_date": order.start_date.isoformat()}, follow=True
    )
    assert "fortæl politiet" in corrected.content.decode().lower()
    order.refresh_from_db()
    assert order.full_name == "Sofie Jensen"
