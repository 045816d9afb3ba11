import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import AccessLog, Notification, OrderEvent, OrderLine
from robot import services
from robot.models import Document

from ..factories import UserFactory
from .test_pipeline import receive


@pytest.fixture
def flagged(ordered_for):
    order = ordered_for("1111803335", name="Søren Ærøe")
    return receive("boerneattest_plettet.pdf"), order


def assess(document, by, decision="may_employ"):
    return services.assess_document(
        document=document,
        by=by,
        relevance="Ikke relevant for job",
        discussed=True,
        decision=decision,
        reason="Gammel sag",
    )


def test_payroll_decides_may_employ_and_the_manager_is_told_only_the_decision(flagged, payroll):
    document, order = flagged
    assess(document, payroll)

    document.refresh_from_db()
    line = order.lines.get(kind__code="child")
    assert document.state == "done" and line.status == "cleared"
    mail = Notification.objects.get(template="decision")
    assert "Kan ansættes" in mail.body
    assert "Gammel sag" not in mail.body and "Ikke relevant" not in mail.body
    assert OrderEvent.objects.filter(line=line, action="decided", note="Kan ansættes").exists()


def test_may_not_employ_closes_the_line(flagged, payroll):
    document, order = flagged
    assess(document, payroll, decision="may_not_employ")
    assert order.lines.get(kind__code="child").status == "rejected"


def test_further_assessment_keeps_it_in_the_queue(flagged, payroll):
    document, order = flagged
    assess(document, payroll, decision="further")
    document.refresh_from_db()
    assert document.state == "not_clean"
    assert order.lines.get(kind__code="child").status == "in_review"


def test_four_eyes_needs_a_second_clerk(flagged, payroll, settings):
    settings.REVIEW_FOUR_EYES = True
    document, order = flagged
    assess(document, payroll)
    document.refresh_from_db()
    assert document.state == "awaiting_approval"
    assert order.lines.get(kind__code="child").status == "in_review"
    # The service refuses with its own message; the database's check constraint is only
    # the last line of defence and would raise IntegrityError, not ReviewError.
    with pytest.raises(services.ReviewError, match=SECOND_PERSON):
        services.approve_assessment(document=document, by=payroll)
    assert_still_awaiting_approval(document, order)

    second = UserFactory(username="loen2", is_payroll=True)
    services.approve_assessment(document=document, by=second)

    assert order.lines.get(kind__code="child").status == "cleared"
    assert document.assessments.get().approved_by == second


def test_four_eyes_rejection_needs_a_second_clerk(flagged, payroll, settings):
    settings.REVIEW_FOUR_EYES = True
    document, order = flagged
    assess(document, payroll)

    with pytest.raises(services.ReviewError, match=SECOND_PERSON):
        services.reject_assessment(document=document, by=payroll)
    assert_still_awaiting_approval(document, order)

    services.reject_assessment(document=document, by=UserFactory(username="loen2", is_payroll=True))
    document.refresh_from_db()
    assert document.state == "not_clean"


SECOND_PERSON = re.escape("En anden medarbejder skal godkende vurderingen")


def assert_still_awaiting_approval(document, order):
    document.refresh_from_db()
    assert document.state == "awaiting_approval"
    assessment = document.assessments.get()
    assert assessment.approved_by is None and assessment.approved_at is None
    assert order.lines.get(kind__code="child").status == "in_review"


def test_payroll_attaches_a_document_by_hand(ordered_for, payroll):
    order = ordered_for("0101904321")
    from .conftest import sample

    unknown = receive("scan.pdf", sample("ukendt_dokument.pdf"))
    line = order.lines.get(kind__code="child")

    services.resolve_document(
        document=unknown, by=payroll, line=line, outcome="clean", reason="Læst manuelt"
    )

    unknown.refresh_from_db()
    line.refresh_from_db()
    assert unknown.state == "done" and line.status == "cleared" and unknown.line == line
    assert AccessLog.objects.filter(action="handle_document", user=payroll).exists()


