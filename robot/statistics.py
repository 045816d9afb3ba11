"""The business case in figures: lead times, stuck cases, the robot's share, volumes per
department and hours saved, for a period, an area and a certificate kind.

Everything is computed from the order timeline (OrderEvent) and the robot's own tables,
which survive retention: an anonymised order keeps its lines and events. The number of
queries is fixed; only percentiles are computed in Python, over one column of durations.
It lives in the robot because it reads both apps (orders never imports the robot).
"""

import datetime
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import CertificateKind, Order, OrderEvent, OrderLine
from portal.models import Area, User
from portal.selectors import units_of

from .models import Document, FilingJob, Proposal

Action = OrderEvent.Action
Status = OrderLine.Status

STAGES = {
    "batch": gettext_lazy("Waiting for a police batch"),
    "police": gettext_lazy("At the police (incl. consent)"),
    "evaluation": gettext_lazy("Evaluation"),
    "review": gettext_lazy("Payroll's review"),
    "filing": gettext_lazy("Filing"),
}
STUCK_LIST_LIMIT = 50


# Filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A period of whole months [start, end), and optionally one area and one kind."""

    start: datetime.date
    end: datetime.date
    area_id: int | None = None
    kind_id: int | None = None

    @property
    def start_at(self) -> datetime.datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        return _midnight(self.end)

    @classmethod
    def month(cls, month: datetime.date, **kwargs) -> "Filters":
        first = month.replace(day=1)
        return cls(start=first, end=add_months(first, 1), **kwargs)


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def default_filters(today: datetime.date | None = None) -> Filters:
    """The last twelve months, this one included."""
    today = today or timezone.localdate()
    end = add_months(today.replace(day=1), 1)
    return Filters(start=add_months(end, -12), end=end)


@dataclass(frozen=True)
class Scope:
    """Whose orders count: every unit (payroll, administrators) or the user's own units."""

    unit_ids: tuple[int, ...] | None
    shows_cases: bool  # payroll may open the cases behind a figure

    @classmethod
    def for_user(cls, user: User) -> "Scope":
        if user.is_payroll or user.is_staff:
            return cls(unit_ids=None, shows_cases=user.is_payroll)
        return cls(unit_ids=tuple(units_of(user).values_list("pk", flat=True)), shows_cases=False)

    @property
    def is_everything(self) -> bool:
        return self.unit_ids is None


def _lines(scope: Scope, filters: Filters, prefix: str = ""):
    """Q for order lines in the scope and the area/kind filters, seen from a related model."""
    q = Q()
    if scope.unit_ids is not None:
        q &= Q(**{f"{prefix}order__unit_id__in": scope.unit_ids})
    if filters.area_id:
        q &= Q(**{f"{prefix}order__unit__area_id": filters.area_id})
    if filters.kind_id:
        q &= Q(**{f"{prefix}kind_id": filters.kind_id})
    return q


# Small helpers ---------------------------------------------------------------------------


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


def _hours(later, earlier) -> float | None:
    if later is None or earlier is None or later < earlier:
        return None
    return (later - earlier).total_seconds() / 3600


@dataclass
class Table:
    """One table of the page, the exports and the report: the same rows everywhere."""

    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


# Figures ---------------------------------------------------------------------------------


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


def ordered_per_month(scope: Scope, filters: Filters) -> list[dict]:
    """Lines ordered (placed or ordered again) per month, by kind and area."""
    rows = (
        OrderEvent.objects.filter(
            _lines(scope, filters, "line__"),
            action__in=[Action.PLACED, Action.REORDERED],
            at__gte=filters.start_at,
            at__lt=filters.end_at,
        )
        .annotate(month=TruncMonth("at"))
        .values("month", "line__kind__name", "line__order__unit__area__name")
        .annotate(n=Count("pk"))
        .order_by("month", "line__kind__name", "line__order__unit__area__name")
    )
    return [
        {
            "month": timezone.localtime(row["month"]).date()
            if isinstance(row["month"], datetime.datetime)
            else row["month"],
            "kind": row["line__kind__name"],
            "area": row["line__order__unit__area__name"],
            "n": row["n"],
        }
        for row in rows
    ]


