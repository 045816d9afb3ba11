"""The whole page: every figure for a period and a scope, and the tables the page, the
exports and the monthly report show."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from . import summary
from .automation import RobotFigures, filing_figures, robot_figures
from .hours import hours_saved, savings
from .lead_times import DurationFigure, lead_times
from .numbers import Table, round_hours
from .period import Filters, Scope, add_months
from .stuck import StuckStage, stuck_cases
from .volumes import ordered_per_month, started_before_answer, volumes

# A manager sees their units' volumes and lead times; the robot's workings, payroll's queue
# and the hours saved are payroll's and the administrators' business (docs/architecture.md,
# D4: only as far as the task needs).
MANAGER_TABLES = ("ordered", "lead_times", "started_early", "volumes")


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
    # When beat last brought the summary up to date; False while changes wait for it.
    summarised_at: datetime.datetime | None = None
    up_to_date: bool = True

    @property
    def months(self) -> list[datetime.date]:
        months, month = [], self.filters.start
        while month < self.filters.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    @property
    def summarised_on(self) -> datetime.date | None:
        """The day of the last summary, when it was not today (the page then names it)."""
        if self.summarised_at is None:
            return None
        day = timezone.localdate(self.summarised_at)
        return None if day == timezone.localdate() else day

    @property
    def hours_saved_total(self) -> float:
        return round(sum(row["saved"] for row in self.hours), 1)

    @property
    def hours_spent_total(self) -> float:
        return round(sum(row["spent"] for row in self.hours), 1)

    @property
    def savings(self) -> dict:
        return savings(self.hours)

    def monthly_totals(self) -> list[tuple[datetime.date, int]]:
        totals = {month: 0 for month in self.months}
        for row in self.per_month:
            month = row["month"].replace(day=1)
            if month in totals:
                totals[month] += row["n"]
        return list(totals.items())

    def tables(self) -> dict[str, Table]:
        """Every table of the page, as the exports and the monthly report show them."""
        r, saved = self.robot, self.savings
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
                [[f.label, f.count, round_hours(f.median), round_hours(f.p90)] for f in self.lead],
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
                    [_("Answered by the robot alone"), r.by_robot],
                    [_("Cleared by the robot alone"), r.cleared_by_robot],
                    [_("Share cleared by the robot alone (%)"), r.share_cleared_alone],
                    [_("The robot's answer confirmed by payroll"), r.confirmed_by_payroll],
                    [_("Share confirmed by payroll (%)"), r.share_confirmed],
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
            Table(
                "savings",
                _("Time and money saved"),
                [_("Figure"), _("Value")],
                [
                    [_("Hours the same work took by hand, before the portal"), saved["before"]],
                    [_("Hours people spend on it now"), saved["now"]],
                    [_("Hours saved"), saved["saved"]],
                    [
                        _("Saved in kroner (at %(cost)s kr. an hour)")
                        % {"cost": saved["hourly_cost"]},
                        saved["kroner"],
                    ],
                    [
                        _("Saved in full-time equivalents (%(hours)s hours a year)")
                        % {"hours": saved["hours_per_fte"]},
                        saved["fte"],
                    ],
                ],
            ),
        ]
        if not self.scope.is_everything:
            tables = [table for table in tables if table.name in MANAGER_TABLES]
        if self.scope.has_no_units:
            # Zeros would read as "nothing happened in your units"; there are no units.
            for table in tables:
                table.rows = []
        return {table.name: table for table in tables}


def compute(*, user: User, filters: Filters) -> Statistics:
    """Every figure of the statistics page for what the user may see, from the summary as
    beat last left it."""
    scope = Scope.for_user(user)
    with summary.shared_totals():
        return _compute(scope, filters)


def current_statistics(*, user: User, filters: Filters) -> Statistics:
    """The page, the exports and the report: every figure, with the time beat last brought
    the summary up to date and whether changes wait for its next round."""
    stats = compute(user=user, filters=filters)
    stats.summarised_at, waiting = summary.freshness()
    stats.up_to_date = not waiting
    return stats


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
