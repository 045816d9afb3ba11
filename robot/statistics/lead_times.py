"""Lead time from order to answer and the time spent in each stage, for the lines
answered in the period, from the summary (median and 90th percentile)."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Aggregate, Count, FloatField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import StatisticsLine, StatisticsMonth
from . import summary
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


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont: linear interpolation between closest ranks."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def answered_lines(scope: Scope, filters: Filters):
    """The summary rows of lines with an answer recorded in the period."""
    chosen = summary_q(scope, filters)
    answered = StatisticsMonth.objects.filter(
        chosen, month__gte=filters.start, month__lt=filters.end, received__gt=0
    ).values("line_id")
    return StatisticsLine.objects.filter(chosen, line_id__in=answered)


@summary.current
def lead_times(scope: Scope, filters: Filters) -> list[DurationFigure]:
    """Order → answer, and the time in each stage, for lines answered in the period.
    PostgreSQL computes the percentiles itself; elsewhere Python does, over one row per line."""
    labels = {"total": _("Order to answer"), **{k: str(v) for k, v in STAGES.items()}}
    lines = answered_lines(scope, filters)
    if connection.vendor == "postgresql":
        aggregates = {}
        for key, column in STAGE_COLUMNS.items():
            aggregates[f"{key}_count"] = Count(column)
            aggregates[f"{key}_median"] = PercentileCont(column, 0.5)
            aggregates[f"{key}_p90"] = PercentileCont(column, 0.9)
        row = lines.aggregate(**aggregates)
        figures = {
            key: (row[f"{key}_count"], row[f"{key}_median"], row[f"{key}_p90"])
            for key in STAGE_COLUMNS
        }
    else:
        columns = {key: [] for key in STAGE_COLUMNS}
        for values in lines.values_list(*STAGE_COLUMNS.values()):
            for key, value in zip(STAGE_COLUMNS, values, strict=True):
                if value is not None:
                    columns[key].append(value)
        figures = {
            key: (len(values), percentile(values, 0.5), percentile(values, 0.9))
            for key, values in columns.items()
        }
    return [
        DurationFigure(stage=key, label=labels[key], count=count, median=median, p90=p90)
        for key, (count, median, p90) in figures.items()
    ]