def test_a_document_about_another_person_cannot_be_attached(ordered_for, payroll):
    order = ordered_for("0101904321")
    other = receive("boerneattest_plettet.pdf")  # 111180-3335, no order
    with pytest.raises(
        services.ReviewError, match="Dokumentet handler om en anden person end bestillingen"
    ):
        services.resolve_document(
            document=other,
            by=payroll,
            line=order.lines.get(kind__code="child"),
            outcome="clean",
            reason="forkert",
        )


def test_discarding_needs_a_reason_and_is_final(rules, payroll):
    document = receive("ukendt_dokument.pdf")
    services.discard_document(document=document, by=payroll, reason="Lønseddel")
    document.refresh_from_db()
    assert document.state == "discarded" and "Lønseddel" in document.reason
    with pytest.raises(
        services.ReviewError, match=re.escape("Dokumentet er allerede behandlet (Kasseret)")
    ):
        services.discard_document(document=document, by=payroll, reason="igen")


def test_the_review_page_shows_evidence_and_the_pdf_to_payroll_only(
    client, flagged, payroll, school_manager
):
    document, _ = flagged
    url = reverse("robot:document", args=[document.pk])
    client.force_login(school_manager)
    assert client.get(url).status_code == 404
    assert client.get(reverse("robot:document_file", args=[document.pk])).status_code == 404

    client.force_login(payroll)
    html = client.get(url).content.decode()
    assert "registreret med følgende afgørelser" in html
    assert reverse("robot:document_file", args=[document.pk]) in html
    response = client.get(reverse("robot:document_file", args=[document.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert AccessLog.objects.filter(action="view_document", user=payroll).count() == 2


def test_a_hostile_file_is_served_as_a_download_never_as_a_page(client, rules, payroll):
    document = receive("page.pdf", b"<html><script>alert(1)</script></html>")
    client.force_login(payroll)
    response = client.get(reverse("robot:document_file", args=[document.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_assessing_from_the_page(client, flagged, payroll):
    document, order = flagged
    client.force_login(payroll)
    response = client.post(
        reverse("robot:document_assess", args=[document.pk]),
        {
            "relevance": "Ikke relevant",
            "discussed": "yes",
            "decision": "may_employ",
            "reason": "Gammel sag",
        },
    )
    assert response.status_code == 302
    assert order.lines.get(kind__code="child").status == "cleared"


def test_an_incomplete_assessment_is_refused_with_messages(client, flagged, payroll):
    document, _ = flagged
    client.force_login(payroll)
    response = client.post(reverse("robot:document_assess", args=[document.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Dette felt er påkrævet" in response.content.decode()
    assert Document.objects.get(pk=document.pk).state == "not_clean"


def test_an_overlong_assessment_is_refused_with_a_clear_message(client, flagged, payroll):
    document, order = flagged
    client.force_login(payroll)
    response = client.post(
        reverse("robot:document_assess", args=[document.pk]),
        {
            "relevance": "x" * 2001,
            "discussed": "yes",
            "decision": "may_employ",
            "reason": "Gammel sag",
        },
    )
    assert response.status_code == 400
    assert "Denne værdi må højst have 2000 tegn (den har 2001)." in response.content.decode()
    assert Document.objects.get(pk=document.pk).state == "not_clean"
    assert order.lines.get(kind__code="child").status == "in_review"


def test_the_queue_counts_and_filters(client, rules, payroll):
    receive("ukendt_dokument.pdf")
    receive("boerneattest_ren.pdf")
    client.force_login(payroll)
    html = client.get(reverse("robot:queue")).content.decode()
    assert "ukendt_dokument.pdf" in html and "boerneattest_ren.pdf" in html
    filtered = client.get(
        reverse("robot:queue"), {"state": "no_order"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "boerneattest_ren.pdf" in filtered and "ukendt_dokument.pdf" not in filtered
    assert "<html" not in filtered


def test_upload_of_several_files_without_javascript(client, rules, payroll):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import sample

    client.force_login(payroll)
    files = [
        SimpleUploadedFile(n, sample(n), content_type="application/pdf")
        for n in ("boerneattest_ren.pdf", "afslag_boerneattest.pdf")
    ]
    response = client.post(reverse("robot:intake"), {"files": files, "origin": "digital_post"})
    assert response.status_code == 302
    assert Document.objects.count() == 2
    assert {document.upload.origin for document in Document.objects.all()} == {"digital_post"}


def test_an_upload_without_its_origin_is_refused_and_nothing_is_received(client, rules, payroll):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import sample

    client.force_login(payroll)
    files = [SimpleUploadedFile("a.pdf", sample("boerneattest_ren.pdf"))]
    response = client.post(reverse("robot:intake"), {"files": files})
    assert response.status_code == 200
    assert "Vælg, hvor filerne kommer fra." in response.content.decode()
    one = client.post(reverse("robot:upload"), {"file": SimpleUploadedFile("b.pdf", b"%PDF-1.4")})
    assert "Vælg, hvor filerne kommer fra." in one.content.decode()
    assert not Document.objects.exists()


def test_upload_of_one_file_answers_with_its_row(client, rules, payroll):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import sample

    client.force_login(payroll)
    response = client.post(
        reverse("robot:upload"),
        {"file": SimpleUploadedFile("a.pdf", sample("ukendt_dokument.pdf")), "origin": "unknown"},
    )
    html = response.content.decode()
    assert html.strip().startswith("<tr") and "a.pdf" in html


def test_a_certificate_cannot_clear_a_line_of_another_kind(ordered_for, payroll):
    order = ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")  # matched and cleared the child line
    OrderLine.objects.filter(order=order, kind__code="child").update(status="cancelled")
    other = receive("copy.pdf", sample_bytes("boerneattest_ren.pdf") + b"\n%copy\n")
    assert other.state == "no_order"
    with pytest.raises(
        services.ReviewError, match="Dokumentet er en anden attesttype end attestlinjen"
    ):
        services.resolve_document(
            document=other,
            by=payroll,
            reason="x",
            outcome="clean",
            line=order.lines.get(kind__code="criminal_public"),
        )
    assert document.line.kind.code == "child"


def test_what_the_robot_found_not_clean_cannot_be_set_clean_by_hand(ordered_for, payroll):
    ordered_for("0101904321")
    order = ordered_for("1111803335", name="Søren Ærøe")
    # Cleared long ago: a certificate now is a stray copy, not a second answer.
    OrderLine.objects.filter(order=order, kind__code="child").update(
        status="cleared", status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )
    flagged = receive("boerneattest_plettet.pdf")  # duplicate, not clean
    assert flagged.state == "duplicate"
    with pytest.raises(
        services.ReviewError,
        match=re.escape('Robotten fandt tegn på en registrering: vælg "ikke ren"'),
    ):
        services.resolve_document(
            document=flagged,
            by=payroll,
            reason="x",
            outcome="clean",
            line=order.lines.get(kind__code="child"),
        )
    services.resolve_document(
        document=flagged,
        by=payroll,
        reason="Genåbnes",
        outcome="not_clean",
        line=order.lines.get(kind__code="child"),
    )
    flagged.refresh_from_db()
    assert flagged.state == "not_clean"
    assert order.lines.get(kind__code="child").status == "in_review"


def test_four_eyes_with_further_assessment_can_be_assessed_again(flagged, payroll, settings):
    settings.REVIEW_FOUR_EYES = True
    document, _ = flagged
    assess(document, payroll, decision="further")
    services.approve_assessment(
        document=document, by=UserFactory(username="loen3", is_payroll=True)
    )
    document.refresh_from_db()
    assert document.state == "not_clean"
    assess(document, payroll, decision="may_employ")


def sample_bytes(name):
    from .conftest import sample

    return sample(name)


def test_a_row_still_being_read_asks_again_until_a_worker_has_read_it(client, rules, payroll):
    from robot.intake import ingest_bytes
    from robot.pipeline import process_document

    from .conftest import sample

    document, _ = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="a.pdf", source="upload", process=False
    )
    client.force_login(payroll)
    url = reverse("robot:document_row", args=[document.pk])
    assert 'hx-trigger="every 2s"' in client.get(url).content.decode()
    process_document(document_id=document.pk)
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html and "Ingen bestilling fundet" in html


def test_the_queue_is_access_logged_per_person(client, rules, payroll):
    receive("boerneattest_ren.pdf")
    client.force_login(payroll)
    client.get(reverse("robot:queue"))
    assert AccessLog.objects.filter(action="list_documents", user=payroll).count() == 1
