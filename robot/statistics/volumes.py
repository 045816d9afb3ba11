"""What was ordered, where: lines per month by kind and area, volumes per department for
splitting the running costs, and hires who started before their answer."""

import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from orders.models import OrderLine

from ..models import StatisticsLine, StatisticsMonth
from . import summary
from .numbers import share
from .period import Filters, Scope, summary_q


def _placed(scope: Scope, filters: Filters):
    return StatisticsMonth.objects.filter(
        summary_q(scope, filters), month__gte=filters.start, month__lt=filters.end, placed__gt=0
    )


@summary.current
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


@summary.current
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


@summary.current
def started_before_answer(scope: Scope, filters: Filters, *, today=None) -> list[dict]:
    """Per area: hires who started (start date in the period, passed) before the line had an
    answer, out of all such lines."""
    today = today or timezone.localdate()
    rows = (
        StatisticsLine.objects.filter(
            summary_q(scope, filters),
            start_date__gte=filters.start,
            start_date__lt=min(filters.end, today + datetime.timedelta(days=1)),
        )
        .exclude(status=OrderLine.Status.CANCELLED)
        .values("unit__area__name")
        .annotate(lines=Count("pk"), early=Count("pk", filter=Q(answered_by_start=False)))
        .order_by("unit__area__name")
    )
    return [
        {
            "area": row["unit__area__name"],
            "lines": row["lines"],
            "early": row["early"],
            "share": share(row["early"], row["lines"]),
        }
        for row in rows
    ]
