"""A forged certificate can never clear anyone.

A certificate is believed for where it came from, not only for what it says: the
forwarding e-mail must come from our own forwarder (DKIM, or our mail server's verdict),
the PDF must carry the secret reference of the batch its person was ordered in, and a
digital signature, where there is one, must be intact and trusted. Whatever fails goes to
a person with the reason, and the line waits.
"""

import datetime
import email
import email.policy
import io
import json
import re
import uuid
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from orders import batching
from orders.models import Notification
from orders.services import place_order
from robot.models import FilingJob, RuleSet
from robot.rules import copy_ruleset
from robot.synthetic import with_requester

from .conftest import FORWARDER, as_forwarded, as_from_the_police, sample
from .pki import dkim_sign, dkim_txt, fake_dns, sign_pdf, the_pki
from .test_pipeline import receive

MANAGER = "leder@nordskolen.example"
PAYROLL = "loen@kommune.example"
NOT_FROM_THE_POLICE = "Ikke godtaget som kommende fra politiet:"


def from_sender(message: bytes, sender: str) -> bytes:
    """The same message, with another From address typed in."""
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    parsed.replace_header("From", sender)
    return parsed.as_bytes()


def with_header(message: bytes, name: str, value: str) -> bytes:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    parsed[name] = value
    return parsed.as_bytes()


def forwarded_pdf(message_document):
    """The attachment of a received forwarded message, as its own document."""
    return message_document.attachments.get()


def assert_waits_for_a_person(document, order, kind: str = "child") -> None:
    """Nothing follows from the document: a person must look, and the line still waits."""
    document.refresh_from_db()
    assert document.state == "needs_review"
    assert document.reason.startswith(NOT_FROM_THE_POLICE)
    assert order.lines.get(kind__code=kind).status == "ordered"
    assert not FilingJob.objects.exists()
    assert not Notification.objects.filter(to__contains=MANAGER).exists()


# --- The forwarding e-mail --------------------------------------------------------------


def test_the_trusted_forwarders_message_clears_the_line(ordered_for):
    # The baseline the forgeries below are measured against.
    order = ordered_for("0101904321")

    pdf = forwarded_pdf(receive("boerneattest_ren.eml"))

    assert (pdf.state, pdf.outcome) == ("done", "clean")
    assert order.lines.get(kind__code="child").status == "cleared"
    assert FilingJob.objects.filter(document=pdf).exists()


def test_a_forged_message_from_an_outside_sender_clears_nobody(ordered_for):
    # Everything a forger can type is right: "Afsender: Rigspolitiet" in the body, the
    # clean phrase, the hire's CPR number, even the batch's secret reference (as if
    # leaked), and a receiving-server verdict naming our domain.
    order = ordered_for("0101904321")
    forged = from_sender(
        as_forwarded(sample("boerneattest_ren.eml")), "rigspolitiet@politi-dk.example"
    )
    assert b"Afsender: Rigspolitiet" in forged

    pdf = forwarded_pdf(receive("forfalsket.eml", forged))

    assert pdf.outcome == "clean"  # what it says is clean; where it came from is not
    assert_waits_for_a_person(pdf, order)
    assert "rigspolitiet@politi-dk.example" in pdf.reason
    assert "ikke en godkendt videresender" in pdf.reason


def test_a_message_from_the_forwarder_without_any_proof_goes_to_a_person(ordered_for):
    order = ordered_for("0101904321")
    unproven = as_forwarded(sample("boerneattest_ren.eml"), authenticated=False)

    pdf = forwarded_pdf(receive("ubevist.eml", unproven))

    assert_waits_for_a_person(pdf, order)
    assert "ingen DKIM-signatur" in pdf.reason


def test_a_pass_from_a_mail_server_we_do_not_run_proves_nothing(ordered_for):
    order = ordered_for("0101904321")
    message = with_header(
        as_forwarded(sample("boerneattest_ren.eml"), authenticated=False),
        "Authentication-Results",
        "mx.udenfor.example; dkim=pass header.d=kommune.example; "
        "dmarc=pass header.from=kommune.example",
    )

    pdf = forwarded_pdf(receive("fremmed-server.eml", message))

    assert_waits_for_a_person(pdf, order)


@pytest.fixture
def published_dkim_key(monkeypatch):
    """The forwarder's DKIM key, as DNS would publish it (no network in tests).
    robot.provenance_mail looks keys up through dkimpy's dnsplug.get_txt."""
    import robot.provenance_mail

    monkeypatch.setattr(
        robot.provenance_mail.dnsplug,
        "get_txt",
        fake_dns({"sel1._domainkey.kommune.example": dkim_txt()}),
    )


