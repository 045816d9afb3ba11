"""Read-side rules of the organisation: which units a user belongs to."""

from django.db.models import QuerySet

from .models import Unit, User


def units_of(user: User) -> QuerySet[Unit]:
    """Units whose orders the user may see and for which they may order."""
    if not user.is_authenticated:
        return Unit.objects.none()
    units = Unit.objects.filter(is_active=True).select_related("area")
    if user.is_payroll:
        return units
    return units.filter(memberships__user=user)
