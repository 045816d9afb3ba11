import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from orders.answers import ANONYMISED_NAME
from orders.models import AccessLog, Notification, OrderEvent, OrderLine, Person
from orders.services import change_line_status, log_access
from portal.cpr import hash_cpr
from robot import models as robot_models
from robot.intake import document_path, ingest_bytes
from robot.models import Document, Evaluation, RuleSet
from robot.retention import apply_retention

from ..factories import hire_awaiting_order, order_for

CPH = zoneinfo.ZoneInfo("Europe/Copenhagen")
T0 = datetime.datetime(2025, 1, 10, 9, 0, tzinfo=CPH)
CPR = "1503871234"

pytestmark = pytest.mark.django_db


def at(**delta):
    return time_machine.travel(T0 + datetime.timedelta(**delta), tick=False)


def months_later(months: int, days: int = 0):
    year, month = divmod(T0.month - 1 + months, 12)
    return time_machine.travel(
        T0.replace(year=T0.year + year, month=month + 1) + datetime.timedelta(days=days), tick=False
    )


@pytest.fixture
def place(school, teacher, school_manager):
    def make(name: str = "Søren Ærøe", cpr: str = CPR):
        return order_for(unit=school, profile=teacher, by=school_manager, name=name, cpr=cpr)

    return make


def clear(order, by=None):
    """Every line of the order answered: nothing is open any more."""
    with transaction.atomic():
        for line in order.lines.all():
            change_line_status(
                line=line,
                to=OrderLine.Status.CLEARED,
                by=by,
                action=OrderEvent.Action.RECEIVED,
                note="Ren",
            )


def certificate(name: str = "straffeattest Søren Ærøe.pdf", **fields) -> Document:
    document, _ = ingest_bytes(
        f"%PDF-1.4 {name}".encode(), filename=name, source="upload", process=False
    )
    Document.objects.filter(pk=document.pk).update(**fields)
    document.refresh_from_db()
    return document


def file_exists(document) -> bool:
    return document_path(document).exists()


FilingJob = robot_models.FilingJob


def filed(document, line, when):
    return FilingJob.objects.create(
        document=document,
        line=line,
        state="filed",
        reference=f"AP-{document.pk:08d}",
        esdh_reference=f"SAG-{document.pk}",
        filed_at=when,
    )


# Certificate files ------------------------------------------------------------------


def test_a_filed_certificate_leaves_the_portal_30_days_after_filing_and_not_before(place):
    with at():
        order = place()
        clear(order)
        line = order.lines.first()
        document = certificate(state="done", outcome="clean", line=line, person=line.person)
        filed(document, line, T0)

    with at(days=29, hours=23):
        assert apply_retention().files_deleted == 0
    assert file_exists(document)

    with at(days=30):
        assert apply_retention().files_deleted == 1
    assert not file_exists(document)
    document.refresh_from_db()
    assert document.state == "done" and document.line == line  # the row stays
    assert FilingJob.objects.get(document=document).state == "filed"


def test_a_certificate_not_yet_filed_keeps_its_file(place):
    with at():
        order = place()
        clear(order)
        line = order.lines.first()
        waiting = certificate(state="done", outcome="clean", line=line, person=line.person)
        FilingJob.objects.create(
            document=waiting,
            line=line,
            reference="AP-waiting",
            state="failed",
            last_error="SBSYS svarer ikke",
        )
        unfiled = certificate(
            "ingen-journalisering.pdf", state="done", outcome="clean", line=line, person=line.person
        )

    with months_later(13):
        apply_retention()
    assert file_exists(waiting) and file_exists(unfiled)
    order.refresh_from_db()
    assert order.full_name == "Søren Ærøe"  # its certificate still has to reach the ESDH


def test_the_file_period_is_configurable(settings):
    settings.RETENTION_FILE_DAYS = 5
    with at():
        document = certificate(state="discarded", handled_at=T0)
    with at(days=4):
        apply_retention()
    assert file_exists(document)
    with at(days=5):
        apply_retention()
    assert not file_exists(document)


def test_discarded_and_duplicate_documents_lose_their_files_after_the_period():
    with at():
        discarded = certificate("kasseret.pdf", state="discarded", handled_at=T0)
        duplicate = certificate("kopi.pdf", state="duplicate", outcome="clean")
        flagged_duplicate = certificate("kopi-plettet.pdf", state="duplicate", outcome="not_clean")
        in_queue = certificate("ukendt.pdf", state="needs_review")

    with at(days=29):
        apply_retention()
    assert all(map(file_exists, [discarded, duplicate, flagged_duplicate, in_queue]))

    with at(days=31):
        report = apply_retention()
    assert report.files_deleted == 2
    assert not file_exists(discarded) and not file_exists(duplicate)
    # Payroll must look at a not-clean duplicate, and the queue still needs its documents.
    assert file_exists(flagged_duplicate) and file_exists(in_queue)


