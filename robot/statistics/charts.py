"""The charts, drawn as SVG on the server (no JavaScript, no CDN): the page and the monthly
PDF use the same ones, coloured by classes (portal.css on the page; the CSP refuses style
attributes) and each shown beside its data table."""

from dataclasses import dataclass

from .report import Statistics


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


def month_chart(stats: Statistics) -> dict:
    """Lines ordered per month, stacked by certificate kind."""
    months = stats.months
    kinds = sorted({row["kind"] for row in stats.per_month})
    values = {(row["month"].replace(day=1), row["kind"]): 0 for row in stats.per_month}
    for row in stats.per_month:
        values[(row["month"].replace(day=1), row["kind"])] += row["n"]
    totals = dict(stats.monthly_totals())
    top = max(totals.values(), default=0) or 1
    width, height, left, bottom = 640, 220, 40, 30
    slot = (width - left) / max(len(months), 1)
    bar_width = min(slot * 0.7, 60)  # a report's single month is a bar, not a block
    bars, labels = [], []
    for i, month in enumerate(months):
        y = height - bottom
        for k, kind in enumerate(kinds):
            n = values.get((month, kind), 0)
            if not n:
                continue
            h = (height - bottom - 20) * n / top  # room above the top bar for its total
            y -= h
            bars.append(
                Bar(
                    x=round(left + i * slot + (slot - bar_width) / 2, 1),
                    y=round(y, 1),
                    width=round(bar_width, 1),
                    height=round(h, 1),
                    css=f"series-{k % 4}",
                    title=f"{month:%Y-%m} {kind}: {n}",
                )
            )
        total = totals.get(month, 0)
        labels.append(
            {
                "x": round(left + i * slot + slot / 2, 1),
                "text": f"{month:%m/%y}",
                "total": total,
                # The month's total just above its bar, so no bar stands without its number.
                "ty": round(height - bottom - (height - bottom - 20) * total / top - 4, 1),
            }
        )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "labels": labels,
        "axis_y": height - bottom,
        "top": top,
        "left": left,
        "legend": [{"css": f"series-{k % 4}", "text": kind} for k, kind in enumerate(kinds)],
    }


def hbar_chart(items: list[tuple[str, float | None, str]]) -> dict:
    """Horizontal bars: (label, value, shown value)."""
    top = max((value or 0 for _label, value, _shown in items), default=0) or 1
    width, row, left = 640, 28, 250
    bars = []
    for i, (label, value, shown) in enumerate(items):
        w = (width - left - 70) * (value or 0) / top
        bars.append(
            {
                "y": i * row + 4,
                "ty": i * row + 19,
                "width": round(max(w, 1), 1),
                "label": label,
                "shown": shown,
                "vx": round(left + max(w, 1) + 6, 1),
            }
        )
    return {"width": width, "height": max(len(items), 1) * row + 8, "left": left, "bars": bars}


def kind_chart(stats: Statistics) -> dict:
    """Lines ordered per certificate kind: a single month's chart (one stacked bar would say
    nothing a reader could see)."""
    kinds: dict[str, int] = {}
    for row in stats.per_month:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
    return hbar_chart([(kind, n, str(n)) for kind, n in sorted(kinds.items())])


def charts_for(stats: Statistics) -> dict:
    """Every chart of the page and the monthly report. One month (the monthly report) has
    its lines per kind as labelled bars instead of a chart over time."""
    areas: dict[str, int] = {}
    for row in stats.volumes:
        areas[row["area"]] = areas.get(row["area"], 0) + row["n"]
    single_month = len(stats.months) == 1
    return {
        "months": None if single_month else month_chart(stats),
        "kinds": kind_chart(stats) if single_month else None,
        "stages": hbar_chart([(f.label, f.median, f.median_display) for f in stats.lead]),
        "areas": hbar_chart([(area, n, str(n)) for area, n in areas.items()]),
        "to_person": hbar_chart(
            [(row["reason"], row["n"], str(row["n"])) for row in stats.robot.to_person]
        ),
    }
