"""Retention: the portal forgets what it no longer needs (docs/architecture.md, D4).

Certificate files go N days after they were filed, orders are anonymised M months after
their last event, access-log rows go after K months. Only the portal's own copies are
touched: nothing here calls the case system, so what was filed there stays.

Every step is chosen from the current state of the data, never from a mark left by an
earlier run, so running it twice, or after a crash half-way, does the remaining work and
nothing more. The dry run counts the same selections and changes nothing.
"""

import calendar
import datetime
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from orders.answers import (
    ANONYMISED_HASH_PREFIX,
    ANONYMISED_NAME,
    anonymise_order,
    anonymise_person,
)
from orders.hires import hire_reminders_sent
from orders.models import AccessLog, Hire, Order, OrderEvent, OrderLine, Person
from orders.notifications import empty_emails
from orders.services import ROBOT

from .intake import document_path
from .models import Document, Evaluation, FilingJob

logger = logging.getLogger(__name__)

# A person with a certificate awaiting payroll's assessment is still being worked on.
ASSESSMENT_STATES = (Document.State.NOT_CLEAN, Document.State.AWAITING_APPROVAL)
FILED = FilingJob.State.FILED


@dataclass(frozen=True)
class RetentionReport:
    dry_run: bool
    files_deleted: int = 0
    orders_anonymised: int = 0
    persons_anonymised: int = 0
    access_log_deleted: int = 0
    hire_emails_emptied: int = 0


