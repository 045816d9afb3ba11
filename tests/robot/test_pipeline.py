import pytest

from orders import batching
from orders.models import Notification, OrderEvent, OrderLine
from robot.intake import document_path, ingest_bytes
from robot.models import Document, Upload
from robot.pipeline import process_document

from ..factories import UserFactory, order_for
from .conftest import as_forwarded, as_from_the_police, sample


def receive(
    name: str, data: bytes | None = None, *, source: str = "", origin: str = "digital_post"
) -> Document:
    """Receive a sample (as the police return it for our order) or the given bytes: a
    message as the mailbox delivers it, a PDF as payroll uploads it after fetching it from
    the municipality's Digital Post mailbox (unless `origin` says otherwise)."""
    if data is None:
        data = (
            as_forwarded(sample(name))
            if name.endswith(".eml")
            else as_from_the_police(sample(name))
        )
    source = source or ("mailbox" if name.endswith(".eml") else "upload")
    statement = None
    if source == "upload":
        statement = Upload.objects.create(by=UserFactory(username="upload"), origin=origin)
    document, _ = ingest_bytes(
        data,
        filename=name,
        source=source,
        upload=statement,
        by=statement and statement.by,
        process=False,
    )
    process_document(document_id=document.pk)
    document.refresh_from_db()
    return document


def test_a_clean_certificate_clears_its_line(ordered_for):
    order = ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")

    line = order.lines.get(kind__code="child")
    assert (document.state, document.outcome, document.line) == ("done", "clean", line)
    assert line.status == "cleared"
    assert order.lines.get(kind__code="criminal_public").status == "ordered"
    event = OrderEvent.objects.filter(line=line).last()
    assert event.action == "received" and event.actor is None
    assert document.evaluations.get().ruleset.is_active


def test_a_not_clean_certificate_goes_to_payroll_and_the_manager_sees_no_content(
    ordered_for, client, school_manager
):
    order = ordered_for("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")

    line = order.lines.get(kind__code="child")
    assert (document.state, line.status) == ("not_clean", "in_review")
    email = Notification.objects.get(template="certificate_flagged")
    assert email.to == "loen@kommune.example"
    assert f"/modtagelse/dokument/{document.pk}/" in email.body
    assert "fængsel" not in email.body.lower() and "111180" not in email.body

    client.force_login(school_manager)
    page = client.get(f"/bestillinger/{order.public_id}/").content.decode()
    assert "Vurderes af lønkontoret" in page
    for secret in ("Fængsel", "straffelovens", "Hjørring", "§ 222"):
        assert secret not in page


def test_a_refusal_marks_the_line_refused_and_tells_the_manager(ordered_for):
    order = ordered_for("1205882468", name="Mette Holm")
    document = receive("afslag_boerneattest.pdf")

    assert document.outcome == "refused"
    assert order.lines.get(kind__code="child").status == "refused"
    assert Notification.objects.get(template="line_refused").to == "leder@nordskolen.example"


def test_the_oldest_ordered_line_is_matched(ordered_for, school, teacher, school_manager, payroll):
    first = ordered_for("0101904321")
    for line in first.lines.all():  # an older order for the same person, expired
        OrderLine.objects.filter(pk=line.pk).update(status="expired")
    second = order_for(unit=school, profile=teacher, by=school_manager, cpr="0101904321")
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)

    document = receive("boerneattest_ren.pdf")

    assert document.line.order == second


def test_a_second_certificate_for_an_answered_line_goes_back_to_payroll(ordered_for):
    order = ordered_for("0101904321")
    receive("boerneattest_ren.pdf")
    again = receive(
        "again.pdf", as_from_the_police(sample("boerneattest_ren.pdf")) + b"\n%resent\n"
    )
    assert again.state == "second_answer" and again.line is not None
    assert order.lines.get(kind__code="child").status == "in_review"


def test_a_certificate_without_an_order_goes_to_the_manual_queue(rules):
    document = receive("boerneattest_ren.pdf")
    assert document.state == "no_order" and document.person.cpr == "0101904321"


