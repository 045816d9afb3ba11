"""Read-side rules: who may see which orders, and what a unit may order.

Every view goes through these functions; access rules live nowhere else.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from portal.models import Membership, Unit, User

from .models import LegalBasis, Order, PositionProfile, ProfileRequirement


def orders_visible_to(user: User) -> QuerySet[Order]:
    """Orders of the user's own units; payroll sees all. Anything else must answer 404."""
    if not user.is_authenticated:
        return Order.objects.none()
    if user.is_payroll:
        return Order.objects.all()
    # The ids themselves, not a join: the planner then walks the (unit, ...) indexes in
    # the list's order instead of sorting every order of the user's units.
    unit_ids = list(Membership.objects.filter(user=user).values_list("unit_id", flat=True))
    return Order.objects.filter(unit_id__in=unit_ids)


def profiles_for(unit: Unit | None) -> QuerySet[PositionProfile]:
    """The positions a unit may order for: its area's, narrowed to its unit type (a
    daycare is not offered school positions). A unit without a type gets them all."""
    if unit is None:
        return PositionProfile.objects.none()
    profiles = PositionProfile.objects.filter(area_id=unit.area_id, is_active=True)
    if unit.unit_type_id is not None:
        profiles = profiles.filter(Q(unit_type__isnull=True) | Q(unit_type_id=unit.unit_type_id))
    return profiles


@dataclass(frozen=True)
class CertificateOption:
    basis: LegalBasis
    required: bool
    # Added by the answer "yes" to the children question, not by the position.
    for_children: bool = False

    @property
    def kind(self):
        return self.basis.kind


def certificate_options(
    profile: PositionProfile | None, *, child_contact: bool | None = None
) -> list[CertificateOption]:
    """What the order form offers for a position: the profile's kinds, and the child
    certificate when the hire will be in contact with children and the area allows it."""
    if profile is None:
        return []
    requirements = (
        ProfileRequirement.objects.filter(profile=profile, legal_basis__is_active=True)
        .select_related("legal_basis__kind")
        .order_by("legal_basis__kind__sort_order")
    )
    options = [
        CertificateOption(basis=r.legal_basis, required=r.level == r.Level.REQUIRED)
        for r in requirements
    ]
    child_basis = child_contact_basis(profile)
    if child_contact and child_basis is not None:
        options.append(CertificateOption(basis=child_basis, required=True, for_children=True))
        options.sort(key=lambda o: o.kind.sort_order)
    return options


def child_contact_basis(profile: PositionProfile | None) -> LegalBasis | None:
    """The child-certificate purpose to add on a "yes" to the children question, or None
    when the question does not apply (the area does not allow it, or the profile already
    includes a child certificate)."""
    if profile is None:
        return None
    rule = getattr(profile.area, "child_contact_rule", None)
    basis = rule.legal_basis if rule is not None else None
    if basis is None or not basis.is_active:
        return None
    if profile.requirements.filter(legal_basis__kind_id=basis.kind_id).exists():
        return None
    return basis


def payroll_batches():
    from .models import PoliceBatch

    return PoliceBatch.objects.select_related("kind", "legal_basis", "ordered_by").annotate(
        size=Count("lines")
    )


def ordered_batches():
    """Batches marked as ordered, each with its number of persons counted for itself, so a
    page of them does not group every line of ten years of batches."""
    from django.db.models import OuterRef, Subquery

    from .models import OrderLine, PoliceBatch

    size = (
        OrderLine.objects.filter(batch=OuterRef("pk"))
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        PoliceBatch.objects.filter(state=PoliceBatch.State.ORDERED)
        .select_related("kind", "legal_basis", "ordered_by")
        .annotate(size=Subquery(size))
    )


def start_window(today=None) -> tuple:
    """The start dates (first, last) for which a missing certificate is flagged: on the
    order list's badge and on payroll's "New hires" alike, so the two agree. Three weeks
    ahead by default, as an answer takes about two; and back over the look-back, since a
    hire who started without one is still missing it."""
    import datetime

    from django.conf import settings
    from django.utils import timezone

    today = today or timezone.localdate()
    return (
        today - datetime.timedelta(days=settings.HIRE_COMPLIANCE_LOOKBACK_DAYS),
        today + datetime.timedelta(days=settings.HIRE_COMPLIANCE_DAYS),
    )


def start_soon_date():
    """Hires starting on or before this date without a cleared certificate are flagged."""
    return start_window()[1]


def timeline_for(order: Order, user: User) -> list:
    """The order's events as the user may see them. A manager is not shown payroll's own
    steps with the police batches (batching, undoing) nor batch references."""
    events = list(order.events.all())
    if user.is_payroll:
        for event in events:
            event.shown_note = event.note
        return events
    shown = [e for e in events if e.action not in e.PAYROLL_INTERNAL]
    for event in shown:
        event.shown_note = "" if event.action == event.Action.ORDERED else event.note
    return shown
