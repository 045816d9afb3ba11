import datetime
import io
import threading

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from pypdf import PdfReader

from orders.models import Notification, OrderEvent
from robot import filing, services
from robot.models import FilingJob

from .test_pipeline import receive
from .test_trial import certificate_for


@pytest.fixture
def archive(settings, tmp_path):
    settings.ESDH_BACKEND = "archive"
    settings.ESDH_ARCHIVE_DIR = str(tmp_path / "esdh")
    settings.ESDH_RATE_LIMIT = 1000
    return tmp_path / "esdh"


def filed_files(archive):
    return sorted(p.name for p in archive.glob("*/*"))


def test_a_clean_certificate_is_filed_once_and_the_manager_told(ordered_for, archive):
    order = ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    job = FilingJob.objects.get(document=document)

    assert filing.file_due() == 1
    assert filing.file_due() == 0
    assert filing.run_job(job_id=job.pk) is None  # a redelivered task does nothing

    job.refresh_from_db()
    assert job.state == "filed" and job.esdh_reference == job.reference
    assert filed_files(archive) == [f"{job.reference}.json", f"{job.reference}.pdf"]
    line = order.lines.get(kind__code="child")
    assert OrderEvent.objects.filter(line=line, action="filed").count() == 1
    mail = Notification.objects.get(template="certificate_filed")
    assert mail.to == "leder@nordskolen.example" and "Den er ren" in mail.body
    assert "0101904321" not in mail.body and "010190-4321" not in mail.body


def test_queueing_a_filing_again_changes_nothing(ordered_for, archive):
    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    job = FilingJob.objects.get(document=document)

    # As a retried step would: the job already there stays as it was, and nothing fails.
    filing.queue_filing(document=document, line=document.line, with_decision=True)

    assert FilingJob.objects.filter(document=document).get() == job
    assert not FilingJob.objects.get(pk=job.pk).with_note


def test_one_run_files_every_due_job_not_only_the_first_few(ordered_for, archive):
    ordered_for("0101904321")
    ordered_for("1502851357", name="Jens Peter Hansen")
    receive("boerneattest_ren.pdf")
    receive("offentlig_straffeattest_ren.pdf")

    assert filing.file_due(limit=1) == 2
    assert set(FilingJob.objects.values_list("state", flat=True)) == {"filed"}


@pytest.fixture
def with_a_worker():
    """Tasks go to the broker for a worker, as in production (not run in this process)."""
    from celery.signals import before_task_publish

    from portal.celery import app

    sent = []

    def record(sender=None, headers=None, **kwargs):
        sent.append((sender, headers.get("eta")))

    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    before_task_publish.connect(record, weak=False)
    cache.delete(filing.WAKE_KEY)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)
        app.conf.task_always_eager = eager


