"""Granting the payroll or administrator role takes two administrators."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import RoleGrant, User

logger = logging.getLogger(__name__)


class RoleGrantError(Exception):
    """The proposal or approval is not allowed."""


@transaction.atomic
def propose_role(*, user: User, role: str, by: User) -> RoleGrant:
    """Record that `by` proposes giving `user` the role; nothing changes until approved."""
    if not by.is_superuser:
        raise RoleGrantError(_("Only administrators propose roles."))
    if _has_role(user, role):
        raise RoleGrantError(_("The user already has the role."))
    if RoleGrant.objects.filter(user=user, role=role, state=RoleGrant.State.PROPOSED).exists():
        raise RoleGrantError(_("The role is already proposed."))
    grant = RoleGrant.objects.create(user=user, role=role, proposed_by=by)
    _notify(grant, "role_proposed")
    return grant


@transaction.atomic
def decide_role(*, grant_id: int, by: User, approve: bool) -> RoleGrant:
    """A second administrator approves (the role takes effect) or rejects a proposal."""
    grant = RoleGrant.objects.select_for_update().select_related("user").get(pk=grant_id)
    if grant.state != RoleGrant.State.PROPOSED:
        raise RoleGrantError(_("The proposal has already been decided."))
    if not by.is_superuser or by.pk == grant.proposed_by_id:
        raise RoleGrantError(_("Another administrator must decide."))
    grant.state = RoleGrant.State.APPROVED if approve else RoleGrant.State.REJECTED
    grant.decided_by, grant.decided_at = by, timezone.now()
    grant.save(update_fields=["state", "decided_by", "decided_at"])
    if approve:
        user = grant.user
        if grant.role == RoleGrant.Role.PAYROLL:
            user.is_payroll = True
        else:
            user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_payroll", "is_staff", "is_superuser"])
    _notify(grant, "role_approved" if approve else "role_rejected")
    return grant


def _has_role(user: User, role: str) -> bool:
    return user.is_payroll if role == RoleGrant.Role.PAYROLL else user.is_superuser


def _notify(grant: RoleGrant, template: str) -> None:
    # portal may not import orders (tests/test_architecture.py), so not queue_email: the
    # grant itself is on record in the audit log, and the e-mail goes after commit.
    addresses = sorted(
        set(
            User.objects.filter(is_active=True, is_superuser=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        | set(
            User.objects.filter(is_active=True, is_payroll=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not addresses:
        return
    context = {
        "user_name": str(grant.user),
        "role": grant.get_role_display(),
        "proposed_by": str(grant.proposed_by),
        "decided_by": str(grant.decided_by or ""),
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL.rstrip("/"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        body = render_to_string(f"emails/{template}.txt", context)
    transaction.on_commit(lambda: _send(subject, body, addresses))


def _send(subject: str, body: str, addresses: list[str]) -> None:
    try:
        EmailMessage(subject=subject, body=body, bcc=addresses).send()
    except Exception:  # SMTP errors come in many classes; the grant stands regardless
        logger.exception("E-mail about a role grant failed")
