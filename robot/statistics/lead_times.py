"""Lead time from order to answer and the time spent in each stage, for the lines
answered in the period, from the summary (median and 90th percentile)."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import StatisticsMonth
from .numbers import format_hours, percentile
from .period import Filters, Scope, summary_q

STAGES = {
    "batch": gettext_lazy("Waiting for a police batch"),
    "police": gettext_lazy("At the police (incl. consent)"),
    "evaluation": gettext_lazy("Evaluation"),
    "review": gettext_lazy("Payroll's review"),
    "filing": gettext_lazy("Filing"),
}
# The summary's column for each figure (how each is measured: summary.summarise_line).
STAGE_COLUMNS = {
    "total": "total_hours",
    "batch": "batch_hours",
    "police": "police_hours",
    "evaluation": "evaluation_hours",
    "review": "review_hours",
    "filing": "filing_hours",
}


@dataclass
class DurationFigure:
    stage: str
    label: str
    count: int
    median: float | None
    p90: float | None

    @property
    def median_display(self) -> str:
        return format_hours(self.median)

    @property
    def p90_display(self) -> str:
        return format_hours(self.p90)


def answered_months(scope: Scope, filters: Filters):
    """One row per line with an answer recorded in the period, with the line's hours: of
    a line answered in several months, its first answered month in the period."""
    return StatisticsMonth.objects.filter(
        Q(answered_before__isnull=True) | Q(answered_before__lt=filters.start),
        summary_q(scope, filters),
        month__gte=filters.start,
        month__lt=filters.end,
        received__gt=0,
    )


def lead_times(scope: Scope, filters: Filters) -> list[DurationFigure]:
    """Order → answer, and the time in each stage, for lines answered in the period.
    PostgreSQL computes the percentiles itself; elsewhere Python does."""
    labels = {"total": _("Order to answer"), **{k: str(v) for k, v in STAGES.items()}}
    rows = answered_months(scope, filters)
    columns = list(STAGE_COLUMNS.values())
    # An empty scope has no SQL (Django raises EmptyResultSet): Python counts nothing.
    if connection.vendor == "postgresql" and not scope.has_no_units:
        inner, params = rows.order_by().values(*columns).query.sql_with_params()
        selects = []
        for column in columns:
            selects += [
                f"COUNT({column})",
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column})",
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {column})",
            ]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(selects)} FROM ({inner}) AS answered", params)
            row = cursor.fetchone()
        figures = {key: tuple(row[3 * i : 3 * i + 3]) for i, key in enumerate(STAGE_COLUMNS)}
    else:
        values = {key: [] for key in STAGE_COLUMNS}
        for durations in rows.values_list(*columns):
            for key, value in zip(STAGE_COLUMNS, durations, strict=True):
                if value is not None:
                    values[key].append(value)
        figures = {
            key: (len(found), percentile(found, 0.5), percentile(found, 0.9))
            for key, found in values.items()
        }
    return [
        DurationFigure(stage=key, label=labels[key], count=count, median=median, p90=p90)
        for key, (count, median, p90) in figures.items()
    ]
