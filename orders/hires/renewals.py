"""Renewals: staff whose position requires a fresh check every few years prompt their
managers again once their certificate is that old.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from ..models import Hire, OrderLine, PositionProfile
from .evaluation import NeedsLookup


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@transaction.atomic
def prompt_renewals(*, now: datetime.datetime) -> int:
    """Staff whose position requires a renewed check every N years, and whose required
    certificate was cleared longer ago than that, prompt their managers again."""
    today = timezone.localdate(now)
    years = dict(
        PositionProfile.objects.filter(renewal_years__isnull=False).values_list(
            "pk", "renewal_years"
        )
    )
    if not years:
        return 0
    staff = list(
        Hire.objects.select_for_update().filter(
            profile_id__in=list(years), status=Hire.Status.ORDERED
        )
    )
    needs = NeedsLookup()
    persons = {h.person_id for h in staff}
    cleared = defaultdict(dict)
    for person_id, kind_id, at in OrderLine.objects.filter(
        person_id__in=persons,
        status=OrderLine.Status.CLEARED,
    ).values_list("person_id", "kind_id", "status_changed_at"):
        previous = cleared[person_id].get(kind_id)
        cleared[person_id][kind_id] = max(at, previous) if previous else at
    open_kinds = set(
        OrderLine.objects.open().filter(person_id__in=persons).values_list("person_id", "kind_id")
    )
    due = []
    for hire in staff:
        cutoff = _years_before(today, years[hire.profile_id])
        for kind_id in needs.required_kinds.get(hire.profile_id, set()):
            last = cleared[hire.person_id].get(kind_id)
            if (
                last is not None
                and timezone.localdate(last) <= cutoff
                and (hire.person_id, kind_id) not in open_kinds
            ):
                hire.status, hire.order, hire.renewal_due_since = (
                    Hire.Status.AWAITING_ORDER,
                    None,
                    today,
                )
                due.append(hire)
                break
    Hire.objects.bulk_update(due, ["status", "order", "renewal_due_since"])
    return len(due)


def renewals_overdue():
    """Renewal prompts nobody has ordered for: payroll sees them."""
    return (
        Hire.objects.filter(renewal_due_since__isnull=False, status=Hire.Status.AWAITING_ORDER)
        .select_related("unit", "profile", "person")
        .order_by("renewal_due_since")
    )
