import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from orders import batching
from orders.models import AccessLog, OrderLine

from ..factories import order_for


@pytest.fixture
def batch(school, teacher, school_manager, payroll):
    order_for(unit=school, profile=teacher, by=school_manager, name="Sofie Holm", cpr="1203961234")
    return next(b for b in batching.prepare_batches(by=payroll) if b.kind.code == "child")


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return "\n".join(page.extract_text() for page in reader.pages)


def test_payroll_sees_waiting_groups_and_prepares_batches(
    client, school, teacher, school_manager, payroll
):
    order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(payroll)
    page = client.get(reverse("payroll:batches")).content.decode()
    assert "Ansættelse i folkeskolen (direkte kontakt med elever)" in page

    response = client.post(reverse("payroll:prepare"), follow=True)

    assert OrderLine.objects.filter(batch__isnull=False).count() == 2
    assert "ATT-" in response.content.decode()


def test_the_batch_page_shows_full_cpr_numbers_to_payroll_and_logs_it(client, batch, payroll):
    client.force_login(payroll)
    response = client.get(reverse("payroll:batch", kwargs={"pk": batch.pk}))
    html = response.content.decode()
    assert "120396-1234 Sofie Holm" in html
    assert batch.reference in html and "https://politi.dk/boerneattest" in html
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get(action="view_batch")
    assert log.user == payroll and log.person.cpr == "1203961234"


def test_the_batch_csv_is_for_excel_and_logged(client, batch, payroll):
    client.force_login(payroll)
    response = client.get(reverse("payroll:batch_csv", kwargs={"pk": batch.pk}))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "120396-1234;Sofie Holm;Nordskolen;Børneattest" in text
    assert AccessLog.objects.filter(action="download_batch").count() == 1


def test_marking_ordered_from_the_page(client, batch, payroll):
    client.force_login(payroll)
    response = client.post(reverse("payroll:batch_ordered", kwargs={"pk": batch.pk}), follow=True)
    assert response.status_code == 200
    assert OrderLine.objects.get(batch=batch).status == "ordered"
    again = client.post(reverse("payroll:batch_ordered", kwargs={"pk": batch.pk}), follow=True)
    assert again.status_code == 200
    assert len(list(again.context["messages"])) == 1


def test_the_hire_letter_reads_back_in_danish(client, school, teacher, school_manager):
    order = order_for(
        unit=school, profile=teacher, by=school_manager, name="Sofie Holm", cpr="1203961234"
    )
    client.force_login(school_manager)
    response = client.get(
        reverse("orders:letter", kwargs={"public_id": order.public_id, "which": "letter"})
    )
    text = pdf_text(response)
    assert "Sofie Holm" in text and "Børneattest" in text and "Offentlig straffeattest" in text
    assert "Ansættelse i folkeskolen" in text
    assert "14 dage" in text and "Digital Post" in text and "MitID" in text
    assert "1203961234" not in text.replace(" ", "") and "120396-1234" not in text
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert AccessLog.objects.filter(action="download_letter", order=order).exists()


def test_the_paper_consent_form_has_signature_lines_and_no_cpr(
    client, school, teacher, school_manager
):
    order = order_for(
        unit=school, profile=teacher, by=school_manager, name="Sofie Holm", cpr="1203961234"
    )
    client.force_login(school_manager)
    text = pdf_text(
        client.get(
            reverse("orders:letter", kwargs={"public_id": order.public_id, "which": "consent"})
        )
    )
    assert "Sofie Holm" in text and "Rigspolitiet" in text
    assert "højst et år" in text
    assert "Underskrift" in text and "120396" not in text


def test_the_receipt_shows_the_masked_cpr(client, school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager, cpr="1203961234")
    client.force_login(school_manager)
    text = pdf_text(
        client.get(
            reverse("orders:letter", kwargs={"public_id": order.public_id, "which": "receipt"})
        )
    )
    assert "120396-xxxx" in text and "Nordskolen" in text


def test_an_unknown_letter_is_404(client, school, teacher, school_manager):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(school_manager)
    response = client.get(f"/bestillinger/{order.public_id}/hemmelig.pdf")
    assert response.status_code == 404


def test_the_batches_overview_is_access_logged(client, school, teacher, school_manager, payroll):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(payroll)
    client.get(reverse("payroll:batches"))
    assert AccessLog.objects.filter(action="list_orders", user=payroll, order=order).exists()


def test_a_dissolved_batch_page_offers_nothing_to_copy(client, batch, payroll):
    batching.release_batch(batch=batch, by=payroll)
    client.force_login(payroll)
    html = client.get(reverse("payroll:batch", kwargs={"pk": batch.pk})).content.decode()
    assert "Markér som bestilt" not in html and "data-copy" not in html


@pytest.fixture
def paper_line(school, teacher, school_manager):
    order = order_for(
        unit=school,
        profile=teacher,
        by=school_manager,
        name="Sofie Holm",
        cpr="1203961234",
        digital_post_exempt=True,
    )
    return order.lines.get(kind__code="child")


def test_payroll_opens_a_paper_order_and_gets_its_reference_to_copy(client, payroll, paper_line):
    client.force_login(payroll)
    listing = client.get(reverse("payroll:batches")).content.decode()
    assert reverse("payroll:paper_order", args=[paper_line.pk]) in listing

    response = client.post(reverse("payroll:paper_order", args=[paper_line.pk]), follow=True)

    batch = OrderLine.objects.get(pk=paper_line.pk).batch
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("payroll:batch", args=[batch.pk])
    assert f"Bestilling med samtykke på papir {batch.reference}" in page
    assert f'<code id="requester-text">{batching.requester_text(batch)}</code>' in page
    assert 'data-copy="#requester-text"' in page
    assert "120396-1234 Sofie Holm" in page
    assert reverse("orders:letter", args=[paper_line.order.public_id, "consent"]) in page
    assert "Hent som CSV" not in page
    # Back on the overview the line leads to the same step, and the open step is not
    # mistaken for a mass order waiting to be sent.
    listing = client.get(reverse("payroll:batches")).content.decode()
    assert reverse("payroll:batch", args=[batch.pk]) in listing
    assert "Ingen klargjorte batches." in listing

    client.post(reverse("payroll:batch_ordered", args=[batch.pk]))

    assert OrderLine.objects.get(pk=paper_line.pk).status == "ordered"
    listing = client.get(reverse("payroll:batches")).content.decode()
    assert f"{batch.reference}</a> (samtykke på papir)" in listing


def test_a_manager_never_sees_a_paper_orders_reference(client, payroll, paper_line, school_manager):
    batch = batching.prepare_paper_batch(line=paper_line, by=payroll)
    batching.mark_batch_ordered(batch=batch, by=payroll)
    order = paper_line.order
    client.force_login(school_manager)

    assert client.get(reverse("payroll:batch", args=[batch.pk])).status_code == 404
    assert client.post(reverse("payroll:paper_order", args=[paper_line.pk])).status_code == 404
    page = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    consent_form = pdf_text(client.get(reverse("orders:letter", args=[order.public_id, "consent"])))
    for shown in (page, consent_form):
        assert batch.secret not in shown and batch.reference not in shown