def dkim_signed_message() -> bytes:
    """As the forwarder's own server sends it: DKIM-signed, and no verdict of ours."""
    return dkim_sign(
        as_forwarded(sample("boerneattest_ren.eml"), authenticated=False), domain="kommune.example"
    )


def test_a_dkim_signed_message_from_the_forwarder_clears_the_line(ordered_for, published_dkim_key):
    order = ordered_for("0101904321")

    pdf = forwarded_pdf(receive("signeret.eml", dkim_signed_message()))

    assert (pdf.state, pdf.outcome) == ("done", "clean")
    assert order.lines.get(kind__code="child").status == "cleared"
    mail = next(check for check in pdf.latest_evaluation.provenance if check["name"] == "mail")
    assert mail["passed"] and "DKIM" in mail["detail"]


def test_one_changed_byte_in_a_dkim_signed_message_goes_to_a_person(
    ordered_for, published_dkim_key
):
    order = ordered_for("0101904321")
    signed = dkim_signed_message()
    assert signed.count(b"Der er modtaget") == 1
    changed = signed.replace(b"Der er modtaget", b"Der er modtagex")

    pdf = forwarded_pdf(receive("aendret.eml", changed))

    assert_waits_for_a_person(pdf, order)
    assert "DKIM-signaturen kan ikke verificeres" in pdf.reason


# --- The batch reference ----------------------------------------------------------------


def test_a_certificate_without_the_batch_reference_goes_to_a_person(ordered_for):
    order = ordered_for("0101904321")
    batch = order.lines.get(kind__code="child").batch

    document = receive("uden-reference.pdf", sample("boerneattest_ren.pdf"))

    assert_waits_for_a_person(document, order)
    assert (
        f"Referencen for batch {batch.reference}, som personen blev bestilt i, står "
        "ikke i attestens Rekvirent-linje eller i beskeden."
    ) in document.reason


def test_a_certificate_with_another_batchs_reference_goes_to_a_person(ordered_for):
    # Two hires ordered in two batches: the certificate for A carries B's reference.
    order_a = ordered_for("0101904321")
    order_b = ordered_for("1111803335", name="Søren Ærøe")
    batch_a = order_a.lines.get(kind__code="child").batch
    batch_b = order_b.lines.get(kind__code="child").batch
    assert batch_a != batch_b

    document = receive(
        "anden-batch.pdf",
        with_requester(sample("boerneattest_ren.pdf"), batching.requester_text(batch_b)),
    )

    assert_waits_for_a_person(document, order_a)
    assert f"referencen for en anden batch end {batch_a.reference}" in document.reason


def test_the_right_batch_with_a_wrong_secret_goes_to_a_person(ordered_for, settings):
    order = ordered_for("0101904321")
    batch = order.lines.get(kind__code="child").batch
    wrong = "ZZZZZZZZZ" if batch.secret != "ZZZZZZZZZ" else "YYYYYYYYY"

    document = receive(
        "gaettet.pdf",
        with_requester(
            sample("boerneattest_ren.pdf"),
            f"{batch.reference}-{wrong} {settings.MUNICIPALITY_NAME}",
        ),
    )

    assert_waits_for_a_person(document, order)
    assert (
        f"Attesten nævner batch {batch.reference}, men den hemmelige del af referencen "
        "mangler eller er forkert."
    ) in document.reason


def paper_order(school, teacher, school_manager, cpr: str = "0101904321"):
    return place_order(
        by=school_manager,
        unit=school,
        profile=teacher,
        full_name="Åse Østergård",
        cpr=cpr,
        start_date=timezone.localdate() + datetime.timedelta(days=14),
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
        child_contact=None,
        submission_token=uuid.uuid4(),
        digital_post_exempt=True,
    )


def test_an_answer_to_a_paper_consent_order_with_its_reference_clears_the_line(
    ordered_for, school, teacher, school_manager, payroll
):
    # Ordered singly on a signed paper form, under the reference of its batch of one: the
    # robot acting alone treats the answer as any batch's.
    order = paper_order(school, teacher, school_manager)
    batching.mark_line_ordered_on_paper(line=order.lines.get(kind__code="child"), by=payroll)

    pdf = forwarded_pdf(receive("boerneattest_ren.eml"))

    assert (pdf.state, pdf.outcome) == ("done", "clean")
    assert order.lines.get(kind__code="child").status == "cleared"
    assert FilingJob.objects.filter(document=pdf).exists()