def test_a_forwarded_message_goes_with_its_attachments():
    with at():
        message = certificate("videresendt.eml", state="done")
        attachment = certificate("bilag.pdf", state="discarded", handled_at=T0, parent=message)
        kept_message = certificate("andet.eml", state="done")
        certificate("bilag2.pdf", state="discarded", handled_at=T0, parent=kept_message)
        certificate("bilag3.pdf", state="needs_review", parent=kept_message)

    with at(days=31):
        assert apply_retention().files_deleted == 3
    assert not file_exists(message) and not file_exists(attachment)
    # The message still holds a certificate payroll has not handled.
    assert file_exists(kept_message)


# Orders -----------------------------------------------------------------------------


def test_anonymisation_wipes_cpr_and_name_but_keeps_the_statistics(
    place, school_manager, payroll, client
):
    with at():
        order = place()
        clear(order, by=payroll)
        line = order.lines.first()
        document = certificate(
            state="done",
            outcome="clean",
            line=line,
            person=line.person,
            notice={"att": "Søren Ærøe", "cpr": "150387-xxxx"},
        )
        Evaluation.objects.create(
            document=document,
            ruleset=RuleSet.objects.create(version=99),
            kind_code="child",
            outcome="clean",
            reason="Ren",
            evidence=[{"role": "clean", "snippet": "Søren Ærøe ingen registreringer"}],
        )
        Notification.objects.create(
            template="decision",
            key="t",
            to="leder@example.org",
            subject="Søren Ærøe",
            body="Attest for Søren Ærøe",
            order=order,
            line=line,
        )
        statuses = sorted(order.lines.values_list("kind__code", "status"))
        events = OrderEvent.objects.filter(order=order).count()

    with months_later(12, days=1):
        report = apply_retention()

    assert (report.orders_anonymised, report.persons_anonymised) == (1, 1)
    order.refresh_from_db()
    person = Person.objects.get(pk=order.person_id)
    assert order.full_name == ANONYMISED_NAME
    assert person.cpr == "" and person.cpr_hash.startswith("anon-")
    assert CPR not in person.cpr_encrypted
    assert not Person.objects.filter(cpr_hash=hash_cpr(CPR)).exists()
    mail = Notification.objects.get(order=order)
    assert (mail.subject, mail.body) == ("", "")
    document.refresh_from_db()
    assert not file_exists(document)
    assert "Søren" not in document.original_name and document.notice == {}
    assert document.evaluations.get().evidence == []
    # Statistics stay: lines, kinds, statuses, unit, dates and the timeline.
    assert sorted(order.lines.values_list("kind__code", "status")) == statuses
    assert order.unit.name == "Nordskolen" and order.created_at == T0
    timeline = list(OrderEvent.objects.filter(order=order).order_by("at", "pk"))
    assert len(timeline) == events + 1
    assert timeline[-1].action == OrderEvent.Action.ANONYMISED and timeline[-1].actor is None
    # The manager's list still shows the order, without the person.
    client.force_login(school_manager)
    page = client.get(reverse("orders:list")).content.decode()
    assert ANONYMISED_NAME in page and "Søren" not in page and "150387" not in page


def test_an_order_waits_12_months_after_its_last_event(place):
    with at():
        order = place()
    with at(days=60):
        clear(order)

    with months_later(12, days=30):
        assert apply_retention().orders_anonymised == 0
    with months_later(14, days=1):
        assert apply_retention().orders_anonymised == 1


def test_an_open_order_is_never_anonymised(place):
    with at():
        order = place()

    with months_later(60):
        report = apply_retention()

    assert report.orders_anonymised == report.persons_anonymised == 0
    order.refresh_from_db()
    assert order.full_name == "Søren Ærøe"
    assert order.person.cpr == CPR
    assert set(order.lines.values_list("status", flat=True)) == {"new"}


def test_a_person_with_a_newer_order_keeps_the_cpr(place):
    with at():
        old = place(name="Søren Ærøe")
        clear(old)
    with months_later(11):
        newer = place(name="Søren Ærøe")

    with months_later(12, days=1):
        report = apply_retention()

    assert (report.orders_anonymised, report.persons_anonymised) == (1, 0)
    old.refresh_from_db()
    newer.refresh_from_db()
    assert old.full_name == ANONYMISED_NAME
    assert newer.full_name == "Søren Ærøe" and newer.person.cpr == CPR


def test_the_order_period_is_configurable(place, settings):
    settings.RETENTION_ORDER_MONTHS = 3
    with at():
        order = place()
        clear(order)
    with months_later(2, days=27):
        assert apply_retention().orders_anonymised == 0
    with months_later(3, days=1):
        assert apply_retention().orders_anonymised == 1


# Access log -------------------------------------------------------------------------


