"""The business case in figures: lead times, stuck cases, the robot's share, volumes per
department and hours saved, for a period, an area and a certificate kind.

Figures about the past are added up from a summary of the order timeline (`summary`:
one row per order line, one per line and month) that triggers mark stale and a beat task
refreshes; stuck cases and the robot's documents, proposals and filings are read from
their own tables. Anonymised orders keep their lines and timeline, so they still count.
It lives in the robot because it reads both apps (orders never imports the robot).

    period      Filters (whole months, area, kind) and Scope (whose units)
    summary     the summary tables and how they are kept current
    volumes     lines per month, volumes per department, hires who started early
    lead_times  order to answer and the time in each stage (median, 90th percentile)
    stuck       cases waiting longer than STATS_STUCK_DAYS, now
    automation  the robot's share, outcomes, trial agreement, documents sent to a person;
                filing
    hours       hours saved (STATS_MANUAL_MINUTES)
    report      the whole page and its tables; charts: the SVG charts of page and PDF
"""

from .automation import TO_PERSON_REASONS, RobotFigures, filing_figures, robot_figures
from .hours import HOUR_STEPS, hours_saved
from .lead_times import STAGES, DurationFigure, lead_times
from .numbers import Table, format_hours, percentile, share
from .period import Filters, Scope, add_months, default_filters, filter_choices
from .report import Statistics, compute, current_statistics
from .stuck import STUCK_LIST_LIMIT, StuckStage, stuck_cases
from .volumes import ordered_per_month, started_before_answer, volumes

__all__ = [
    "HOUR_STEPS",
    "STAGES",
    "STUCK_LIST_LIMIT",
    "TO_PERSON_REASONS",
    "DurationFigure",
    "Filters",
    "RobotFigures",
    "Scope",
    "Statistics",
    "StuckStage",
    "Table",
    "add_months",
    "compute",
    "current_statistics",
    "default_filters",
    "filing_figures",
    "filter_choices",
    "format_hours",
    "hours_saved",
    "lead_times",
    "ordered_per_month",
    "percentile",
    "robot_figures",
    "share",
    "started_before_answer",
    "stuck_cases",
    "volumes",
]