def test_the_same_file_twice_is_one_document(rules):
    first, created = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="a.pdf", source="upload", process=False
    )
    second, created_again = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="b.pdf", source="folder", process=False
    )
    assert created and not created_again and first == second
    assert Document.objects.count() == 1


def test_files_are_stored_outside_the_web_root_under_generated_names(rules, document_root):
    document, _ = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="../../etc/passwd", source="upload", process=False
    )
    path = document_path(document)
    assert path.is_relative_to(document_root) and "passwd" not in str(path)
    assert path.read_bytes() == sample("boerneattest_ren.pdf")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_forwarded_message_becomes_a_document_with_its_pdf(ordered_for):
    order = ordered_for("0101904321")
    message = receive("boerneattest_ren.eml")

    pdf = message.attachments.get()
    assert message.state == "done" and pdf.state == "done" and pdf.outcome == "clean"
    assert pdf.notice["cpr"] == "010190-xxxx" and "Børneatt." in pdf.notice["subject"]
    assert order.lines.get(kind__code="child").status == "cleared"


def test_an_oversized_file_is_kept_but_not_read(rules, settings):
    settings.MAX_DOCUMENT_BYTES = 1000
    document, _ = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="big.pdf", source="upload", process=False
    )
    assert document.state == "unreadable" and "MB" in document.reason
    assert document_path(document).exists()


def test_processing_twice_changes_nothing(ordered_for):
    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    assert process_document(document_id=document.pk) is None
    assert document.evaluations.count() == 1


@pytest.mark.parametrize("name", ["encrypted.pdf", "page.pdf"])
def test_hostile_uploads_end_in_the_queue_with_a_reason(rules, name):
    from .conftest import encrypted_pdf

    data = encrypted_pdf() if name == "encrypted.pdf" else b"<html><script>x</script></html>"
    document = receive(name, data)
    assert document.state == "unreadable" and document.reason


def test_without_active_rules_every_document_goes_to_a_person(rules):
    from robot.models import RuleSet

    RuleSet.objects.update(is_active=False)
    document = receive("boerneattest_ren.pdf")
    assert document.state == "needs_review" and document.outcome == "needs_review"


def test_a_document_that_cannot_be_processed_lands_in_the_queue(rules):
    document, _ = ingest_bytes(
        sample("boerneattest_ren.pdf"), filename="a.pdf", source="upload", process=False
    )
    document_path(document).unlink()  # the stored file went missing

    process_document(document_id=document.pk)

    document.refresh_from_db()
    assert document.state == "needs_review" and "FileNotFoundError" in document.reason


def test_a_not_clean_certificate_for_an_answered_line_is_sent_to_payroll(ordered_for):
    order = ordered_for("1111803335", name="Søren Ærøe")
    OrderLine.objects.filter(order=order, kind__code="child").update(status="cleared")

    document = receive("boerneattest_plettet.pdf")

    assert document.state == "second_answer"
    assert order.lines.get(kind__code="child").status == "in_review"
    assert Notification.objects.filter(template="certificate_flagged").exists()


def test_a_clean_certificate_is_read_and_matched_in_a_bounded_number_of_queries(
    ordered_for, django_assert_max_num_queries
):
    ordered_for("0101904321")
    ordered_for("1502851357", name="Jens Peter Hansen")
    receive("boerneattest_ren.pdf")  # the first document compiles the rules
    data = as_from_the_police(sample("offentlig_straffeattest_ren.pdf"))
    statement = Upload.objects.create(by=UserFactory(username="upload"), origin="digital_post")
    document, _ = ingest_bytes(
        data, filename="second.pdf", source="upload", upload=statement, process=False
    )

    # The lock (with the active rules and the upload statement), the line (with its mode),
    # the line's status through orders' one door and its event, the filing job, the
    # evaluation, the document; and the savepoint and its release that this test's
    # transaction needs. Plain querysets: at most ten statements a certificate.
    with django_assert_max_num_queries(10):
        process_document(document_id=document.pk)

    document.refresh_from_db()
    assert document.state == "done" and document.line.status == "cleared"
    assert document.person.cpr == "1502851357"
