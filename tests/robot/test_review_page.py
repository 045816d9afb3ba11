"""The review page as payroll uses it: serious steps ask first and then say what
happens next, manual matching offers only what can be chosen, and the queue shows no
tab that can never fill."""

import re

from django.urls import reverse

from orders.models import OrderLine
from robot.models import Document

from ..factories import UserFactory
from .conftest import sample
from .test_pipeline import receive
from .test_review import assess

NOT_EMPLOY = {
    "relevance": "Relevant for stillingen",
    "discussed": "yes",
    "decision": "may_not_employ",
    "reason": "Nyere sag om vold",
}


def option_values(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S).group()
    return re.findall(r'<option value="([^"]*)"', select)


def preselected(html: str, select_id: str) -> list[str]:
    """The values chosen before the user chooses anything ("" is the prompt)."""
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S).group()
    return [v for v in re.findall(r'<option value="([^"]*)" selected', select) if v]


def test_manual_matching_offers_only_lines_of_the_documents_kind(client, ordered_for, payroll):
    order = ordered_for("1502851357", name="Jens Peter Hansen")  # a teacher: two lines
    # The clean public criminal record certificate, but without the batch reference.
    document = receive("offentlig.pdf", sample("offentlig_straffeattest_ren.pdf"))
    assert document.state == "needs_review" and document.kind.code == "criminal_public"
    client.force_login(payroll)

    html = client.get(reverse("robot:document", args=[document.pk])).content.decode()

    public = order.lines.get(kind__code="criminal_public")
    assert option_values(html, "resolve_line") == ["", str(public.pk)]
    assert preselected(html, "resolve_outcome") == [] and preselected(html, "resolve_line") == []


def test_an_unrecognised_document_offers_every_open_line_and_no_outcome(
    client, ordered_for, payroll
):
    order = ordered_for("0101904321")
    document = receive("scan.pdf", sample("ukendt_dokument.pdf"))
    client.force_login(payroll)
    html = client.get(reverse("robot:document", args=[document.pk])).content.decode()
    lines = {str(pk) for pk in order.lines.values_list("pk", flat=True)}
    assert lines <= set(option_values(html, "resolve_line"))
    assert preselected(html, "resolve_outcome") == []


def test_may_not_employ_asks_first_and_then_says_what_happens_next(client, ordered_for, payroll):
    order = ordered_for("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")
    client.force_login(payroll)
    url = reverse("robot:document_assess", args=[document.pk])

    asked = client.post(url, NOT_EMPLOY)

    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Beslut, at Søren Ærøe ikke kan ansættes?" in html
    assert 'name="confirmed" value="yes"' in html
    assert Document.objects.get(pk=document.pk).state == "not_clean"  # nothing saved yet

    done = client.post(url, {**NOT_EMPLOY, "confirmed": "yes"}, follow=True)

    text = done.content.decode()
    assert order.lines.get(kind__code="child").status == OrderLine.Status.REJECTED
    assert "Vurderingen er gemt: kan ikke ansættes." in text
    assert "lederen får kun afgørelsen at vide" in text
    assert "Gemt." not in text


def test_may_employ_is_saved_without_a_confirmation_step(client, ordered_for, payroll):
    order = ordered_for("1111803335")
    document = receive("boerneattest_plettet.pdf")
    client.force_login(payroll)
    response = client.post(
        reverse("robot:document_assess", args=[document.pk]),
        {**NOT_EMPLOY, "decision": "may_employ"},
    )
    assert response.status_code == 302
    assert order.lines.get(kind__code="child").status == OrderLine.Status.CLEARED


def test_discarding_asks_first_and_then_says_what_happens_next(client, rules, payroll):
    document = receive("scan.pdf", sample("ukendt_dokument.pdf"))
    client.force_login(payroll)
    url = reverse("robot:document_discard", args=[document.pk])

    asked = client.post(url, {"reason": "Lønseddel"})
    assert "Kassér scan.pdf?" in asked.content.decode()
    assert Document.objects.get(pk=document.pk).state == "needs_review"

    done = client.post(url, {"reason": "Lønseddel", "confirmed": "yes"}, follow=True)
    assert Document.objects.get(pk=document.pk).state == "discarded"
    assert "scan.pdf er kasseret: det er taget ud af køen" in done.content.decode()


def test_with_four_eyes_the_assessment_waits_in_its_own_tab(client, ordered_for, payroll, settings):
    settings.REVIEW_FOUR_EYES = True
    ordered_for("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")
    client.force_login(payroll)

    done = client.post(
        reverse("robot:document_assess", args=[document.pk]),
        {**NOT_EMPLOY, "decision": "may_employ"},
        follow=True,
    )
    assert "En kollega i lønkontoret skal godkende vurderingen" in done.content.decode()

    waiting = client.get(reverse("robot:queue"), {"state": "awaiting_approval"})
    assert "boerneattest_plettet.pdf" in waiting.content.decode()

    colleague = UserFactory(username="loen2", is_payroll=True)
    client.force_login(colleague)
    approved = client.post(
        reverse("robot:document_approve", args=[document.pk]), {"answer": "approve"}, follow=True
    )
    assert "Godkendt:" in approved.content.decode()


def test_without_four_eyes_no_tab_waits_for_a_colleague(client, ordered_for, payroll):
    ordered_for("1111803335")
    document = receive("boerneattest_plettet.pdf")
    assess(document, payroll)
    client.force_login(payroll)
    html = client.get(reverse("robot:queue")).content.decode()
    assert "state=awaiting_approval" not in html


def test_a_certificate_nobody_here_ordered_is_set_aside_as_not_ordered_after_asking(
    client, rules, payroll
):
    document = receive("boerneattest_ren.pdf")  # no order for this person
    assert document.state == "no_order"
    client.force_login(payroll)
    url = reverse("robot:document_not_ordered", args=[document.pk])

    page = client.get(reverse("robot:document", args=[document.pk])).content.decode()
    assert f'action="{url}"' in page and ">Ikke bestilt af os</button>" in page

    asked = client.post(url).content.decode()
    assert "Kassér boerneattest_ren.pdf som ikke bestilt af os?" in asked
    assert "filen slettes fra portalen efter 30 dage" in asked
    assert Document.objects.get(pk=document.pk).state == "no_order"

    done = client.post(url, {"confirmed": "yes"}, follow=True)
    document.refresh_from_db()
    assert (document.state, document.reason) == ("discarded", "Kasseret: Ikke bestilt af os")
    assert document.handled_by == payroll
    assert "boerneattest_ren.pdf er kasseret som ikke bestilt af os" in done.content.decode()


def test_only_a_certificate_without_an_order_offers_not_ordered_by_us(client, rules, payroll):
    document = receive("scan.pdf", sample("ukendt_dokument.pdf"))
    assert document.state == "needs_review"
    client.force_login(payroll)

    page = client.get(reverse("robot:document", args=[document.pk])).content.decode()

    assert "Ikke bestilt af os" not in page
    assert "Ikke en attest" in page
