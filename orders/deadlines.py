"""Time-driven rules: consent reminders, expiry and start dates close at hand.

Run by the beat schedule (orders.tasks.process_deadlines); every rule is idempotent,
so running the schedule twice, or catching up after a pause, sends nothing twice.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .hires import prompt_renewals, send_hire_reminders
from .models import Order, OrderEvent, OrderLine
from .notifications import manager_addresses, order_url, payroll_addresses, queue_email
from .services import ROBOT, change_line_status
from .timeline import record_event, record_events

logger = logging.getLogger(__name__)


@dataclass
class DeadlineReport:
    reminders: int = 0
    expired: int = 0
    start_soon: int = 0
    hire_reminders: int = 0
    renewals: int = 0


def process_deadlines(*, now: datetime.datetime | None = None) -> DeadlineReport:
    now = now or timezone.now()
    report = DeadlineReport()
    # Each rule on its own: one that fails must not keep the others from running.
    for name, rule in (
        ("expired", expire_unanswered_lines),
        ("reminders", send_consent_reminders),
        ("start_soon", warn_start_soon),
        ("hire_reminders", send_hire_reminders),
        ("renewals", prompt_renewals),
    ):
        try:
            setattr(report, name, rule(now=now))
        except Exception:
            logger.exception("Deadline rule %s failed", name)
    return report


def send_consent_reminders(*, now: datetime.datetime) -> int:
    """Ask the manager to nudge the new hire to consent in Digital Post (day 7 and 12)."""
    days = sorted(settings.CONSENT_REMINDER_DAYS)
    if not days:
        return 0
    lines = OrderLine.objects.filter(
        status=OrderLine.Status.ORDERED,
        order__digital_post_exempt=False,
        ordered_at__lte=now - datetime.timedelta(days=days[0]),
        ordered_at__gt=now - datetime.timedelta(days=settings.LINE_EXPIRY_DAYS),
    ).select_related("order__created_by", "order__unit", "kind")
    sent = 0
    for line in lines:
        age = (now - line.ordered_at).days
        # After a pause only the latest due reminder goes out, not all of them at once.
        day = max(d for d in days if d <= age)
        with transaction.atomic():
            notification = queue_email(
                template="consent_reminder",
                key=f"line:{line.pk}:day:{day}",
                to=manager_addresses(line.order),
                order=line.order,
                line=line,
                context={
                    "order": line.order,
                    "line": line,
                    "day": day,
                    "days_left": max(settings.CONSENT_DAYS - age, 0),
                    "url": order_url(line.order),
                },
            )
            if notification is not None:
                record_event(
                    line=line,
                    at=now,
                    actor=None,
                    action=OrderEvent.Action.REMINDED,
                    note=notification.to,
                )
                sent += 1
    return sent


def expire_unanswered_lines(*, now: datetime.datetime) -> int:
    """Lines without an answer after LINE_EXPIRY_DAYS expire; manager and payroll are told."""
    cutoff = now - datetime.timedelta(days=settings.LINE_EXPIRY_DAYS)
    expired = 0
    candidates = OrderLine.objects.filter(status=OrderLine.Status.ORDERED, ordered_at__lte=cutoff)
    for line_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            line = (
                OrderLine.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("order__created_by", "order__unit", "kind")
                .filter(pk=line_id, status=OrderLine.Status.ORDERED)
                .first()
            )
            if line is None:
                continue
            change_line_status(
                line=line,
                to=OrderLine.Status.EXPIRED,
                by=ROBOT,
                now=now,
                action=OrderEvent.Action.EXPIRED,
            )
            context = {
                "order": line.order,
                "line": line,
                "days": settings.LINE_EXPIRY_DAYS,
                "url": order_url(line.order),
            }
            queue_email(
                template="line_expired",
                key=f"line:{line.pk}",
                to=manager_addresses(line.order),
                order=line.order,
                line=line,
                context=context,
            )
            queue_email(
                template="line_expired_payroll",
                key=f"line:{line.pk}",
                to=payroll_addresses(),
                order=line.order,
                line=line,
                context=context,
            )
            expired += 1
    return expired


def warn_start_soon(*, now: datetime.datetime) -> int:
    """One e-mail per order whose hire starts within START_SOON_DAYS without a certificate."""
    today = timezone.localdate(now)
    order_ids = (
        OrderLine.objects.starting_soon(today=today, days=settings.START_SOON_DAYS)
        .values_list("order_id", flat=True)
        .distinct()
    )
    orders = Order.objects.filter(pk__in=list(order_ids)).select_related("created_by", "unit")
    warned = 0
    for order in orders:
        open_lines = list(order.lines.uncleared().select_related("kind"))
        with transaction.atomic():
            notification = queue_email(
                template="start_soon",
                key=f"order:{order.pk}",
                to=manager_addresses(order),
                order=order,
                context={"order": order, "lines": open_lines, "url": order_url(order)},
            )
            if notification is not None:
                record_events(
                    {"line": line, "at": now, "actor": None, "action": OrderEvent.Action.START_SOON}
                    for line in open_lines
                )
                warned += 1
    return warned
