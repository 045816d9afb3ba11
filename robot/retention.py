"""Retention of the robot's data, and the daily run that forgets everything the retention
periods say the portal no longer needs (docs/architecture.md, D4).

Each app forgets its own data. The robot owns the returned documents: a certificate's file
goes RETENTION_FILE_DAYS after it was filed (discarded and duplicate documents likewise),
and when orders anonymises an order or a person, the documents' details about them go too
(their files, file names, forwarding notices and quoted evidence). Orders' part (orders,
persons, access log, reminders about new hires) is orders/retention.py; the robot calls it,
telling it which orders and persons the robot still needs, never the other way round.
`apply_retention` here is the one entry point: the `apply_retention` command and the daily
task `robot.tasks.apply_retention` call it.

Only the portal's own copies are touched: nothing here calls the case system, so what was
filed there stays. Every step is chosen from the current state of the data, never from a
mark left by an earlier run, so running it twice, or after a crash half-way, does the
remaining work and nothing more. The dry run counts the same selections and changes nothing.
"""

import datetime
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from orders import retention as orders_retention
from orders.answers import ANONYMISED_HASH_PREFIX, ANONYMISED_NAME

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
        orders = list(
            orders_retention.orders_due(now=now, still_needed=_orders_needed()).values_list(
                "pk", flat=True
            )
        )
        persons = list(
            orders_retention.persons_due(
                now=now, still_needed=_persons_needed(now), also_anonymised=orders
            ).values_list("pk", flat=True)
        )
        gone = (
            _file_expired(now) | _anonymised() | Q(line__order__in=orders) | Q(person__in=persons)
        )
        report = RetentionReport(
            dry_run=True,
            files_deleted=len(_documents_with_files(gone)),
            orders_anonymised=len(orders),
            persons_anonymised=len(persons),
            access_log_deleted=orders_retention.access_log_due(now=now).count(),
            hire_emails_emptied=orders_retention.hire_emails_due(now=now).count(),
        )
    else:
        orders = sum(
            _anonymise_order(order_id=pk, now=now)
            for pk in orders_retention.orders_due(
                now=now, still_needed=_orders_needed()
            ).values_list("pk", flat=True)
        )
        persons = sum(
            _anonymise_person(person_id=pk, now=now)
            for pk in orders_retention.persons_due(
                now=now, still_needed=_persons_needed(now)
            ).values_list("pk", flat=True)
        )
        report = RetentionReport(
            dry_run=False,
            files_deleted=_delete_files(_file_expired(now) | _anonymised()),
            orders_anonymised=orders,
            persons_anonymised=persons,
            access_log_deleted=orders_retention.delete_access_log(now=now),
            hire_emails_emptied=orders_retention.empty_hire_emails(now=now),
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


def _unfiled(relation: str) -> Exists:
    """A certificate still on its way to the case system needs its file and the CPR."""
    unfiled = Document.objects.filter(filing__isnull=False).exclude(filing__state=FILED)
    return Exists(unfiled.filter(**{relation: OuterRef("pk")}))


def _orders_needed() -> list[Exists]:
    """When the robot still needs an order that orders would otherwise anonymise."""
    return [_unfiled("line__order")]


def _persons_needed(now: datetime.datetime) -> list[Exists]:
    """When the robot still needs a person: a document of theirs arrived within the order
    period or awaits assessment, or a certificate of theirs is not yet filed."""
    active_documents = Document.objects.filter(person=OuterRef("pk")).filter(
        Q(received_at__gt=orders_retention.order_period_start(now)) | Q(state__in=ASSESSMENT_STATES)
    )
    return [Exists(active_documents), _unfiled("person")]


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
    # One transaction: the order stays locked until its documents have forgotten it too.
    order = orders_retention.anonymise_order_if_due(
        order_id=order_id, now=now, still_needed=_orders_needed()
    )
    if order is None:
        return False
    _forget_document_details(Q(line__order=order))
    return True


@transaction.atomic
def _anonymise_person(*, person_id: int, now: datetime.datetime) -> bool:
    person = orders_retention.anonymise_person_if_due(
        person_id=person_id, now=now, still_needed=_persons_needed(now)
    )
    if person is None:
        return False
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