def _answered_lines(scope: Scope, filters: Filters):
    return OrderEvent.objects.filter(
        _lines(scope, filters, "line__"),
        action=Action.RECEIVED,
        at__gte=filters.start_at,
        at__lt=filters.end_at,
    ).values("line_id")


def _timestamps(scope: Scope, filters: Filters):
    """Per line answered in the period: when it was placed, ordered at the police, answered,
    decided by payroll and filed (one row per line, grouped in the database)."""
    return (
        OrderEvent.objects.filter(line_id__in=_answered_lines(scope, filters))
        .values("line_id")
        .annotate(
            placed=Min("at", filter=Q(action__in=[Action.PLACED, Action.REORDERED])),
            ordered=Max("at", filter=Q(action=Action.ORDERED)),
            received=Min("at", filter=Q(action=Action.RECEIVED)),
            decided=Max("at", filter=Q(action=Action.DECIDED) & ~Q(to_status="")),
            filed=Min("at", filter=Q(action=Action.FILED)),
        )
        .order_by()
    )


def _arrivals(scope: Scope, filters: Filters):
    """When the first document for each of those lines reached the portal."""
    return (
        Document.objects.filter(line_id__in=_answered_lines(scope, filters))
        .values("line_id")
        .annotate(arrived=Min("received_at"))
        .order_by()
    )


# The stages as (later, earlier) moments. "arrived" falls back to the answer when there is
# no document (set by hand) or the document is older than the order (an earlier answer).
STAGE_SPANS = {
    "total": ("received", "placed"),
    "batch": ("ordered", "placed"),
    "police": ("arrived", "ordered"),
    "evaluation": ("received", "arrived"),
    "review": ("decided", "received"),
    "filing": ("filed", "decided_or_received"),
}


def lead_times(scope: Scope, filters: Filters) -> list[DurationFigure]:
    """Order → answer, and the time in each stage, for lines answered in the period.
    PostgreSQL computes the percentiles itself; elsewhere Python does, over one row per line."""
    labels = {"total": _("Order to answer"), **{k: str(v) for k, v in STAGES.items()}}
    if connection.vendor == "postgresql":
        figures = _lead_times_in_postgresql(scope, filters)
    else:
        figures = _lead_times_in_python(scope, filters)
    return [
        DurationFigure(stage=key, label=labels[key], count=count, median=median, p90=p90)
        for key, (count, median, p90) in figures.items()
    ]


def _lead_times_in_python(scope: Scope, filters: Filters) -> dict:
    arrivals = {row["line_id"]: row["arrived"] for row in _arrivals(scope, filters)}
    spans: dict[str, list[float]] = {key: [] for key in STAGE_SPANS}
    for row in _timestamps(scope, filters):
        arrived = arrivals.get(row["line_id"])
        if (
            arrived is None
            or (row["ordered"] and arrived < row["ordered"])
            or (arrived > row["received"])
        ):
            arrived = row["received"]
        row["arrived"], row["decided_or_received"] = arrived, row["decided"] or row["received"]
        for key, (later, earlier) in STAGE_SPANS.items():
            if (value := _hours(row[later], row[earlier])) is not None:
                spans[key].append(value)
    return {
        key: (len(values), percentile(values, 0.5), percentile(values, 0.9))
        for key, values in spans.items()
    }


