"""A certificate clears a line only through a channel the hire cannot write to.

The hire gets a copy of their own certificate, with the batch's whole Rekvirent text, so
every forgery here carries the real secret reference: what it says is exactly what the
police's certificate says. Only the way it reached us differs (docs/threat-model.md).
"""

import datetime
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import batching
from orders.models import Notification, OrderEvent, OrderLine
from robot import filing, services, trial
from robot.intake import ingest_bytes
from robot.models import Document, FilingJob
from robot.pipeline import process_document
from robot.synthetic import certificate_pdf

from .conftest import as_forwarded, as_from_the_police, sample
from .test_pipeline import receive
from .test_trial import PAYROLL, certificate_for

CLEAN = "boerneattest_ren.pdf"


def dropped(name: str, data: bytes) -> Document:
    document, _ = ingest_bytes(data, filename=name, source="folder", process=False)
    process_document(document_id=document.pk)
    document.refresh_from_db()
    return document


def forwarded_pdf(message: Document) -> Document:
    return Document.objects.get(parent=message)


def assert_held_for_a_person(document: Document, order) -> None:
    line = order.lines.get(kind__code="child")
    assert document.state == "proposed" and document.line == line
    assert line.status == "ordered"
    assert not FilingJob.objects.filter(line=line).exists()
    channel = document.evaluations.get().provenance[-1]
    assert channel["name"] == "channel" and not channel["passed"]
    assert "Digital Post" in channel["detail"]


@pytest.mark.parametrize("origin", ["applicant", "paper", "unknown"])
def test_a_forged_clean_certificate_uploaded_from_anywhere_but_digital_post_clears_nobody(
    ordered_for, origin
):
    order = ordered_for("0101904321")

    document = receive("forfalsket.pdf", as_from_the_police(sample(CLEAN)), origin=origin)

    assert document.outcome == "clean"  # what it says is clean; who made it is unknown
    assert_held_for_a_person(document, order)
    assert not document.proposal.sampled


def test_a_certificate_payroll_fetched_from_digital_post_clears_and_the_timeline_says_who(
    ordered_for,
):
    order = ordered_for("0101904321")

    document = receive(CLEAN, origin="digital_post")

    line = order.lines.get(kind__code="child")
    assert (document.state, line.status) == ("done", "cleared")
    channel = document.evaluations.get().provenance[-1]
    assert channel["passed"] and "Digital Post" in channel["detail"]
    assert document.upload.by.username in channel["detail"]
    event = OrderEvent.objects.filter(line=line, action="received").get()
    assert "oplyste: hentet i kommunens digital post-postkasse" in event.note


def test_a_forged_certificate_in_the_drop_folder_clears_nobody(ordered_for):
    order = ordered_for("0101904321")

    document = dropped("forfalsket.pdf", as_from_the_police(sample(CLEAN)))

    assert_held_for_a_person(document, order)
    assert "drop-mappen" in document.evaluations.get().provenance[-1]["detail"]


def test_a_dropped_message_with_a_typed_server_verdict_clears_nobody(ordered_for):
    # The secret only in the Att: line, and an Authentication-Results header naming our
    # own receiving server: anyone can type both into an .eml.
    order = ordered_for("0101904321")
    line = order.lines.get(kind__code="child")
    forged = as_forwarded(sample("boerneattest_ren.eml"), authenticated=True).replace(
        b"Att: NY_MEDARBEJDER", f"Att: {batching.requester_text(line.batch)}".encode()
    )
    assert b"Authentication-Results: mx.kommune.example; dkim=pass" in forged

    pdf = forwarded_pdf(dropped("forfalsket.eml", forged))

    assert_held_for_a_person(pdf, order)
    mail = pdf.evaluations.get().provenance[0]
    assert mail["name"] == "mail" and mail["neutral"]


def test_the_same_message_from_the_mailbox_is_believed(ordered_for):
    order = ordered_for("0101904321")

    pdf = forwarded_pdf(receive("boerneattest_ren.eml", source="mailbox"))

    assert pdf.state == "done" and order.lines.get(kind__code="child").status == "cleared"


def test_confirming_a_held_proposal_needs_the_clerks_word_that_digital_post_has_it(
    ordered_for, payroll, client
):
    order = ordered_for("0101904321")
    document = receive("fra-ansoeger.pdf", as_from_the_police(sample(CLEAN)), origin="applicant")
    client.force_login(payroll)

    page = client.get(reverse("robot:document", args=[document.pk])).content.decode()
    assert "Intet viser, at filen kommer fra politiet." in page
    assert 'name="channel_checked"' in page

    client.post(reverse("robot:proposal_confirm", args=[document.proposal.pk]))
    assert order.lines.get(kind__code="child").status == "ordered"
    with pytest.raises(trial.TrialError, match="Digital Post"):
        trial.confirm_proposal(proposal=document.proposal, by=payroll)

    client.post(
        reverse("robot:proposal_confirm", args=[document.proposal.pk]), {"channel_checked": "yes"}
    )
    assert order.lines.get(kind__code="child").status == "cleared"


# --- The reference counts only as a whole word on the Rekvirent line ---------------------


