"""Small helpers the figures share: percentiles, durations for people, shares, tables."""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def format_hours(hours: float | None) -> str:
    """A duration for people: minutes, hours or days."""
    if hours is None:
        return "–"
    if hours < 1:
        return _("%(n)d min") % {"n": round(hours * 60)}
    if hours < 48:
        return _("%(n)s hours") % {"n": f"{hours:.1f}".replace(".", ",")}
    return _("%(n)s days") % {"n": f"{hours / 24:.1f}".replace(".", ",")}


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def hours_between(later, earlier) -> float | None:
    """Hours from `earlier` to `later`; None when either is missing or `later` came first."""
    if later is None or earlier is None or later < earlier:
        return None
    return (later - earlier).total_seconds() / 3600


def round_hours(hours: float | None) -> float | None:
    return None if hours is None else round(hours, 1)


@dataclass
class Table:
    """One table of the page, the exports and the report: the same rows everywhere."""

    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""
