"""What a hire's managers are sent: the daily reminder to order (with the clean-up that
runs alongside it) and the notice that a hire they ordered for was withdrawn.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from portal.models import Membership

from ..models import Hire, HireImport, Notification, OrderLine, UnreadHire
from ..notifications import queue_email
from .evaluation import reevaluate_open_hires


def unit_manager_addresses(unit_id: int) -> list[str]:
    return sorted(
        Membership.objects.filter(
            unit_id=unit_id,
            role=Membership.Role.MANAGER,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def hire_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("orders:list")


def tell_manager_of_withdrawal(hire: Hire) -> None:
    if (
        hire.order_id is None
        or not OrderLine.objects.open().filter(order_id=hire.order_id).exists()
    ):
        return
    order = hire.order
    queue_email(
        template="hire_withdrawn",
        key=f"hire:{hire.pk}:withdrawn",
        to=unit_manager_addresses(hire.unit_id),
        order=order,
        context={
            "hire": hire,
            "url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("orders:detail", kwargs={"public_id": order.public_id}),
        },
    )


def send_hire_reminders(*, now: datetime.datetime) -> int:
    """Managers of hires starting within HIRE_REMINDER_DAYS with nothing ordered get one
    reminder each. Also picks up job codes mapped since the import."""
    reevaluate_open_hires()
    # A dry run nobody applied within a day is discarded: its CPR numbers go with it.
    HireImport.objects.filter(
        state=HireImport.State.DRY_RUN, created_at__lt=now - datetime.timedelta(days=1)
    ).update(state=HireImport.State.DISCARDED, payload_encrypted="")
    # An employment SD keeps sending unusable is not kept (with its CPR) for ever.
    UnreadHire.objects.filter(
        first_seen_at__lt=now - datetime.timedelta(days=settings.HIRE_UNREAD_KEEP_DAYS)
    ).delete()
    today = timezone.localdate(now)
    hires = Hire.objects.prompting().filter(
        start_date__lte=today + datetime.timedelta(days=settings.HIRE_REMINDER_DAYS),
        start_date__gte=today - datetime.timedelta(days=settings.HIRE_COMPLIANCE_DAYS),
    )
    sent = 0
    for hire in hires:
        with transaction.atomic():
            notification = queue_email(
                template="hire_reminder",
                key=f"hire:{hire.pk}",
                to=unit_manager_addresses(hire.unit_id),
                hire=hire,
                context={"hire": hire, "url": hire_url()},
            )
            sent += notification is not None
    return sent


def hire_reminders_sent(*, before: datetime.datetime) -> QuerySet[Notification]:
    """Reminders about new hires (they name the hire) sent before `before` and not yet
    emptied."""
    return Notification.objects.filter(
        hire__isnull=False, order__isnull=True, created_at__lte=before
    ).exclude(subject="", body="")