def test_an_answer_to_a_paper_consent_order_with_a_wrong_secret_goes_to_a_person(
    ordered_for, school, teacher, school_manager, payroll, settings
):
    order = paper_order(school, teacher, school_manager)
    line = batching.mark_line_ordered_on_paper(line=order.lines.get(kind__code="child"), by=payroll)
    batch = line.batch
    wrong = "ZZZZZZZZZ" if batch.secret != "ZZZZZZZZZ" else "YYYYYYYYY"

    document = receive(
        "papir-gaettet.pdf",
        with_requester(
            sample("boerneattest_ren.pdf"),
            f"{batch.reference}-{wrong} {settings.MUNICIPALITY_NAME}",
        ),
    )

    assert_waits_for_a_person(document, order)
    assert f"Attesten nævner batch {batch.reference}, men den hemmelige del" in document.reason


def test_an_answer_to_a_paper_consent_order_with_another_batchs_reference_goes_to_a_person(
    ordered_for, school, teacher, school_manager, payroll
):
    other = ordered_for("1111803335", name="Søren Ærøe")
    order = paper_order(school, teacher, school_manager)
    line = batching.mark_line_ordered_on_paper(line=order.lines.get(kind__code="child"), by=payroll)
    other_batch = other.lines.get(kind__code="child").batch

    document = receive(
        "papir-anden-batch.pdf",
        with_requester(sample("boerneattest_ren.pdf"), batching.requester_text(other_batch)),
    )

    assert_waits_for_a_person(document, order)
    assert f"referencen for en anden batch end {line.batch.reference}" in document.reason


def test_an_answer_to_a_paper_consent_order_without_its_reference_goes_to_a_person(
    ordered_for, school, teacher, school_manager, payroll
):
    order = paper_order(school, teacher, school_manager)
    line = batching.mark_line_ordered_on_paper(line=order.lines.get(kind__code="child"), by=payroll)

    document = receive("papir-uden.pdf", sample("boerneattest_ren.pdf"))

    assert_waits_for_a_person(document, order)
    assert f"Referencen for batch {line.batch.reference}" in document.reason


def test_an_answer_to_a_line_ordered_on_paper_before_references_goes_to_a_person(
    ordered_for, school, teacher, school_manager
):
    # Ordered on paper before paper orders had a reference: no batch, no secret to check.
    order = paper_order(school, teacher, school_manager)
    order.lines.filter(kind__code="child").update(status="ordered", ordered_at=timezone.now())

    document = receive("papir.pdf", sample("boerneattest_ren.pdf"))

    assert_waits_for_a_person(document, order)
    assert "bestilt med papirsamtykke" in document.reason


# --- The PDF's digital signature --------------------------------------------------------


@pytest.fixture
def police_ca(settings, tmp_path):
    """The police's CA configured as the one trust anchor for PDF signatures."""
    anchors = tmp_path / "politi-ca.pem"
    anchors.write_bytes(the_pki().root.pem)
    settings.PDF_TRUST_ANCHORS = str(anchors)
    return the_pki()


def test_a_certificate_signed_by_the_police_clears_and_the_review_page_says_so(
    ordered_for, police_ca, client, payroll
):
    order = ordered_for("0101904321")
    signed = sign_pdf(
        as_from_the_police(sample("boerneattest_ren.pdf")), police_ca.signer, police_ca.root
    )

    document = receive("underskrevet.pdf", signed)

    assert (document.state, document.outcome) == ("done", "clean")
    assert order.lines.get(kind__code="child").status == "cleared"
    client.force_login(payroll)
    page = client.get(reverse("robot:document", args=[document.pk])).content.decode()
    signature = re.search(
        r'<li class="(check-\w+)"><span class="tag">Digital signatur</span>'
        r"(.*?)</li>",
        page,
        re.S,
    )
    assert signature is not None
    assert signature.group(1) == "check-passed"
    assert "✓ bestået" in signature.group(2)
    assert "Gyldigt underskrevet af Rigspolitiet Testsignatur" in signature.group(2)


def test_a_certificate_signed_by_a_stranger_goes_to_a_person(ordered_for, police_ca):
    order = ordered_for("0101904321")
    signed = sign_pdf(
        as_from_the_police(sample("boerneattest_ren.pdf")),
        police_ca.stranger_signer,
        police_ca.stranger,
    )

    document = receive("fremmed.pdf", signed)

    assert_waits_for_a_person(document, order)
    assert "ikke er betroet" in document.reason


