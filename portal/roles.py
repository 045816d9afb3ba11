"""Granting the payroll or administrator role takes two administrators: to a person
(proposed from the user list) or to every member of a provider group (a group mapping
made or changed in the admin).

Administrators and payroll are told of every proposal and decision by e-mail through the
outbox (portal/outbox.py), so a mail server that is down delays the warning but never
loses it."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import GroupMapping, RoleGrant, User
from .outbox import queue_email


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


# A change to these makes an approved role mapping a new proposal; a new label does not.
MATERIAL_MAPPING_FIELDS = {"group_id", "grants"}


@transaction.atomic
def save_group_mapping(
    *, mapping: GroupMapping, by: User, changed: set[str] | None = None
) -> RoleGrant | None:
    """Save a group mapping made or changed by an administrator. One that gives the
    payroll or administrator role is a proposal, without effect at login until another
    administrator approves it; a unit membership takes effect at once."""
    if not by.is_superuser:
        raise RoleGrantError(_("Only administrators change group mappings."))
    is_new = mapping.pk is None
    # Whether it is approved is the database's word, never the caller's copy.
    mapping.approved = not is_new and bool(
        GroupMapping.objects.select_for_update()
        .filter(pk=mapping.pk)
        .values_list("approved", flat=True)
        .first()
    )
    material = is_new or bool(MATERIAL_MAPPING_FIELDS & set(changed or ()))
    open_grant = (
        None
        if is_new
        else RoleGrant.objects.select_for_update()
        .filter(group_mapping=mapping, state=RoleGrant.State.PROPOSED)
        .first()
    )
    if material or not mapping.gives_role:
        mapping.approved = False
        if open_grant is not None:
            _supersede(open_grant)
            open_grant = None
    mapping.save()
    if not mapping.gives_role or mapping.approved or open_grant is not None:
        return None
    grant = RoleGrant.objects.create(
        group_mapping=mapping, role=mapping.grants, proposed_by=by, target=_describe(mapping)
    )
    _notify(grant, "role_proposed")
    return grant


@transaction.atomic
def delete_group_mapping(*, mapping: GroupMapping) -> None:
    """Taking access away is immediate; an open proposal for the mapping goes with it."""
    for grant in RoleGrant.objects.select_for_update().filter(
        group_mapping=mapping, state=RoleGrant.State.PROPOSED
    ):
        _supersede(grant)
    mapping.delete()


def _supersede(grant: RoleGrant) -> None:
    grant.state, grant.decided_at = RoleGrant.State.SUPERSEDED, timezone.now()
    grant.save(update_fields=["state", "decided_at"])


def _describe(mapping: GroupMapping) -> str:
    if mapping.label:
        return f"{mapping.label} ({mapping.group_id})"[:500]
    return mapping.group_id[:500]


@transaction.atomic
def decide_role(*, grant_id: int, by: User, approve: bool) -> RoleGrant:
    """A second administrator approves (the role takes effect) or rejects a proposal."""
    mapping_id = RoleGrant.objects.filter(pk=grant_id).values_list("group_mapping", flat=True)
    # The mapping first, as save_group_mapping locks it: a change racing the approval
    # either supersedes the proposal before it is read here or waits for the decision.
    mapping = GroupMapping.objects.select_for_update().filter(pk__in=mapping_id).first()
    grant = (
        RoleGrant.objects.select_for_update(of=("self",)).select_related("user").get(pk=grant_id)
    )
    if grant.state != RoleGrant.State.PROPOSED:
        raise RoleGrantError(_("The proposal has already been decided."))
    if not by.is_superuser or by.pk == grant.proposed_by_id:
        raise RoleGrantError(_("Another administrator must decide."))
    if grant.user_id is None and (mapping is None or mapping.grants != grant.role):
        raise RoleGrantError(_("The group mapping has been deleted or changed."))
    grant.state = RoleGrant.State.APPROVED if approve else RoleGrant.State.REJECTED
    grant.decided_by, grant.decided_at = by, timezone.now()
    grant.save(update_fields=["state", "decided_by", "decided_at"])
    if approve and mapping is not None:
        mapping.approved = True
        mapping.save(update_fields=["approved"])
    elif approve:
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
    addresses = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(is_payroll=True))
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    queue_email(
        template=template,
        key=f"role-grant-{grant.pk}",
        to=addresses,
        context={
            "user_name": grant.target if grant.user_id is None else str(grant.user),
            "group": grant.user_id is None,
            # The label itself, so the e-mail's language decides it, not this request's.
            "role": RoleGrant.Role(grant.role).label,
            "proposed_by": str(grant.proposed_by),
            "decided_by": str(grant.decided_by or ""),
        },
    )
