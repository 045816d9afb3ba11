"""A user's messages: the e-mails the portal sent them, with a link to what each is about."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from portal.models import User

from .hires import hires_visible_to
from .models import Notification, Order
from .selectors import orders_visible_to


def notifications_for(user: User) -> QuerySet[Notification]:
    """E-mails addressed to the user, and for payroll to payroll's shared mailbox; newest first."""
    addresses = [user.email]
    if user.is_payroll and settings.PAYROLL_EMAIL:
        addresses.append(settings.PAYROLL_EMAIL)
    match = Q()
    for address in filter(None, addresses):
        # `to` is "a@x.dk, b@y.dk": match whole addresses only, never a longer one.
        match |= (
            Q(to__iexact=address)
            | Q(to__istartswith=f"{address},")
            | Q(to__iendswith=f", {address}")
            | Q(to__icontains=f", {address},")
        )
    if not match:
        return Notification.objects.none()
    return Notification.objects.filter(match).select_related("order").order_by("-created_at", "-pk")


@dataclass(frozen=True)
class Message:
    notification: Notification
    link: str  # a path in the portal, or "" when the e-mail is about nothing one can open
    order: Order | None
    subject: str  # the e-mail's subject, or the kind of e-mail when it may not be shown
    body: str  # "" when the e-mail may not be shown or has been anonymised


_PORTAL_LINK = re.compile(r"https?://\S+")


def messages_for(user: User, notifications) -> list[Message]:
    """The page's e-mails with their links: the order when the user may open it, else the
    portal page the e-mail itself linked to.

    An e-mail about an order or a new hire the user can no longer see (a manager who
    changed units) shows only its kind and date: its subject names the new hire and its
    text may hold payroll's decision, which are no longer theirs to read."""
    notifications = list(notifications)
    order_ids = {n.order_id for n in notifications if n.order_id}
    visible = set(orders_visible_to(user).filter(pk__in=order_ids).values_list("pk", flat=True))
    hire_ids = {n.hire_id for n in notifications if n.hire_id}
    hires = set(hires_visible_to(user).filter(pk__in=hire_ids).values_list("pk", flat=True))
    return [_message(n, visible, hires, user) for n in notifications]


def _message(notification: Notification, visible: set[int], hires: set[int], user: User) -> Message:
    if notification.order_id in visible:
        return Message(
            notification=notification,
            link=reverse("orders:detail", kwargs={"public_id": notification.order.public_id}),
            order=notification.order,
            subject=notification.subject or notification.template_label,
            body=notification.body,
        )
    if notification.order_id or (notification.hire_id and notification.hire_id not in hires):
        return Message(
            notification=notification,
            link="",
            order=None,
            subject=notification.template_label,
            body="",
        )
    return Message(
        notification=notification,
        link=_link_in(notification.body, user),
        order=None,
        subject=notification.subject or notification.template_label,
        body=notification.body,
    )


def _link_in(body: str, user: User) -> str:
    base = urlsplit(settings.PORTAL_BASE_URL)
    admin = reverse("admin:index")
    for url in _PORTAL_LINK.findall(body):
        parts = urlsplit(url.rstrip(".,)"))
        if parts.netloc != base.netloc:
            continue
        # Role e-mails also go to payroll, who cannot open the administration they link to.
        if parts.path.startswith(admin) and not user.is_staff:
            continue
        return parts.path
    return ""