def apply_retention(
    *, now: datetime.datetime | None = None, dry_run: bool = False
) -> RetentionReport:
    """Delete and anonymise what the retention periods say the portal no longer needs."""
    now = now or timezone.now()
    if dry_run:
        orders = list(orders_due(now=now).values_list("pk", flat=True))
        persons = list(persons_due(now=now, also_anonymised=orders).values_list("pk", flat=True))
        gone = (
            _file_expired(now) | _anonymised() | Q(line__order__in=orders) | Q(person__in=persons)
        )
        report = RetentionReport(
            dry_run=True,
            files_deleted=len(_documents_with_files(gone)),
            orders_anonymised=len(orders),
            persons_anonymised=len(persons),
            access_log_deleted=access_log_due(now=now).count(),
            hire_emails_emptied=hire_emails_due(now=now).count(),
        )
    else:
        orders = sum(
            _anonymise_order(order_id=pk, now=now)
            for pk in orders_due(now=now).values_list("pk", flat=True)
        )
        persons = sum(
            _anonymise_person(person_id=pk, now=now)
            for pk in persons_due(now=now).values_list("pk", flat=True)
        )
        report = RetentionReport(
            dry_run=False,
            files_deleted=_delete_files(_file_expired(now) | _anonymised()),
            orders_anonymised=orders,
            persons_anonymised=persons,
            access_log_deleted=access_log_due(now=now).delete()[0],
            hire_emails_emptied=empty_emails(hire_emails_due(now=now)),
        )
    logger.info(
        "Retention%s: %d files, %d orders, %d persons, %d access-log rows, %d hire e-mails",
        " (dry run)" if dry_run else "",
        report.files_deleted,
        report.orders_anonymised,
        report.persons_anonymised,
        report.access_log_deleted,
        report.hire_emails_emptied,
    )
    return report


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same local time `months` calendar months earlier (31 March - 1 month = 28/29 Feb)."""
    local = timezone.localtime(moment)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


# Selections -------------------------------------------------------------------------


def _file_expired(now: datetime.datetime) -> Q:
    """Documents whose file the portal no longer needs, by rule 1 (days after filing)."""
    cutoff = now - timedelta(days=settings.RETENTION_FILE_DAYS)
    expired = (
        Q(state=Document.State.DISCARDED, handled_at__lte=cutoff)
        # A clean copy of an answer already given; a not-clean one waits for payroll.
        | (
            Q(state=Document.State.DUPLICATE, received_at__lte=cutoff)
            & ~Q(outcome=Document.Outcome.NOT_CLEAN)
        )
        | Q(filing__state=FILED, filing__filed_at__lte=cutoff)
    )
    return expired


def _anonymised() -> Q:
    """Documents of anonymised orders and persons: their files go as well."""
    return Q(line__order__full_name=ANONYMISED_NAME) | Q(
        person__cpr_hash__startswith=ANONYMISED_HASH_PREFIX
    )


def _without_unfiled(queryset: QuerySet, relation: str) -> QuerySet:
    """A certificate still on its way to the case system needs its file and the CPR."""
    unfiled = Document.objects.filter(filing__isnull=False).exclude(filing__state=FILED)
    return queryset.exclude(Exists(unfiled.filter(**{relation: OuterRef("pk")})))


def orders_due(*, now: datetime.datetime) -> QuerySet[Order]:
    """Orders with no open line and no event for RETENTION_ORDER_MONTHS months."""
    cutoff = months_before(now, settings.RETENTION_ORDER_MONTHS)
    orders = (
        Order.objects.exclude(full_name=ANONYMISED_NAME)
        .filter(created_at__lte=cutoff)
        .exclude(Exists(OrderEvent.objects.filter(order=OuterRef("pk"), at__gt=cutoff)))
        .exclude(Exists(OrderLine.objects.open().filter(order=OuterRef("pk"))))
    )
    return _without_unfiled(orders, "line__order")


def persons_due(*, now: datetime.datetime, also_anonymised=()) -> QuerySet[Person]:
    """Persons whose every order is anonymised (or in `also_anonymised`, for the dry run)
    and nothing of whom has arrived or awaits assessment within the order period."""
    cutoff = months_before(now, settings.RETENTION_ORDER_MONTHS)
    remaining_orders = (
        Order.objects.filter(person=OuterRef("pk"))
        .exclude(full_name=ANONYMISED_NAME)
        .exclude(pk__in=list(also_anonymised))
    )
    active_documents = Document.objects.filter(person=OuterRef("pk")).filter(
        Q(received_at__gt=cutoff) | Q(state__in=ASSESSMENT_STATES)
    )
    # A person the HR system reports as hired stays known: renewals of their certificates
    # are ordered from the hire (the portal is not told when an employment ends).
    employed = Hire.objects.filter(person=OuterRef("pk")).exclude(status=Hire.Status.WITHDRAWN)
    persons = (
        Person.objects.exclude(cpr_hash__startswith=ANONYMISED_HASH_PREFIX)
        .filter(created_at__lte=cutoff)
        .exclude(Exists(remaining_orders))
        .exclude(Exists(active_documents))
        .exclude(Exists(employed))
    )
    return _without_unfiled(persons, "person")


def hire_emails_due(*, now: datetime.datetime):
    """Reminders about new hires older than the order period. The hire itself stays: it is
    the employment that certificate renewals are prompted from."""
    return hire_reminders_sent(before=months_before(now, settings.RETENTION_ORDER_MONTHS))


def access_log_due(*, now: datetime.datetime) -> QuerySet[AccessLog]:
    return AccessLog.objects.filter(at__lt=months_before(now, settings.RETENTION_ACCESS_LOG_MONTHS))


def _documents_with_files(gone: Q) -> list[Document]:
    """The documents matching `gone` whose file is still in the portal, and the forwarded
    messages all of whose attachments match: a message holds the same certificates."""
    attachments = Document.objects.filter(parent=OuterRef("pk"))
    messages = Q(Exists(attachments.filter(gone))) & ~Q(Exists(attachments.exclude(gone)))
    candidates = (
        Document.objects.filter(gone | messages).distinct().only("pk", "stored_name").order_by("pk")
    )
    return [document for document in candidates if document_path(document).exists()]


# Changes ----------------------------------------------------------------------------


def _delete_files(gone: Q) -> int:
    # The row stays (statistics, the queue's history); only the bytes leave the portal.
    deleted = 0
    for document in _documents_with_files(gone):
        try:
            document_path(document).unlink()
        except FileNotFoundError:
            continue  # another run got there first
        deleted += 1
    return deleted


@transaction.atomic
def _anonymise_order(*, order_id: int, now: datetime.datetime) -> bool:
    # Locked and checked again: a line may have been re-ordered since the selection.
    order = orders_due(now=now).select_for_update().filter(pk=order_id).first()
    if order is None:
        return False
    anonymise_order(order=order, by=ROBOT)
    _forget_document_details(Q(line__order=order))
    return True


@transaction.atomic
def _anonymise_person(*, person_id: int, now: datetime.datetime) -> bool:
    # Locked and checked again: a new order may have found the person by CPR meanwhile.
    person = persons_due(now=now).select_for_update().filter(pk=person_id).first()
    if person is None:
        return False
    anonymise_person(person=person)
    _forget_document_details(Q(person=person))
    return True


def _forget_document_details(documents: Q) -> None:
    """What a document says about the person beyond its file: the file name (often the
    person's name), the forwarding notice and the evidence snippets quoted from the PDF."""
    affected = Document.objects.filter(documents)
    Evaluation.objects.filter(document__in=affected).update(evidence=[])
    Document.objects.filter(Q(pk__in=affected) | Q(attachments__in=affected)).update(
        original_name=ANONYMISED_NAME, notice={}
    )
