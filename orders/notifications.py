"""The outbox: every e-mail the portal sends is recorded first, sent afterwards by the
worker, retried on failure, and left visible with its error while it fails.

This is the only module that talks to the mail server (tests/test_architecture.py).
Orders and the robot call queue_email directly; the organisation app may not import
orders, so it reaches queue_email through portal/outbox.py.

No e-mail may contain a CPR number or anything from a certificate; they name the
new hire and link to the portal, where the rest is behind login and access rules.
"""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from portal.backoff import backoff
from portal.models import Membership, User

from .models import Hire, Notification, NotificationAttachment, Order, OrderLine

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # with the backoff below: retried for about two days


def retry_delay(attempts: int) -> datetime.timedelta:
    """5 min, 10, 20, ... capped at 8 hours between attempts, with jitter."""
    return backoff(attempts, first=datetime.timedelta(minutes=5), cap=datetime.timedelta(hours=8))


def order_url(order: Order) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "orders:detail", kwargs={"public_id": order.public_id}
    )


def payroll_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("payroll:batches")


def manager_addresses(order: Order) -> list[str]:
    """The orderer, or the unit's managers when the orderer has no address (or has left)."""
    if order.created_by and order.created_by.is_active and order.created_by.email:
        return [order.created_by.email]
    return sorted(
        Membership.objects.filter(
            unit_id=order.unit_id, role=Membership.Role.MANAGER, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def payroll_addresses() -> list[str]:
    if settings.PAYROLL_EMAIL:
        return [settings.PAYROLL_EMAIL]
    return sorted(
        User.objects.filter(is_payroll=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def queue_email(
    *,
    template: str,
    key: str,
    to: Iterable[str],
    context: dict,
    order: Order | None = None,
    line: OrderLine | None = None,
    hire: Hire | None = None,
    attachments: Iterable[tuple[str, bytes]] = (),
) -> Notification | None:
    """Record an e-mail, with any (file name, content) attachments, for sending after
    commit. Returns None if this template and key were queued before (each reminder goes
    out once) or there is nobody to send it to."""
    recipients = [address for address in to if address]
    if not recipients:
        logger.warning("No recipient for e-mail %s (%s)", template, key)
        return None
    if Notification.objects.filter(template=template, key=key).exists():
        return None
    context = {
        **context,
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL.rstrip("/"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        subject = subject[:197] + "..." if len(subject) > 200 else subject
        body = render_to_string(f"emails/{template}.txt", context)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                template=template,
                key=key,
                to=", ".join(recipients),
                subject=subject,
                body=body,
                order=order,
                line=line,
                hire=hire,
            )
            NotificationAttachment.objects.bulk_create(
                NotificationAttachment(notification=notification, name=name, content=content)
                for name, content in attachments
            )
    except IntegrityError:
        return None  # queued concurrently by another run of the schedule
    from .tasks import send_notification

    send_notification.delay_on_commit(notification.pk)
    return notification


def empty_emails(notifications: QuerySet[Notification]) -> int:
    """Forget what the e-mails said (their kind, recipients and dates stay for the record)."""
    NotificationAttachment.objects.filter(notification__in=notifications).delete()
    return notifications.update(subject="", body="")


def send_notification(*, notification_id: int) -> None:
    """Send one recorded e-mail; idempotent, so a redelivered task sends nothing twice."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id)
            .exclude(state=Notification.State.SENT)
            .first()
        )
        if notification is None:
            return
        notification.attempts += 1
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[a.strip() for a in notification.to.split(",")],
        )
        for attachment in notification.attachments.all():
            message.attach(attachment.name, bytes(attachment.content))
        try:
            message.send()
        except Exception as error:  # SMTP errors come in many classes
            notification.state = Notification.State.FAILED
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            notification.next_attempt_at = timezone.now() + retry_delay(notification.attempts)
            logger.warning("E-mail %s failed: %s", notification.pk, notification.last_error)
        else:
            notification.state = Notification.State.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
        notification.save(
            update_fields=["state", "attempts", "last_error", "sent_at", "next_attempt_at"]
        )


def send_pending_notifications() -> int:
    """Send what is waiting, and retry what failed when its backoff has passed."""
    now = timezone.now()
    due = Q(state=Notification.State.PENDING) | Q(
        state=Notification.State.FAILED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now
    )
    ids = list(
        Notification.objects.filter(due).order_by("created_at").values_list("pk", flat=True)[:500]
    )
    for notification_id in ids:
        send_notification(notification_id=notification_id)
    return len(ids)
