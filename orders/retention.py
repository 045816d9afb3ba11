"""Retention of orders' data: the portal forgets what it no longer needs (docs/architecture.md,
D4). Orders and persons are anonymised RETENTION_ORDER_MONTHS after their last event,
access-log rows go after RETENTION_ACCESS_LOG_MONTHS, reminders about new hires are emptied
after the order period.

Each app forgets its own data. This module knows orders and persons, not the robot's
documents: the daily run (robot/retention.py, `apply_retention`) passes in, as `still_needed`,
the conditions under which the robot still needs an order or a person (a certificate on
its way to the case system, one awaiting payroll), and forgets the documents' details of
what was anonymised here. Orders never imports the robot; the robot calls these functions.

Every selection is made from the current state of the data, never from a mark left by an
earlier run, so running twice, or after a crash half-way, does the remaining work and
nothing more.
"""

import calendar
import datetime
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .answers import ANONYMISED_HASH_PREFIX, ANONYMISED_NAME, anonymise_order, anonymise_person
from .hires import hire_reminders_sent
from .models import AccessLog, Hire, Notification, Order, OrderEvent, OrderLine, Person
from .notifications import empty_emails
from .services import ROBOT


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same local time `months` calendar months earlier (31 March - 1 month = 28/29 Feb)."""
    local = timezone.localtime(moment)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def order_period_start(now: datetime.datetime) -> datetime.datetime:
    """What happened before this moment is past the order period (RETENTION_ORDER_MONTHS)."""
    return months_before(now, settings.RETENTION_ORDER_MONTHS)


# Selections -------------------------------------------------------------------------


def orders_due(*, now: datetime.datetime, still_needed: Sequence[Exists] = ()) -> QuerySet[Order]:
    """Orders with no open line and no event for RETENTION_ORDER_MONTHS months, and none of
    the `still_needed` conditions (each an `Exists` on the order's pk) true."""
    cutoff = order_period_start(now)
    orders = (
        Order.objects.exclude(full_name=ANONYMISED_NAME)
        .filter(created_at__lte=cutoff)
        .exclude(Exists(OrderEvent.objects.filter(order=OuterRef("pk"), at__gt=cutoff)))
        .exclude(Exists(OrderLine.objects.open().filter(order=OuterRef("pk"))))
    )
    for condition in still_needed:
        orders = orders.exclude(condition)
    return orders


def persons_due(
    *,
    now: datetime.datetime,
    still_needed: Sequence[Exists] = (),
    also_anonymised: Iterable[int] = (),
) -> QuerySet[Person]:
    """Persons whose every order is anonymised (or in `also_anonymised`, for the dry run),
    created before the order period and with none of the `still_needed` conditions true."""
    cutoff = order_period_start(now)
    remaining_orders = (
        Order.objects.filter(person=OuterRef("pk"))
        .exclude(full_name=ANONYMISED_NAME)
        .exclude(pk__in=list(also_anonymised))
    )
    # A person the HR system reports as hired stays known: renewals of their certificates
    # are ordered from the hire (the portal is not told when an employment ends).
    employed = Hire.objects.filter(person=OuterRef("pk")).exclude(status=Hire.Status.WITHDRAWN)
    persons = (
        Person.objects.exclude(cpr_hash__startswith=ANONYMISED_HASH_PREFIX)
        .filter(created_at__lte=cutoff)
        .exclude(Exists(remaining_orders))
        .exclude(Exists(employed))
    )
    for condition in still_needed:
        persons = persons.exclude(condition)
    return persons


def access_log_due(*, now: datetime.datetime) -> QuerySet[AccessLog]:
    return AccessLog.objects.filter(at__lt=months_before(now, settings.RETENTION_ACCESS_LOG_MONTHS))


def hire_emails_due(*, now: datetime.datetime) -> QuerySet[Notification]:
    """Reminders about new hires older than the order period. The hire itself stays: it is
    the employment that certificate renewals are prompted from."""
    return hire_reminders_sent(before=order_period_start(now))


# Changes ----------------------------------------------------------------------------


@transaction.atomic
def anonymise_order_if_due(
    *, order_id: int, now: datetime.datetime, still_needed: Sequence[Exists] = ()
) -> Order | None:
    """Anonymise one order if it is still due; the order, or None when it no longer is."""
    # Locked and checked again: a line may have been re-ordered since the selection.
    order = (
        orders_due(now=now, still_needed=still_needed)
        .select_for_update()
        .filter(pk=order_id)
        .first()
    )
    if order is not None:
        anonymise_order(order=order, by=ROBOT)
    return order


@transaction.atomic
def anonymise_person_if_due(
    *, person_id: int, now: datetime.datetime, still_needed: Sequence[Exists] = ()
) -> Person | None:
    """Forget one person's CPR number if they are still due; the person, or None."""
    # Locked and checked again: a new order may have found the person by CPR meanwhile.
    person = (
        persons_due(now=now, still_needed=still_needed)
        .select_for_update()
        .filter(pk=person_id)
        .first()
    )
    if person is not None:
        anonymise_person(person=person)
    return person


def delete_access_log(*, now: datetime.datetime) -> int:
    """Delete access-log rows past RETENTION_ACCESS_LOG_MONTHS; the number deleted."""
    return access_log_due(now=now).delete()[0]


def empty_hire_emails(*, now: datetime.datetime) -> int:
    """Empty reminders about new hires past the order period; the number emptied."""
    return empty_emails(hire_emails_due(now=now))
