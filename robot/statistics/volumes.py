"""What was ordered, where: lines per month by kind and area, volumes per department for
splitting the running costs, and hires who started before their answer."""

import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from orders.models import OrderLine
from portal.models import Unit

from ..models import StatisticsLine
from . import summary
from .numbers import share
from .period import Filters, Scope, summary_q


def _placed(scope: Scope, filters: Filters):
    return summary.unit_months(scope, filters).filter(placed__gt=0)


def ordered_per_month(scope: Scope, filters: Filters) -> list[dict]:
    """Lines ordered (placed or ordered again) per month, by kind and area."""
    rows = (
        _placed(scope, filters)
        .values("month", "kind__name", "unit__area__name")
        .annotate(n=Sum("placed"))
        .order_by("month", "kind__name", "unit__area__name")
    )
    return [
        {
            "month": row["month"],
            "kind": row["kind__name"],
            "area": row["unit__area__name"],
            "n": row["n"],
        }
        for row in rows
    ]


def volumes(scope: Scope, filters: Filters) -> list[dict]:
    """Lines ordered in the period per area, unit and kind: for splitting the running costs."""
    rows = list(
        _placed(scope, filters)
        .values("unit__area__name", "unit__name", "kind__name")
        .annotate(n=Sum("placed"))
        .order_by("unit__area__name", "unit__name", "kind__name")
    )
    total = sum(row["n"] for row in rows)
    return [
        {
            "area": row["unit__area__name"],
            "unit": row["unit__name"],
            "kind": row["kind__name"],
            "n": row["n"],
            "share": share(row["n"], total),
        }
        for row in rows
    ]


def started_before_answer(scope: Scope, filters: Filters, *, today=None) -> list[dict]:
    """Per area: hires who started (start date in the period, passed) before the line had an
    answer, out of all such lines."""
    today = today or timezone.localdate()
    # Counted per unit from the covering index alone, then added up per area here: a
    # year's lines joined to their units and areas took the database twice as long.
    per_unit = (
        StatisticsLine.objects.filter(
            summary_q(scope, filters),
            start_date__gte=filters.start,
            start_date__lt=min(filters.end, today + datetime.timedelta(days=1)),
        )
        .exclude(status=OrderLine.Status.CANCELLED)
        .values("unit_id")
        .annotate(lines=Count("pk"), early=Count("pk", filter=Q(answered_by_start=False)))
        .order_by()
    )
    counts = {row["unit_id"]: (row["lines"], row["early"]) for row in per_unit}
    areas: dict[str, list[int]] = {}
    for unit_id, area in (
        Unit.objects.filter(pk__in=counts).order_by("area__name").values_list("pk", "area__name")
    ):
        lines, early = counts[unit_id]
        totals = areas.setdefault(area, [0, 0])
        totals[0] += lines
        totals[1] += early
    return [
        {"area": area, "lines": lines, "early": early, "share": share(early, lines)}
        for area, (lines, early) in areas.items()  # in the database's order of names
    ]
