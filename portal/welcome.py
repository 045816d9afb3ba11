"""The welcome pack: which sections a user sees, and dismissing the banner."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import Area, User, WelcomeSection


def welcome_areas(user: User) -> QuerySet[Area]:
    """Areas whose pack the user may read: their units' areas, or all for payroll and staff."""
    if user.is_payroll or user.is_staff:
        return Area.objects.all()
    return Area.objects.filter(units__memberships__user=user).distinct()


def welcome_sections(area: Area | None) -> list[WelcomeSection]:
    """General sections, with the area's own section replacing the general one per topic."""
    sections = WelcomeSection.objects.filter(area__isnull=True)
    if area is not None:
        sections = sections | WelcomeSection.objects.filter(area=area)
    by_topic: dict[str, WelcomeSection] = {}
    for section in sections.order_by("sort_order", "pk"):
        if section.area_id is not None or section.topic not in by_topic:
            by_topic[section.topic] = section
    return sorted(by_topic.values(), key=lambda s: (s.sort_order, s.pk))


def should_show_welcome_banner(user: User) -> bool:
    return user.is_authenticated and user.welcome_dismissed_at is None and user.memberships.exists()


def dismiss_welcome_banner(*, user: User) -> None:
    if user.welcome_dismissed_at is None:
        user.welcome_dismissed_at = timezone.now()
        user.save(update_fields=["welcome_dismissed_at"])