def _lead_times_in_postgresql(scope: Scope, filters: Filters) -> dict:
    timestamps_sql, timestamps_params = _timestamps(scope, filters).query.sql_with_params()
    arrivals_sql, arrivals_params = _arrivals(scope, filters).query.sql_with_params()
    columns = {
        "arrived": """CASE WHEN a.arrived IS NULL OR a.arrived > t.received
                      OR (t.ordered IS NOT NULL AND a.arrived < t.ordered)
                      THEN t.received ELSE a.arrived END""",
        "decided_or_received": "COALESCE(t.decided, t.received)",
        **{name: f"t.{name}" for name in ("placed", "ordered", "received", "decided", "filed")},
    }
    selects = []
    for later, earlier in STAGE_SPANS.values():
        hours = (
            f"CASE WHEN ({columns[later]}) >= ({columns[earlier]}) THEN "
            f"EXTRACT(EPOCH FROM ({columns[later]}) - ({columns[earlier]})) / 3600.0 END"
        )
        selects += [
            f"COUNT({hours})",
            f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {hours})",
        ]
    sql = (
        f"SELECT {', '.join(selects)} FROM ({timestamps_sql}) t "
        f"LEFT JOIN ({arrivals_sql}) a ON a.line_id = t.line_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*timestamps_params, *arrivals_params))
        row = cursor.fetchone()
    result = {}
    for index, key in enumerate(STAGE_SPANS):
        count, percentiles = row[2 * index], row[2 * index + 1]
        median, p90 = percentiles if count else (None, None)
        result[key] = (count, median, p90)
    return result


@dataclass
class StuckStage:
    stage: str
    label: str
    days: int
    count: int
    cases: list[dict] = field(default_factory=list)


def stuck_cases(scope: Scope, filters: Filters, *, now=None) -> list[StuckStage]:
    """Cases that have waited longer than the stage's limit, now (not in the period)."""
    now = now or timezone.now()
    limits = settings.STATS_STUCK_DAYS
    q = _lines(scope, filters)
    old = {stage: now - datetime.timedelta(days=limits[stage]) for stage in STAGES}
    line_sets = {
        "batch": OrderLine.objects.filter(q, status=Status.NEW, status_changed_at__lt=old["batch"]),
        "police": OrderLine.objects.filter(q, status=Status.ORDERED, ordered_at__lt=old["police"]),
        "review": OrderLine.objects.filter(
            q, status=Status.IN_REVIEW, status_changed_at__lt=old["review"]
        ),
    }
    documents = Document.objects.filter(
        state__in=[
            Document.State.PROPOSED,
            Document.State.NEEDS_REVIEW,
            Document.State.UNREADABLE,
            Document.State.NO_ORDER,
            Document.State.DUPLICATE,
        ],
        received_at__lt=old["evaluation"],
    )
    if not scope.is_everything or filters.area_id:
        documents = documents.filter(
            _lines(scope, Filters(filters.start, filters.end, filters.area_id), "line__")
        )
    if filters.kind_id:
        documents = documents.filter(kind_id=filters.kind_id)
    filings = FilingJob.objects.filter(
        _lines(scope, filters, "line__"),
        created_at__lt=old["filing"],
        state__in=[
            FilingJob.State.PENDING,
            FilingJob.State.IN_PROGRESS,
            FilingJob.State.FAILED,
            FilingJob.State.MANUAL,
        ],
    )
    counts = {
        **{stage: qs.aggregate(n=Count("pk"))["n"] for stage, qs in line_sets.items()},
        "evaluation": documents.count(),
        "filing": filings.count(),
    }
    result = {
        stage: StuckStage(
            stage=stage, label=str(STAGES[stage]), days=limits[stage], count=counts[stage]
        )
        for stage in STAGES
    }
    if scope.shows_cases:
        since = {
            "batch": "status_changed_at",
            "police": "ordered_at",
            "review": "status_changed_at",
        }
        for stage, qs in line_sets.items():
            for line in qs.select_related("order__unit", "kind").order_by(since[stage])[
                :STUCK_LIST_LIMIT
            ]:
                result[stage].cases.append(
                    {
                        "since": getattr(line, since[stage]),
                        "unit": line.order.unit.name,
                        "kind": line.kind.name,
                        "order_public_id": line.order.public_id,
                    }
                )
        for document in documents.select_related("kind").order_by("received_at")[:STUCK_LIST_LIMIT]:
            result["evaluation"].cases.append(
                {
                    "since": document.received_at,
                    "unit": "",
                    "document_id": document.pk,
                    "kind": document.kind.name if document.kind else "",
                    "state": document.get_state_display(),
                }
            )
        for job in filings.select_related("line__order__unit", "line__kind").order_by("created_at")[
            :STUCK_LIST_LIMIT
        ]:
            result["filing"].cases.append(
                {
                    "since": job.created_at,
                    "unit": job.line.order.unit.name,
                    "kind": job.line.kind.name,
                    "filing": True,
                    "state": job.get_state_display(),
                }
            )
    return list(result.values())


@dataclass
class RobotFigures:
    answers: int = 0
    by_robot: int = 0
    cleared_by_robot: int = 0
    outcomes: list[dict] = field(default_factory=list)
    agreement: list[dict] = field(default_factory=list)
    to_person: list[dict] = field(default_factory=list)

    @property
    def share_alone(self) -> float | None:
        return share(self.by_robot, self.answers)

    @property
    def share_cleared_alone(self) -> float | None:
        return share(self.cleared_by_robot, self.answers)


TO_PERSON_REASONS = {
    "trial": gettext_lazy("Trial mode or random check: a person confirms"),
    "not_clean": gettext_lazy("Not clean: payroll assesses"),
    "unreadable": gettext_lazy("Unreadable"),
    "needs_review": gettext_lazy("Doubtful or not proven to come from the police"),
    "no_order": gettext_lazy("No order found"),
    "duplicate": gettext_lazy("Duplicate or already answered"),
}


def robot_figures(scope: Scope, filters: Filters) -> RobotFigures:
    figures = RobotFigures()
    answers = OrderEvent.objects.filter(
        _lines(scope, filters, "line__"),
        action=Action.RECEIVED,
        at__gte=filters.start_at,
        at__lt=filters.end_at,
    ).aggregate(
        total=Count("pk"),
        robot=Count("pk", filter=Q(actor__isnull=True)),
        cleared=Count("pk", filter=Q(actor__isnull=True, to_status=Status.CLEARED)),
    )
    figures.answers, figures.by_robot = answers["total"], answers["robot"]
    figures.cleared_by_robot = answers["cleared"]

    documents = Document.objects.filter(
        received_at__gte=filters.start_at, received_at__lt=filters.end_at
    ).exclude(outcome="")
    if not scope.is_everything or filters.area_id:
        documents = documents.filter(
            _lines(scope, Filters(filters.start, filters.end, filters.area_id), "line__")
        )
    if filters.kind_id:
        documents = documents.filter(kind_id=filters.kind_id)
    labels = dict(Document.Outcome.choices)
    for row in (
        documents.values("kind__name", "outcome")
        .annotate(n=Count("pk"))
        .order_by("kind__name", "outcome")
    ):
        figures.outcomes.append(
            {
                "kind": row["kind__name"] or _("Unknown"),
                "outcome": str(labels.get(row["outcome"], row["outcome"])),
                "n": row["n"],
            }
        )

    reasons: dict[str, int] = {}
    rows = (
        documents.annotate(proposed=Exists(Proposal.objects.filter(document=OuterRef("pk"))))
        .values("state", "outcome", "proposed")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        reason = _why_a_person(row)
        if reason:
            reasons[reason] = reasons.get(reason, 0) + row["n"]
    figures.to_person = [
        {"reason": str(TO_PERSON_REASONS[key]), "n": n}
        for key, n in sorted(reasons.items(), key=lambda item: -item[1])
    ]

    proposals = Proposal.objects.filter(
        created_at__gte=filters.start_at, created_at__lt=filters.end_at
    )
    proposals = proposals.filter(_lines(scope, filters, "line__"))
    for row in (
        proposals.values("kind__name")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(decided="")),
            sampled=Count("pk", filter=Q(sampled=True)),
        )
        .order_by("kind__name")
    ):
        figures.agreement.append(
            {
                "kind": row["kind__name"],
                "total": row["total"],
                "open": row["open"],
                "sampled": row["sampled"],
            }
        )
    decided = (
        proposals.exclude(decided="")
        .values("kind__name", "proposed", "decided")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_kind: dict[str, list[int]] = {}
    for row in decided:
        agreed = row["proposed"] == row["decided"]
        entry = by_kind.setdefault(row["kind__name"], [0, 0, 0])
        entry[0 if agreed else 1] += row["n"]
        if (row["proposed"], row["decided"]) == (
            Document.Outcome.CLEAN,
            Document.Outcome.NOT_CLEAN,
        ):
            entry[2] += row["n"]
    for item in figures.agreement:
        agreed, overruled, dangerous = by_kind.get(item["kind"], [0, 0, 0])
        item.update(
            confirmed=agreed,
            overruled=overruled,
            dangerous=dangerous,
            agreement=share(agreed, agreed + overruled),
        )
    return figures


def _why_a_person(row: dict) -> str | None:
    """Why a document went to a person (None: the robot handled it alone)."""
    if row["proposed"]:
        return "trial"
    if row["outcome"] == Document.Outcome.NOT_CLEAN and row["state"] in (
        Document.State.NOT_CLEAN,
        Document.State.AWAITING_APPROVAL,
        Document.State.DONE,
    ):
        return "not_clean"
    if Document.Outcome.UNREADABLE in (row["state"], row["outcome"]):
        return "unreadable"
    if row["state"] == Document.State.NO_ORDER:
        return "no_order"
    if row["state"] == Document.State.DUPLICATE:
        return "duplicate"
    if Document.Outcome.NEEDS_REVIEW in (row["state"], row["outcome"]):
        return "needs_review"
    return None


def filing_figures(scope: Scope, filters: Filters) -> dict:
    """Filing jobs created in the period: filed, retried, failing, handed to a person."""
    return FilingJob.objects.filter(
        _lines(scope, filters, "line__"),
        created_at__gte=filters.start_at,
        created_at__lt=filters.end_at,
    ).aggregate(
        total=Count("pk"),
        filed=Count("pk", filter=Q(state=FilingJob.State.FILED)),
        retried=Count("pk", filter=Q(attempts__gt=1)),
        failing=Count("pk", filter=Q(state=FilingJob.State.FAILED)),
        manual=Count("pk", filter=Q(state=FilingJob.State.MANUAL)),
        waiting=Count(
            "pk", filter=Q(state__in=[FilingJob.State.PENDING, FilingJob.State.IN_PROGRESS])
        ),
    )


def started_before_answer(scope: Scope, filters: Filters, *, today=None) -> list[dict]:
    """Per area: hires who started (start date in the period, passed) before the line had an
    answer, out of all such lines."""
    today = today or timezone.localdate()
    answered_in_time = OrderEvent.objects.annotate(day=TruncDate("at")).filter(
        line_id=OuterRef("pk"), action=Action.RECEIVED, day__lte=OuterRef("order__start_date")
    )
    rows = (
        OrderLine.objects.filter(
            _lines(scope, filters),
            order__start_date__gte=filters.start,
            order__start_date__lt=min(filters.end, today + datetime.timedelta(days=1)),
        )
        .exclude(status=Status.CANCELLED)
        .values("order__unit__area__name")
        .annotate(lines=Count("pk"), early=Count("pk", filter=~Exists(answered_in_time)))
        .order_by("order__unit__area__name")
    )
    return [
        {
            "area": row["order__unit__area__name"],
            "lines": row["lines"],
            "early": row["early"],
            "share": share(row["early"], row["lines"]),
        }
        for row in rows
    ]


def volumes(scope: Scope, filters: Filters) -> list[dict]:
    """Lines ordered in the period per area, unit and kind: for splitting the running costs."""
    rows = (
        OrderEvent.objects.filter(
            _lines(scope, filters, "line__"),
            action__in=[Action.PLACED, Action.REORDERED],
            at__gte=filters.start_at,
            at__lt=filters.end_at,
        )
        .values("line__order__unit__area__name", "line__order__unit__name", "line__kind__name")
        .annotate(n=Count("pk"))
        .order_by("line__order__unit__area__name", "line__order__unit__name", "line__kind__name")
    )
    total = sum(row["n"] for row in rows)
    return [
        {
            "area": row["line__order__unit__area__name"],
            "unit": row["line__order__unit__name"],
            "kind": row["line__kind__name"],
            "n": row["n"],
            "share": share(row["n"], total),
        }
        for row in rows
    ]


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
    in_period = Q(at__gte=filters.start_at, at__lt=filters.end_at)
    events = OrderEvent.objects.filter(_lines(scope, filters, "line__"), in_period).aggregate(
        batch_line=Count("pk", filter=Q(action=Action.BATCHED)),
        evaluation_robot=Count("pk", filter=Q(action=Action.RECEIVED, actor__isnull=True)),
        evaluation_person=Count("pk", filter=Q(action=Action.RECEIVED, actor__isnull=False)),
        filing_robot=Count("pk", filter=Q(action=Action.FILED, actor__isnull=True)),
        filing_person=Count("pk", filter=Q(action=Action.FILED, actor__isnull=False)),
        review=Count("pk", filter=Q(action=Action.DECIDED)),
    )
    orders = Order.objects.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_at)
    if scope.unit_ids is not None:
        orders = orders.filter(unit_id__in=scope.unit_ids)
    if filters.area_id:
        orders = orders.filter(unit__area_id=filters.area_id)
    if filters.kind_id:
        orders = orders.filter(
            Exists(OrderLine.objects.filter(order=OuterRef("pk"), kind_id=filters.kind_id))
        )
    done = {
        # The portal routes, checks and records the order; the manager still fills the form.
        "order": (orders.count(), 0),
        # The portal prepares and checks the list; the clerk pastes it (counted under order).
        "batch_line": (events["batch_line"], 0),
        "evaluation": (events["evaluation_robot"], events["evaluation_person"]),
        "filing": (events["filing_robot"], events["filing_person"]),
        "review": (0, events["review"]),
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


# The whole page --------------------------------------------------------------------------


@dataclass
class Statistics:
    filters: Filters
    scope: Scope
    per_month: list[dict]
    lead: list[DurationFigure]
    stuck: list[StuckStage]
    robot: RobotFigures
    filing: dict
    early: list[dict]
    volumes: list[dict]
    hours: list[dict]

    @property
    def months(self) -> list[datetime.date]:
        months, month = [], self.filters.start
        while month < self.filters.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    @property
    def hours_saved_total(self) -> float:
        return round(sum(row["saved"] for row in self.hours), 1)

    @property
    def hours_spent_total(self) -> float:
        return round(sum(row["spent"] for row in self.hours), 1)

    def monthly_totals(self) -> list[tuple[datetime.date, int]]:
        totals = {month: 0 for month in self.months}
        for row in self.per_month:
            month = row["month"].replace(day=1)
            if month in totals:
                totals[month] += row["n"]
        return list(totals.items())

    def tables(self) -> dict[str, Table]:
        """Every table of the page, as the exports and the monthly report show them."""
        r = self.robot
        tables = [
            Table(
                "ordered",
                _("Lines ordered per month"),
                [_("Month"), _("Area"), _("Certificate"), _("Lines")],
                [
                    [row["month"].strftime("%Y-%m"), row["area"], row["kind"], row["n"]]
                    for row in self.per_month
                ],
            ),
            Table(
                "lead_times",
                _("Lead time and time per stage"),
                [_("Stage"), _("Lines"), _("Median (hours)"), _("90th percentile (hours)")],
                [[f.label, f.count, _round(f.median), _round(f.p90)] for f in self.lead],
                note=_(
                    "Lines answered in the period. Review and filing count when they have happened."
                ),
            ),
            Table(
                "stuck",
                _("Stuck cases now"),
                [_("Stage"), _("Older than (days)"), _("Cases")],
                [[s.label, s.days, s.count] for s in self.stuck],
            ),
            Table(
                "robot",
                _("The robot's answers"),
                [_("Figure"), _("Value")],
                [
                    [_("Answers recorded"), r.answers],
                    [_("Answered without a person"), r.by_robot],
                    [_("Cleared without a person"), r.cleared_by_robot],
                    [_("Share cleared without a person (%)"), r.share_cleared_alone],
                ],
            ),
            Table(
                "outcomes",
                _("Outcomes by certificate kind"),
                [_("Certificate"), _("Outcome"), _("Documents")],
                [[row["kind"], row["outcome"], row["n"]] for row in r.outcomes],
            ),
            Table(
                "agreement",
                _("Trial mode: agreement between robot and person"),
                [
                    _("Certificate"),
                    _("Proposals"),
                    _("Confirmed"),
                    _("Overruled"),
                    _("Dangerous (robot clean, person not clean)"),
                    _("Waiting"),
                    _("Agreement (%)"),
                ],
                [
                    [
                        row["kind"],
                        row["total"],
                        row["confirmed"],
                        row["overruled"],
                        row["dangerous"],
                        row["open"],
                        row["agreement"],
                    ]
                    for row in r.agreement
                ],
            ),
            Table(
                "to_person",
                _("Documents sent to a person, and why"),
                [_("Reason"), _("Documents")],
                [[row["reason"], row["n"]] for row in r.to_person],
            ),
            Table(
                "filing",
                _("Filing in the case system"),
                [_("Figure"), _("Jobs")],
                [
                    [_("Filing jobs created"), self.filing["total"]],
                    [_("Filed"), self.filing["filed"]],
                    [_("Needed more than one attempt"), self.filing["retried"]],
                    [_("Failing, will be retried"), self.filing["failing"]],
                    [_("Handed to a person"), self.filing["manual"]],
                    [_("Waiting"), self.filing["waiting"]],
                ],
            ),
            Table(
                "started_early",
                _("Hires who started before their certificate was answered"),
                [
                    _("Area"),
                    _("Lines with a start date in the period"),
                    _("Started before the answer"),
                    _("Share (%)"),
                ],
                [[row["area"], row["lines"], row["early"], row["share"]] for row in self.early],
            ),
            Table(
                "volumes",
                _("Volumes per department"),
                [_("Area"), _("Unit"), _("Certificate"), _("Lines"), _("Share (%)")],
                [
                    [row["area"], row["unit"], row["kind"], row["n"], row["share"]]
                    for row in self.volumes
                ],
            ),
            Table(
                "hours",
                _("Hours saved"),
                [
                    _("Step"),
                    _("Minutes by hand"),
                    _("Done by the portal"),
                    _("Done by people"),
                    _("Hours saved"),
                    _("Hours people spent"),
                ],
                [
                    [
                        row["step"],
                        row["minutes"],
                        row["portal"],
                        row["people"],
                        row["saved"],
                        row["spent"],
                    ]
                    for row in self.hours
                ],
            ),
        ]
        return {table.name: table for table in tables}


def _round(hours: float | None) -> float | None:
    return None if hours is None else round(hours, 1)


def compute(*, user: User, filters: Filters) -> Statistics:
    """Every figure of the statistics page for what the user may see."""
    scope = Scope.for_user(user)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These queries join large groupings whose size PostgreSQL overestimates; its JIT
            # then spends seconds compiling for work that takes milliseconds.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _compute(scope, filters)


def _compute(scope: Scope, filters: Filters) -> Statistics:
    return Statistics(
        filters=filters,
        scope=scope,
        per_month=ordered_per_month(scope, filters),
        lead=lead_times(scope, filters),
        stuck=stuck_cases(scope, filters),
        robot=robot_figures(scope, filters),
        filing=filing_figures(scope, filters),
        early=started_before_answer(scope, filters),
        volumes=volumes(scope, filters),
        hours=hours_saved(scope, filters),
    )


def filter_choices(user: User) -> tuple[list[Area], list[CertificateKind]]:
    scope = Scope.for_user(user)
    areas = Area.objects.order_by("name")
    if scope.unit_ids is not None:
        areas = areas.filter(units__in=scope.unit_ids).distinct()
    return list(areas), list(CertificateKind.objects.order_by("sort_order"))