def test_a_burst_of_certificates_wakes_the_filing_worker_once(
    ordered_for, archive, with_a_worker, django_capture_on_commit_callbacks, settings
):
    settings.FILING_WAKE_SECONDS = 2
    ordered_for("0101904321")
    ordered_for("1502851357", name="Jens Peter Hansen")

    with django_capture_on_commit_callbacks(execute=True):
        receive("boerneattest_ren.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        receive("offentlig_straffeattest_ren.pdf")

    wakes = [eta for task, eta in with_a_worker if task == "robot.tasks.file_due"]
    assert len(wakes) == 1 and wakes[0] is not None  # one run, due when the window closes
    assert FilingJob.objects.count() == 2  # two clean certificates, one job each
    # The window closed: the next certificate wakes a worker again.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            receive("third.pdf", certificate_for("boerneattest_ren.pdf", "1502851357"))
    assert [task for task, _ in with_a_worker].count("robot.tasks.file_due") == 2


def test_a_not_clean_certificate_is_filed_only_after_the_decision_with_the_note(
    ordered_for, archive, payroll
):
    ordered_for("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")
    assert not FilingJob.objects.exists()

    services.assess_document(
        document=document,
        by=payroll,
        relevance="Ikke relevant",
        discussed=True,
        decision="may_employ",
        reason="Gammel sag",
    )
    filing.file_due()

    job = FilingJob.objects.get()
    assert job.state == "filed" and job.with_note and job.with_certificate
    pdf = PdfReader(
        io.BytesIO((archive / next(archive.iterdir()).name / f"{job.reference}.pdf").read_bytes())
    )
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Kan ansættes" in text and "Gammel sag" in text  # the note
    assert "registreret med følgende afgørelser" in text  # and the certificate
    assert "Kan ansættes" in Notification.objects.get(template="certificate_filed").body


def test_a_certificate_too_hostile_to_merge_goes_to_manual_with_the_reason(
    ordered_for, archive, payroll, settings
):
    # Merging parses the certificate in the sandbox: a file that needs more than the
    # limits ends the job in manual handling, with why, and the worker files on.
    from robot.intake import document_path

    from .test_sandbox_ops import object_bomb

    settings.PDF_READ_CPU_SECONDS = 10
    settings.PDF_READ_MEMORY_MB = 150
    ordered_for("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")
    services.assess_document(
        document=document,
        by=payroll,
        relevance="Ikke relevant",
        discussed=True,
        decision="may_employ",
        reason="Gammel sag",
    )
    document_path(document).write_bytes(object_bomb())

    assert filing.file_due() == 1

    job = FilingJob.objects.get()
    assert job.state == "manual" and filed_files(archive) == []
    assert job.last_error == gettext(
        "The certificate and the note of the decision could not be merged into one PDF: "
        "file them by hand. %(why)s"
    ) % {"why": gettext("The PDF needed too much memory to read (over %(mb)s MB).") % {"mb": 150}}


def test_a_kind_filed_as_a_note_only_never_stores_the_certificate(ordered_for, archive):
    from orders.models import CertificateKind

    CertificateKind.objects.filter(code="child").update(filing_policy="note")
    ordered_for("0101904321")
    receive("boerneattest_ren.pdf")
    filing.file_due()
    job = FilingJob.objects.get()
    pdf_path = next(archive.glob(f"*/{job.reference}.pdf"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    assert "Ren" in text and "ikke registreret med afgørelser" not in text


def test_an_outage_of_hours_is_retried_and_only_then_handed_to_a_person(
    ordered_for, settings, archive
):
    ordered_for("0101904321")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        receive("boerneattest_ren.pdf")
    settings.ESDH_ARCHIVE_DIR = "/proc/esdh-is-down"
    job = FilingJob.objects.get()
    hours = 0.0
    while hours < 47:
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            filing.file_due()
        hours += 0.5
    job.refresh_from_db()
    assert job.state == "failed" and job.attempts > 5 and "Arkivmappen" in job.last_error
    gaps = job.attempts  # backoff: far fewer attempts than half-hourly runs
    assert gaps < 47 * 2

    with time_machine.travel(start + datetime.timedelta(hours=49), tick=False):
        FilingJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        filing.file_due()
    job.refresh_from_db()
    assert job.state == "manual" and "48" in job.last_error

    settings.ESDH_ARCHIVE_DIR = str(archive)
    filing.retry_job(job=job, by=None)
    filing.file_due()
    job.refresh_from_db()
    assert job.state == "filed"


def test_after_an_uncertain_failure_the_case_system_is_asked_first(ordered_for, archive):
    from robot.esdh.archive import ArchiveCaseSystem

    ordered_for("0101904321")
    receive("boerneattest_ren.pdf")
    job = FilingJob.objects.get()
    # The document reached the archive, but the worker never heard back.
    ArchiveCaseSystem().file(filing.build_request(job))
    FilingJob.objects.filter(pk=job.pk).update(
        state="in_progress", uncertain=True, claimed_at=timezone.now() - datetime.timedelta(hours=1)
    )

    assert filing.release_stale_claims() == 1
    filing.file_due()

    job.refresh_from_db()
    assert job.state == "filed" and filed_files(archive) == [
        f"{job.reference}.json",
        f"{job.reference}.pdf",
    ]


def test_a_certificate_file_already_deleted_goes_to_manual(ordered_for, archive):
    from robot.intake import document_path

    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    document_path(document).unlink()
    filing.file_due()
    assert FilingJob.objects.get().state == "manual"


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_job(ordered_for, archive):
    for n in range(1, 21):
        ordered_for(f"0101{n + 60:02d}4321", name=f"Person {n}")
    from orders.models import OrderLine
    from robot.models import Document

    lines = list(OrderLine.objects.filter(kind__code="child"))
    for n, line in enumerate(lines):
        document = Document.objects.create(
            sha256=f"{n:064d}",
            original_name="x.pdf",
            stored_name=f"x{n}",
            size=1,
            source="upload",
            person=line.person,
            line=line,
            state="done",
            outcome="clean",
        )
        FilingJob.objects.create(document=document, line=line, reference=f"AP-T{n}")
    claimed = [[], []]

    def worker(index):
        try:
            while ids := filing.claim_due(limit=3):
                claimed[index].extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 20


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_across_workers(settings):
    slots = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(10):
                slot = filing.take_rate_slot(rate=50)
                with lock:
                    slots.append(slot)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    slots.sort()
    gaps = [(b - a).total_seconds() for a, b in zip(slots, slots[1:], strict=False)]
    assert len(slots) == 30 and min(gaps) >= 0.02 - 1e-6


def test_payroll_sees_failures_with_reason_and_retries(
    client, ordered_for, settings, archive, payroll
):
    ordered_for("0101904321")
    receive("boerneattest_ren.pdf")
    settings.ESDH_ARCHIVE_DIR = "/proc/esdh-is-down"
    filing.file_due()
    job = FilingJob.objects.get()
    client.force_login(payroll)
    html = client.get(reverse("robot:filing")).content.decode()
    assert "Arkivmappen kunne ikke skrives" in html and job.reference in html

    settings.ESDH_ARCHIVE_DIR = str(archive)
    client.post(reverse("robot:filing_action", args=[job.pk]), {"action": "retry"})
    filing.file_due()
    assert FilingJob.objects.get().state == "filed"