def test_the_secret_anywhere_but_the_rekvirent_line_proves_nothing(ordered_for):
    order = ordered_for("0101904321")
    reference = batching.requester_reference(order.lines.get(kind__code="child").batch)
    forged = certificate_pdf(
        [
            "Børneattest",
            "Navn: Åse Marie Østergård",
            "CPR-nummer: 010190-4321",
            "er ikke registreret med afgørelser",
            f"Sagsnummer {reference}",  # as white 1-pt text would be extracted
            "Rekvirent: Skoleforvaltningen",
        ]
    )

    document = receive("hvid-tekst.pdf", forged)

    assert document.state == "needs_review"
    assert "Rekvirent" in document.reason


def test_the_secret_buried_in_random_letters_proves_nothing(ordered_for):
    order = ordered_for("0101904321")
    reference = batching.requester_reference(order.lines.get(kind__code="child").batch)
    noise = "".join(random.Random(7).choices(batching.SECRET_ALPHABET, k=3000))
    forged = certificate_pdf(
        [
            "Børneattest",
            "CPR-nummer: 010190-4321",
            "er ikke registreret med afgørelser",
            f"Rekvirent: {noise[:1500]}{reference}{noise[1500:]}",
        ]
    )

    document = receive("stoej.pdf", forged)

    assert document.state == "needs_review"


# --- Two answers to one line ---------------------------------------------------------------


def test_a_later_not_clean_answer_reopens_a_cleared_line_for_payroll(ordered_for, client):
    order = ordered_for("0101904321")
    line = order.lines.get(kind__code="child")
    forged = receive(CLEAN)  # cleared: payroll believed it came from Digital Post
    line.refresh_from_db()
    assert line.status == "cleared"
    job = FilingJob.objects.get(document=forged)
    assert job.state == "pending"

    real = receive("plettet.pdf", certificate_for("boerneattest_plettet.pdf", "0101904321"))

    line.refresh_from_db()
    job.refresh_from_db()
    assert (real.state, real.line, real.outcome) == ("second_answer", line, "not_clean")
    assert line.status == "in_review"  # the manager sees "being assessed by payroll"
    assert job.state == "held" and filing.file_due() == 0
    assert OrderEvent.objects.filter(line=line, action="second_answer").exists()
    assert Notification.objects.filter(to=PAYROLL, key=f"document:{real.pk}").exists()
    client.force_login(order.created_by)
    page = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    assert "Under vurdering" in page or "vurderes" in page
    assert "registrering" not in page


def test_payroll_chooses_the_later_answer_and_it_goes_to_assessment(ordered_for, payroll):
    order = ordered_for("0101904321")
    line = order.lines.get(kind__code="child")
    forged = receive(CLEAN)
    real = receive("plettet.pdf", certificate_for("boerneattest_plettet.pdf", "0101904321"))

    services.settle_second_answer(
        document=real, by=payroll, keep="this", reason="Digital Post har kun den plettede"
    )

    real.refresh_from_db()
    forged.refresh_from_db()
    line.refresh_from_db()
    assert real.state == "not_clean" and line.status == "in_review"
    assert forged.state == "discarded"
    assert FilingJob.objects.get(document=forged).state == "replaced"
    assert filing.file_due() == 0  # nothing filed before payroll's assessment


def test_payroll_keeps_the_earlier_answer_and_its_filing_goes_on(ordered_for, payroll):
    order = ordered_for("0101904321")
    line = order.lines.get(kind__code="child")
    first = receive(CLEAN)
    copy = receive("kopi.pdf", as_from_the_police(sample(CLEAN)) + b"\n%kopi\n")
    assert copy.state == "second_answer"

    with pytest.raises(services.ReviewError):
        services.discard_document(document=copy, by=payroll, reason="kopi")
    services.settle_second_answer(document=copy, by=payroll, keep="earlier", reason="En kopi")

    line.refresh_from_db()
    copy.refresh_from_db()
    assert (line.status, copy.state) == ("cleared", "discarded")
    assert FilingJob.objects.get(document=first).state == "pending"
    assert filing.file_due() == 1


def test_settling_without_a_reason_is_refused(ordered_for, payroll, client):
    ordered_for("0101904321")
    receive(CLEAN)
    copy = receive("kopi.pdf", as_from_the_police(sample(CLEAN)) + b"\n%kopi\n")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:document_second_answer", args=[copy.pk]), {"keep": "earlier"}
    )

    assert response.status_code == 400
    assert "Skriv hvorfor." in response.content.decode()
    copy.refresh_from_db()
    assert copy.state == "second_answer"


def test_a_copy_long_after_the_answer_was_filed_and_deleted_is_only_a_duplicate(ordered_for):
    order = ordered_for("0101904321")
    receive(CLEAN)
    OrderLine.objects.filter(order=order, kind__code="child").update(
        status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )

    late = receive("sen.pdf", as_from_the_police(sample(CLEAN)) + b"\n%sen\n")

    assert late.state == "duplicate"
    assert order.lines.get(kind__code="child").status == "cleared"


def test_a_held_forgery_is_set_aside_and_is_no_longer_a_proposal(ordered_for, payroll, client):
    order = ordered_for("0101904321")
    forged = receive("fra-ansoeger.pdf", as_from_the_police(sample(CLEAN)), origin="applicant")
    client.force_login(payroll)
    page = client.get(reverse("robot:document", args=[forged.pk])).content.decode()
    assert "Ikke fra politiet: læg den til side" in page

    services.discard_document(document=forged, by=payroll, reason="Ikke i Digital Post")

    forged.refresh_from_db()
    assert forged.state == "discarded"
    assert trial.next_open_proposal() is None
    assert order.lines.get(kind__code="child").status == "ordered"
