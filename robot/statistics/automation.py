"""The robot: answers cleared by the robot alone and those payroll confirmed, outcomes by
kind, trial-mode agreement, documents sent to a person and why; and filing in the case
system."""

from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import CertificateKind

from ..models import Document, ModeSwitch, StatisticsDocument
from ..rules import active_ruleset
from . import summary
from .numbers import share
from .period import Filters, Scope, summary_q


@dataclass
class RobotFigures:
    answers: int = 0
    by_robot: int = 0
    cleared_by_robot: int = 0
    # The robot's answers a person confirmed (trial mode or a random check): the robot was
    # right, but a person did the work, so they are not "without a person".
    confirmed_by_payroll: int = 0
    # Each kind's mode now, so the page does not read as automatic while every kind is in
    # trial (a period's figures may come from before a switch back to trial).
    modes_now: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    agreement: list[dict] = field(default_factory=list)
    to_person: list[dict] = field(default_factory=list)

    @property
    def share_alone(self) -> float | None:
        return share(self.by_robot, self.answers)

    @property
    def share_cleared_alone(self) -> float | None:
        return share(self.cleared_by_robot, self.answers)

    @property
    def share_confirmed(self) -> float | None:
        return share(self.confirmed_by_payroll, self.answers)

    @property
    def all_in_trial(self) -> bool:
        return bool(self.modes_now) and all(
            row["mode"] == ModeSwitch.Mode.TRIAL for row in self.modes_now
        )


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
    counts = summary.totals(scope, filters)
    figures.answers, figures.by_robot = counts["received"], counts["received_by_robot"]
    figures.cleared_by_robot = counts["cleared_by_robot"]
    figures.confirmed_by_payroll = counts["proposals_confirmed"]

    documents = StatisticsDocument.objects.filter(month__gte=filters.start, month__lt=filters.end)
    if not scope.is_everything or filters.area_id:
        # Only documents matched to a line have a unit.
        documents = documents.filter(
            summary_q(scope, Filters(filters.start, filters.end, filters.area_id))
        )
    if filters.kind_id:
        documents = documents.filter(kind_id=filters.kind_id)
    labels = dict(Document.Outcome.choices)
    kinds = dict(CertificateKind.objects.order_by("sort_order", "name").values_list("pk", "name"))
    figures.modes_now = modes_now(
        {pk: name for pk, name in kinds.items() if filters.kind_id in (None, pk)}
    )
    order = {name: index for index, name in enumerate(kinds.values())}
    outcomes: dict[tuple, int] = {}
    reasons: dict[str, int] = {}
    # Grouped by the kind's id from the covering index alone; named here (a join to the
    # kinds for their names cost the database more than the counting).
    for row in (
        documents.values("kind_id", "outcome", "state", "proposed")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (kinds.get(row["kind_id"]), row["outcome"])
        outcomes[key] = outcomes.get(key, 0) + row["n"]
        if reason := _why_a_person(row):
            reasons[reason] = reasons.get(reason, 0) + row["n"]
    figures.outcomes = [
        {
            "kind": kind or _("Unknown"),
            "outcome": str(labels.get(outcome, outcome)),
            "n": n,
        }
        # In the kinds' order (as in the filter), then by outcome; no known kind last.
        for (kind, outcome), n in sorted(
            outcomes.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0][1])
        )
    ]
    figures.to_person = [
        {"reason": str(TO_PERSON_REASONS[key]), "n": n}
        for key, n in sorted(reasons.items(), key=lambda item: -item[1])
    ]

    for row in (
        summary.unit_months(scope, filters)
        .filter(proposals__gt=0)
        .values("kind__name")
        .annotate(
            total=Sum("proposals"),
            open=Sum("proposals_open"),
            sampled=Sum("proposals_sampled"),
            confirmed=Sum("proposals_confirmed"),
            overruled=Sum("proposals_overruled"),
            dangerous=Sum("proposals_dangerous"),
        )
        .order_by("kind__name")
    ):
        figures.agreement.append(
            {
                "kind": row["kind__name"],
                "total": row["total"],
                "open": row["open"],
                "sampled": row["sampled"],
                "confirmed": row["confirmed"],
                "overruled": row["overruled"],
                "dangerous": row["dangerous"],
                "agreement": share(row["confirmed"], row["confirmed"] + row["overruled"]),
            }
        )
    return figures


def modes_now(kinds: dict[int, str]) -> list[dict]:
    """Each kind's mode under the active rules, as robot.trial.current_mode decides it: the
    latest switch under that version, else trial (one query for every kind)."""
    ruleset = active_ruleset()
    latest: dict[int, str] = {}
    if ruleset is not None:
        for kind_id, mode in ModeSwitch.objects.filter(ruleset=ruleset).values_list(
            "kind_id", "mode"
        ):  # newest first (the model's ordering): the first per kind decides
            latest.setdefault(kind_id, mode)
    labels = dict(ModeSwitch.Mode.choices)
    return [
        {
            "kind": name,
            "mode": latest.get(pk, ModeSwitch.Mode.TRIAL),
            "label": str(labels[latest.get(pk, ModeSwitch.Mode.TRIAL)]),
        }
        for pk, name in kinds.items()
    ]


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
    counts = summary.totals(scope, filters)
    return {
        "total": counts["filing_jobs"],
        "filed": counts["filing_filed"],
        "retried": counts["filing_retried"],
        "failing": counts["filing_failing"],
        "manual": counts["filing_manual"],
        "waiting": counts["filing_waiting"],
    }
