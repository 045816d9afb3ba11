"""Hours saved: per step, what the portal did alone and what people still did, times the
minutes the step takes by hand (STATS_MANUAL_MINUTES); and the whole in kroner and
full-time equivalents (STATS_HOURLY_COST_DKK, STATS_HOURS_PER_FTE), before and now."""

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy

from orders.models import Order, OrderLine
from portal.models import Unit

from . import summary
from .period import Filters, Scope

HOUR_STEPS = {
    "order": gettext_lazy("Orders placed through the portal"),
    "batch_line": gettext_lazy("Lines prepared for the police's mass order"),
    "evaluation": gettext_lazy("Certificates evaluated"),
    "filing": gettext_lazy("Certificates filed in the case system"),
    "review": gettext_lazy("Not-clean certificates assessed"),
}


def hours_saved(scope: Scope, filters: Filters) -> list[dict]:
    """Per step: what the portal did alone and what people still did, times the minutes the
    step takes by hand (STATS_MANUAL_MINUTES)."""
    minutes = settings.STATS_MANUAL_MINUTES
    totals = summary.totals(scope, filters)
    counts = {
        "batch_line": totals["batched"],
        "received": totals["received"],
        "evaluation_robot": totals["received_by_robot"],
        "filing_robot": totals["filed_by_robot"],
        "filing_person": totals["filed_by_person"],
        "review": totals["decided"],
    }
    orders = Order.objects.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_at)
    if scope.unit_ids is not None:
        orders = orders.filter(unit_id__in=scope.unit_ids)
    if filters.area_id:
        # The area's units as a list, so the (unit, created_at) index answers.
        orders = orders.filter(
            unit_id__in=list(
                Unit.objects.filter(area_id=filters.area_id).values_list("pk", flat=True)
            )
        )
    if filters.kind_id:
        orders = orders.filter(
            Exists(OrderLine.objects.filter(order=OuterRef("pk"), kind_id=filters.kind_id))
        )
    done = {
        # The portal routes, checks and records the order; the manager still fills the form.
        "order": (orders.count(), 0),
        # The portal prepares and checks the list; the clerk pastes it (counted under order).
        "batch_line": (counts["batch_line"], 0),
        "evaluation": (counts["evaluation_robot"], counts["received"] - counts["evaluation_robot"]),
        "filing": (counts["filing_robot"], counts["filing_person"]),
        "review": (0, counts["review"]),
    }
    rows = []
    for step, (alone, by_people) in done.items():
        rows.append(
            {
                "step": str(HOUR_STEPS[step]),
                "minutes": minutes[step],
                "portal": alone,
                "people": by_people,
                "saved": round(alone * minutes[step] / 60, 1),
                "spent": round(by_people * minutes[step] / 60, 1),
            }
        )
    return rows


def savings(rows: list[dict]) -> dict:
    """The steps' time by hand before the portal (the same work, all of it by people),
    the time people spend now, and the difference in hours, kroner and full-time
    equivalents. Added up from the counts, not from each row's rounded hours."""
    saved = sum(row["portal"] * row["minutes"] for row in rows) / 60
    spent = sum(row["people"] * row["minutes"] for row in rows) / 60
    return {
        "before": round(saved + spent, 1),
        "now": round(spent, 1),
        "saved": round(saved, 1),
        "kroner": round(saved * settings.STATS_HOURLY_COST_DKK),
        "fte": round(saved / settings.STATS_HOURS_PER_FTE, 2),
        "hourly_cost": settings.STATS_HOURLY_COST_DKK,
        "hours_per_fte": settings.STATS_HOURS_PER_FTE,
    }
