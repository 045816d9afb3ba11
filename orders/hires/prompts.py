"""The manager's side: the hires a user may see, the prompt to order on their front
page, the two answers to it (an order, or "not needed" with a reason), and the access
log of who saw which hire.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from ..models import AccessLog, Hire, Order
from ..services import log_person_access
from .exceptions import HireError


def hires_visible_to(user: User):
    """Hires of the user's own units; payroll sees all. Anything else must answer 404."""
    if not user.is_authenticated:
        return Hire.objects.none()
    if user.is_payroll:
        return Hire.objects.all()
    return Hire.objects.filter(unit__memberships__user=user)


@transaction.atomic
def link_order(*, hire: Hire, order: Order, by: User) -> Hire:
    """The manager ordered from the prompt: the hire is done."""
    hire = Hire.objects.select_for_update().get(pk=hire.pk)
    hire.status, hire.order, hire.decided_by, hire.decided_at = (
        Hire.Status.ORDERED,
        order,
        by,
        timezone.now(),
    )
    hire.renewal_due_since = None
    hire.save(update_fields=["status", "order", "decided_by", "decided_at", "renewal_due_since"])
    return hire


@transaction.atomic
def mark_not_needed(*, hire: Hire, by: User, reason: str) -> Hire:
    """The manager says no certificate is needed, and why; payroll sees the reason."""
    hire = Hire.objects.select_for_update().get(pk=hire.pk)
    reason = " ".join(reason.split())
    if not reason:
        raise HireError(_("Give a reason why no certificate is needed."))
    if hire.status == Hire.Status.NOT_NEEDED:
        return hire
    if hire.status != Hire.Status.AWAITING_ORDER:
        raise HireError(_("This new hire no longer awaits an order."))
    hire.status, hire.not_needed_reason = Hire.Status.NOT_NEEDED, reason[:1000]
    hire.decided_by, hire.decided_at = by, timezone.now()
    hire.save(update_fields=["status", "not_needed_reason", "decided_by", "decided_at"])
    return hire


def log_hire_access(*, user: User, hires) -> None:
    log_person_access(
        user=user, action=AccessLog.Action.LIST_HIRES, entries=[(h.person_id, None) for h in hires]
    )


def prompts_for(user: User) -> list[Hire]:
    """ "Ny medarbejder mangler attest": the user's units' hires awaiting an order. Only
    managers and secretaries of the unit; who saw them is logged."""
    if not user.is_authenticated or user.is_payroll:
        return []
    prompts = list(
        Hire.objects.prompting().filter(unit__memberships__user=user).order_by("start_date")[:50]
    )
    log_hire_access(user=user, hires=prompts)
    return prompts
