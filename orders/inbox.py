"""A user's messages: the e-mails the portal sent them, with a link to what each is about."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from portal.models import User

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


_PORTAL_LINK = re.compile(r"https?://\S+")


def messages_for(user: User, notifications) -> list[Message]:
    """The page's e-mails with their links: the order when the user may open it, else the
    portal page the e-mail itself linked to."""
    notifications = list(notifications)
    order_ids = {n.order_id for n in notifications if n.order_id}
    visible = set(orders_visible_to(user).filter(pk__in=order_ids).values_list("pk", flat=True))
    return [
        Message(
            notification=n,
            link=(
                reverse("orders:detail", kwargs={"public_id": n.order.public_id})
                if n.order_id in visible
                else _link_in(n.body)
            ),
            order=n.order if n.order_id in visible else None,
        )
        for n in notifications
    ]


def _link_in(body: str) -> str:
    base = urlsplit(settings.PORTAL_BASE_URL)
    for url in _PORTAL_LINK.findall(body):
        parts = urlsplit(url.rstrip(".,)"))
        if parts.netloc == base.netloc:
            return parts.path
    return ""