def test_a_signed_certificate_changed_afterwards_goes_to_a_person(ordered_for, police_ca):
    order = ordered_for("0101904321")
    signed = sign_pdf(
        as_from_the_police(sample("boerneattest_ren.pdf")), police_ca.signer, police_ca.root
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    stream = writer.add_object(
        generic.StreamObject(
            stream_data=b"BT /F1 24 Tf 72 720 Td (er ikke registreret med afgoerelser) Tj ET"
        )
    )
    writer.add_stream_to_page(0, stream)
    tampered = io.BytesIO()
    writer.write(tampered)

    document = receive("aendret.pdf", tampered.getvalue())

    assert_waits_for_a_person(document, order)
    assert "ændret" in document.reason


def test_an_unsigned_certificate_goes_to_a_person_when_a_signature_is_required(
    ordered_for, settings
):
    settings.PDF_SIGNATURE_REQUIRED = True
    order = ordered_for("0101904321")

    document = receive("boerneattest_ren.pdf")

    assert_waits_for_a_person(document, order)
    assert "PDF'en har ingen digital signatur, og det er et krav." in document.reason


# --- A not-clean certificate nobody ordered ---------------------------------------------


def test_a_not_clean_certificate_without_an_order_is_flagged_to_payroll(rules, payroll, client):
    payroll.email = PAYROLL
    payroll.save()

    document = receive("boerneattest_plettet.pdf")

    assert (document.state, document.outcome) == ("no_order", "not_clean")
    mail = Notification.objects.get(template="certificate_unmatched")
    assert mail.to == PAYROLL
    assert f"/dokument/{document.pk}/" in mail.body
    assert "111180" not in mail.body

    client.force_login(payroll)
    page = client.get(reverse("robot:queue")).content.decode()
    link = reverse("robot:document", args=[document.pk])
    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if link in row)
    assert "Ingen bestilling fundet" in row
    # The clerk scanning the queue must see that this one has a registration.
    assert "Ikke ren" in row


# --- The command judges as the pipeline does --------------------------------------------


def two_certificates_message() -> bytes:
    """A forwarded message with a clean and a not-clean børneattest, for two hires."""
    message = EmailMessage()
    message["From"] = FORWARDER
    message["To"] = "attester@kommune.example"
    message["Subject"] = "VS: Digitalpost (29189420): Børneatt."
    message.set_content(
        "Der er modtaget flg. Digital Post besked.\nAfsender: Rigspolitiet\nAtt: NY_MEDARBEJDER\n"
    )
    for name in ("boerneattest_ren.pdf", "boerneattest_plettet.pdf"):
        message.add_attachment(sample(name), maintype="application", subtype="pdf", filename=name)
    return as_forwarded(message.as_bytes())


def judged_by_the_command(*args) -> list[dict]:
    out = io.StringIO()
    call_command("evaluate_certificate", *map(str, args), "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_the_command_and_the_pipeline_agree_on_each_attachment(ordered_for, tmp_path):
    ordered_for("0101904321")
    ordered_for("1111803335", name="Søren Ærøe")
    path = tmp_path / "to-attester.eml"
    path.write_bytes(two_certificates_message())

    rows = judged_by_the_command(path)

    assert [(row["file"], row["outcome"]) for row in rows] == [
        (f"{path}/boerneattest_ren.pdf", "clean"),
        (f"{path}/boerneattest_plettet.pdf", "not_clean"),
    ]
    assert all(check["passed"] for row in rows for check in row["provenance"])

    message = receive("to-attester.eml", path.read_bytes())

    assert {pdf.original_name: pdf.outcome for pdf in message.attachments.all()} == {
        "boerneattest_ren.pdf": "clean",
        "boerneattest_plettet.pdf": "not_clean",
    }


def test_the_command_judges_with_a_draft_rule_version(rules, tmp_path):
    draft = copy_ruleset(RuleSet.objects.get(is_active=True), note="Uden ren-sætning")
    draft.phrases.filter(role="clean").delete()
    path = tmp_path / "boerneattest_ren.pdf"
    path.write_bytes(sample("boerneattest_ren.pdf"))

    [active] = judged_by_the_command(path)
    [with_draft] = judged_by_the_command(path, "--rules", draft.version)

    assert active["outcome"] == "clean"
    assert with_draft["outcome"] == "needs_review"