def test_access_log_rows_older_than_24_months_are_deleted(place, school_manager):
    with at():
        order = place()
        log_access(user=school_manager, action=AccessLog.Action.VIEW_ORDER, orders=[order])
    with months_later(23):
        log_access(user=school_manager, action=AccessLog.Action.VIEW_ORDER, orders=[order])
    before = AccessLog.objects.count()

    with months_later(24, days=1):
        report = apply_retention()

    assert report.access_log_deleted == 2  # the placing and the first view
    assert AccessLog.objects.count() == before - 2
    assert list(AccessLog.objects.values_list("at", flat=True)) == [
        T0.replace(year=T0.year + 1, month=12)
    ]


# Dry run, repetition, entry points --------------------------------------------------


@pytest.fixture
def old_data(place, school_manager):
    with at():
        order = place()
        clear(order)
        line = order.lines.first()
        certificate(state="done", outcome="clean", line=line, person=line.person)
        certificate("kasseret.pdf", state="discarded", handled_at=T0)
        log_access(user=school_manager, action=AccessLog.Action.VIEW_ORDER, orders=[order])
    return order


def snapshot():
    return (
        list(Person.objects.values_list("cpr_hash", "cpr_encrypted")),
        list(Notification.objects.values_list("subject", "body")),
        list(Document.objects.values_list("original_name", "notice")),
        [file_exists(d) for d in Document.objects.all()],
        AccessLog.objects.count(),
        list(OrderLine.objects.values_list("order__full_name", "status")),
    )


def test_a_dry_run_counts_what_would_go_and_changes_nothing(old_data):
    before = snapshot()
    with months_later(25):
        planned = apply_retention(dry_run=True)
        assert snapshot() == before

        done = apply_retention()

    assert planned.dry_run and not done.dry_run
    assert (
        planned.files_deleted,
        planned.orders_anonymised,
        planned.persons_anonymised,
        planned.access_log_deleted,
    ) == (2, 1, 1, 2)
    assert (
        done.files_deleted,
        done.orders_anonymised,
        done.persons_anonymised,
        done.access_log_deleted,
    ) == (2, 1, 1, 2)


def test_running_again_does_nothing_more(old_data):
    with months_later(25):
        apply_retention()
        after = snapshot()
        again = apply_retention()

    assert (
        again.files_deleted,
        again.orders_anonymised,
        again.persons_anonymised,
        again.access_log_deleted,
    ) == (0, 0, 0, 0)
    assert snapshot() == after


def test_the_command_dry_run_prints_counts_only(old_data):
    out = io.StringIO()
    before = snapshot()
    with months_later(25):
        call_command("apply_retention", "--dry-run", stdout=out)

    printed = out.getvalue()
    assert "Dry run" in printed
    assert "Certificate files to delete: 2" in printed and "Orders to anonymise: 1" in printed
    assert "150387" not in printed and "Søren" not in printed
    assert snapshot() == before


def test_the_daily_task_applies_retention(old_data, settings):
    from robot.tasks import apply_retention as task

    with months_later(25):
        result = task()  # the entry point beat calls, run here in-process

    assert result["orders_anonymised"] == 1
    assert settings.CELERY_BEAT_SCHEDULE["retention"]["task"] == "robot.tasks.apply_retention"


def test_a_reminder_about_a_new_hire_is_emptied_after_the_order_period_the_hire_kept(
    school, teacher, school_manager
):
    from orders.hires import send_hire_reminders
    from orders.models import Hire

    with at():
        hire = hire_awaiting_order(
            unit=school,
            profile=teacher,
            name="Karla Krog",
            start_date=T0.date() + datetime.timedelta(days=5),
        )
        assert send_hire_reminders(now=T0) == 1
    reminder = Notification.objects.get(template="hire_reminder")
    assert "Karla Krog" in reminder.subject + reminder.body

    with months_later(11):
        assert apply_retention().hire_emails_emptied == 0
    with months_later(13):
        assert apply_retention(dry_run=True).hire_emails_emptied == 1
        assert apply_retention().hire_emails_emptied == 1
        assert apply_retention().hire_emails_emptied == 0

    reminder.refresh_from_db()
    assert (reminder.subject, reminder.body) == ("", "")
    assert reminder.to == school_manager.email  # the record of the e-mail stays
    assert Hire.objects.filter(pk=hire.pk).exists()  # renewals are prompted from it


def test_a_person_still_employed_keeps_the_cpr_number_after_the_order_is_anonymised(
    old_data, school, teacher
):
    from orders.models import Hire

    # The HR system reported the hire the order was for: renewals are ordered from it.
    Hire.objects.create(
        source_key="emp:1",
        person=old_data.person,
        full_name="Søren Ærøe",
        unit=school,
        start_date=T0.date(),
        job_code="1234",
        profile=teacher,
        status=Hire.Status.ORDERED,
        order=old_data,
    )

    with months_later(25):
        report = apply_retention()

    assert (report.orders_anonymised, report.persons_anonymised) == (1, 0)
    assert Person.objects.get(pk=old_data.person_id).cpr == CPR
