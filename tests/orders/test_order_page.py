"""The manager's order page after the outcome: what it offers and what it says."""

from django.urls import reverse

from orders import batching
from orders.answers import record_decision
from orders.models import OrderLine
from orders.services import cancel_line
from tests.factories import order_for

from .test_payroll_views import pdf_text


def page(client, order) -> str:
    url = reverse("orders:detail", kwargs={"public_id": order.public_id})
    return client.get(url).content.decode()


def letter_url(order, which="letter") -> str:
    return reverse("orders:letter", kwargs={"public_id": order.public_id, "which": which})


def ordered(order, payroll):
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)


def test_may_not_employ_shows_a_clear_badge_payrolls_contact_and_no_letter(
    client, school, teacher, school_manager, payroll, settings
):
    settings.PAYROLL_CONTACT = "Løn og Personale, tlf. 70 10 20 30"
    order = order_for(unit=school, profile=teacher, by=school_manager)
    ordered(order, payroll)
    line = order.lines.get(kind__code="child")
    OrderLine.objects.filter(pk=line.pk).update(status=OrderLine.Status.IN_REVIEW)
    record_decision(line=line, decision="may_not_employ", by=payroll, key="test")
    client.force_login(school_manager)

    html = page(client, order)

    assert '<span class="status status-rejected">Kan ikke ansættes</span>' in html
    assert "Lønkontoret: Løn og Personale, tlf. 70 10 20 30" in html
    assert letter_url(order) not in html
    assert client.get(letter_url(order)).status_code == 404
    assert client.get(letter_url(order, "receipt")).status_code == 200


def test_a_cancelled_order_offers_no_letter_to_the_new_hire(
    client, school, teacher, school_manager
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    for line in order.lines.all():
        cancel_line(line=line, by=school_manager)
    client.force_login(school_manager)
    assert letter_url(order) not in page(client, order)
    assert client.get(letter_url(order)).status_code == 404


def test_an_order_going_ahead_still_offers_the_letter(client, school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(school_manager)
    assert letter_url(order) in page(client, order)


def test_the_manager_does_not_see_payrolls_batch_steps(
    client, school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]
    batching.mark_batch_ordered(batch=batch, by=payroll)
    batching.undo_batch_ordered(batch=batch, by=payroll)
    batching.mark_batch_ordered(batch=batch, by=payroll)

    client.force_login(school_manager)
    manager_view = page(client, order)
    assert "Bestilt hos politiet" in manager_view
    assert batch.reference not in manager_view
    assert "fortrudt" not in manager_view.lower() and "politibatch" not in manager_view.lower()

    client.force_login(payroll)
    payroll_view = page(client, order)
    assert batch.reference in payroll_view and "fortrudt" in payroll_view.lower()


def test_the_receipt_after_the_police_order_no_longer_says_payroll_will_order(
    client, school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(school_manager)
    before = pdf_text(client.get(letter_url(order, "receipt")))
    assert "Lønkontoret bestiller attesterne" in before
    ordered(order, payroll)
    after = pdf_text(client.get(letter_url(order, "receipt")))
    assert "Lønkontoret bestiller attesterne" not in after
    assert "Lønkontoret har bestilt attesterne hos politiet" in after
