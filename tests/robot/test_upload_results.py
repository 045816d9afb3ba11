"""Each uploaded file's row says what happened to it, in the colour of the outcome,
and a file received before says so with a link to where it is."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from robot.models import Document
from robot.pipeline import process_document

from .conftest import as_forwarded, as_from_the_police, sample


def upload(client, name: str, data: bytes) -> str:
    """Upload as the page's script does; once a worker has read it, the row as the page
    asks for it again."""
    response = client.post(
        reverse("robot:upload"), {"file": SimpleUploadedFile(name, data), "origin": "digital_post"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    polling = re.search(r'hx-get="([^"]+)"', html)
    if polling is None:
        return html
    for document in Document.objects.filter(state=Document.State.RECEIVED):
        process_document(document_id=document.pk)
    return client.get(polling.group(1)).content.decode()


def badge(html: str) -> tuple[str, str]:
    css, text = re.search(r'<span class="status result-(\w+)">([^<]+)</span>', html).groups()
    return css, text


def test_each_row_says_what_happened(client, ordered_for, payroll):
    ordered_for("0101904321", name="Åse Østergård")
    ordered_for("1111803335", name="Søren Ærøe")
    ordered_for("1205882468", name="Bo Afslag")
    client.force_login(payroll)

    clean = upload(client, "ren.pdf", as_from_the_police(sample("boerneattest_ren.pdf")))
    not_clean = upload(client, "plet.pdf", as_from_the_police(sample("boerneattest_plettet.pdf")))
    refusal = upload(client, "afslag.pdf", as_from_the_police(sample("afslag_boerneattest.pdf")))
    unknown = upload(client, "scan.pdf", sample("ukendt_dokument.pdf"))

    assert badge(clean) == ("clean", "Ren") and "Åse Østergård" in clean
    assert badge(not_clean) == ("not_clean", "Ikke ren: til vurdering")
    assert badge(refusal) == ("refused", "Afslag")
    assert badge(unknown) == ("review", "Skal vurderes")
    assert "Færdig" not in clean + not_clean + refusal + unknown


def test_a_file_received_before_says_so_with_a_link_to_where_it_is(client, rules, payroll):
    client.force_login(payroll)
    upload(client, "scan.pdf", sample("ukendt_dokument.pdf"))
    again = upload(client, "scan-igen.pdf", sample("ukendt_dokument.pdf"))
    first = Document.objects.get()
    assert "Modtaget før" in again
    assert f'href="{reverse("robot:document", args=[first.pk])}">I lønkontorets kø</a>' in again


def test_a_message_whose_attachment_came_before_says_so_and_shows_no_empty_preview(
    client, ordered_for, payroll, trusted_forwarding
):
    ordered_for("0101904321", name="Åse Østergård")
    client.force_login(payroll)
    upload(client, "attest.pdf", as_from_the_police(sample("boerneattest_ren.pdf")))
    pdf = Document.objects.get()

    row = upload(client, "besked.eml", as_forwarded(sample("boerneattest_ren.eml")))

    assert badge(row) == ("message", "Videresendt besked")
    assert "Modtaget før" in row
    assert f'href="{reverse("robot:document", args=[pdf.pk])}"' in row
    message = Document.objects.get(original_name="besked.eml")
    page = client.get(reverse("robot:document", args=[message.pk])).content.decode()
    assert "<object" not in page  # no blank PDF frame for a message
    assert "<dd>–</dd>" not in page
    assert "Modtaget før" in page and f'href="{reverse("robot:document", args=[pdf.pk])}"' in page
    assert "Færdig" not in row


def test_in_trial_mode_each_row_shows_the_robots_proposal_at_a_glance(
    client, ordered_in_trial, payroll
):
    ordered_in_trial("0101904321", name="Åse Østergård")
    ordered_in_trial("1111803335", name="Søren Ærøe")
    ordered_in_trial("1205882468", name="Bo Afslag")
    client.force_login(payroll)

    clean = upload(client, "ren.pdf", as_from_the_police(sample("boerneattest_ren.pdf")))
    not_clean = upload(client, "plet.pdf", as_from_the_police(sample("boerneattest_plettet.pdf")))
    refusal = upload(client, "afslag.pdf", as_from_the_police(sample("afslag_boerneattest.pdf")))

    # Not "Skal vurderes" for all three: what the robot read, and that it waits for a person.
    assert badge(clean) == ("clean", "Forslag: ren – bekræft")
    assert badge(not_clean) == ("not_clean", "Forslag: ikke ren – bekræft")
    assert badge(refusal) == ("refused", "Forslag: afslag – bekræft")
    document = Document.objects.get(original_name="ren.pdf")
    assert document.state == "proposed"
    url = reverse("robot:document", args=[document.pk])
    assert f'<a href="{url}">Bekræft eller underkend</a>' in clean

    # The same when the page's script asks for the row again, and on the page itself.
    row = client.get(reverse("robot:document_row", args=[document.pk]), HTTP_HX_REQUEST="true")
    assert badge(row.content.decode()) == ("clean", "Forslag: ren – bekræft")
    page = client.get(reverse("robot:intake")).content.decode()
    assert "Forslag: ren – bekræft" in page and "Forslag: afslag – bekræft" in page
