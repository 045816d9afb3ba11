"""The statistics' summary: one row per order line (StatisticsLine: when each stage ended
and how long it took), one per line and month (StatisticsMonth: what happened that
month) and those summed per unit, kind and month (StatisticsUnitMonth), so a page adds up
a compact table instead of reading the whole timeline.

It is derived data and always computed the same way, from the line, its timeline and its
documents. Database triggers (declared in triggers.py) mark a line or document stale in
the same transaction as any write that concerns it, bulk writes included, so nothing can
be missed and orders need not know the summary exists. Stale lines are summarised again
by the beat task `robot.tasks.refresh_statistics` (every STATS_SUMMARY_EVERY_SECONDS; by
hand: `manage.py refresh_statistics`), never by a page view: a page reads the summary as
beat last left it and says when that was. Anonymised orders keep their lines and
timeline, and so their summary.
"""

import contextvars
import datetime
from collections import defaultdict
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Exists, Min, Q, Sum
from django.utils import timezone

from orders.models import OrderEvent, OrderLine

from ..models import (
    Document,
    FilingJob,
    Proposal,
    StatisticsDocument,
    StatisticsLine,
    StatisticsMonth,
    StatisticsStale,
    StatisticsState,
    StatisticsUnitMonth,
)
from .numbers import hours_between

Action = OrderEvent.Action
CHUNK = 2000
COUNTED_ACTIONS = (
    Action.PLACED,
    Action.REORDERED,
    Action.BATCHED,
    Action.ORDERED,
    Action.RECEIVED,
    Action.DECIDED,
    Action.FILED,
)


_totals_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "statistics_totals_memo", default=None
)


@contextmanager
def shared_totals():
    """Figures read inside share one sum of the month rows per period and scope."""
    memo = _totals_memo.set({})
    try:
        yield
    finally:
        _totals_memo.reset(memo)


def unit_months(scope, filters):
    """The unit-month rows of the period and scope: what every count on the page sums."""
    from .period import summary_q

    return StatisticsUnitMonth.objects.filter(
        summary_q(scope, filters), month__gte=filters.start, month__lt=filters.end
    )


def totals(scope, filters) -> dict[str, int]:
    """Every count in the period and scope, summed in one query over the unit-month rows
    (once per page: the answers, filing and hours-saved figures read the same sums)."""

    memo = _totals_memo.get()
    key = (scope, filters)
    if memo is not None and key in memo:
        return memo[key]
    result = unit_months(scope, filters).aggregate(
        **{name: Sum(name, default=0) for name in MONTH_COUNTS}
    )
    if memo is not None:
        memo[key] = result
    return result


def freshness() -> tuple[datetime.datetime | None, bool]:
    """When the summary was last brought up to date, and whether changes wait for the next
    round (one query)."""
    row = (
        StatisticsState.objects.filter(pk=1)
        .annotate(waiting=Exists(StatisticsStale.objects.all()))
        .values_list("refreshed_at", "waiting")
        .first()
    )
    if row is None:  # a database whose summary was never set up waits for its first round
        return None, StatisticsStale.objects.exists()
    return row


def refresh(*, wait: bool = True) -> int:
    """Summarise stale lines and documents, a chunk per transaction, until none is left.
    Idempotent; one process at a time (`wait=False`: none if another is at it). Returns how
    many lines and documents were summarised."""
    done = 0
    while True:
        with transaction.atomic():
            state = _locked_state(wait=wait)
            if state is None:
                break
            # Once nothing is left stale, the figures hold every change committed before
            # this moment: the time the page shows.
            state.refreshed_at = timezone.now()
            state.save(update_fields=["refreshed_at"])
            lines = _stale("line_id", CHUNK)
            documents = _stale("document_id", CHUNK - len(lines))
            if not lines and not documents:
                break
            # Only marks read before the data are taken away: a change committed later
            # keeps its mark for the next round.
            marks = list(
                StatisticsStale.objects.filter(
                    Q(line_id__in=lines) | Q(document_id__in=documents)
                ).values_list("pk", flat=True)
            )
            sum_months(summarise_lines(lines))
            summarise_documents(documents)
            StatisticsStale.objects.filter(pk__in=marks).delete()
        done += len(lines) + len(documents)
    return done


def _stale(column: str, limit: int) -> list[int]:
    """Up to `limit` distinct stale line or document ids, the longest-waiting first."""
    if limit <= 0:
        return []
    return list(
        StatisticsStale.objects.filter(**{f"{column}__isnull": False})
        .values(column)
        .annotate(first=Min("pk"))
        .order_by("first")
        .values_list(column, flat=True)[:limit]
    )


def mark_all_stale() -> int:
    """Every order line and document is summarised again (after a change of time zone or
    of the rules below); the work itself is left to `refresh`. Returns the lines marked."""
    stale = StatisticsStale._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stale} (document_id) SELECT id FROM {Document._meta.db_table}"
        )
        cursor.execute(f"INSERT INTO {stale} (line_id) SELECT id FROM {OrderLine._meta.db_table}")
        return cursor.rowcount


def _locked_state(*, wait: bool) -> StatisticsState | None:
    """The state row, locked; None when another process holds it and we do not wait."""
    locked = StatisticsState.objects.select_for_update(skip_locked=not wait).filter(pk=1)
    state = locked.first()
    if state is None and not StatisticsState.objects.filter(pk=1).exists():
        StatisticsState.objects.bulk_create([StatisticsState(pk=1)], ignore_conflicts=True)
        state = locked.first()
    return state


def summarise_lines(line_ids) -> set[datetime.date]:
    """Compute the summary rows of these lines from scratch (called under the state lock).
    Returns the months whose line-month rows changed, for sum_months."""
    ids = sorted(line_ids)
    months: set[datetime.date] = set()
    for start in range(0, len(ids), CHUNK):
        months |= _summarise_chunk(ids[start : start + CHUNK])
    return months


def sum_months(months) -> None:
    """Sum the line-month rows of these months again into their unit-month rows, whole
    months at a time (a month is about 2,000 line-months: a few milliseconds), so a unit,
    kind or count that changed anywhere in the month is right afterwards."""
    months = sorted(months)
    if not months:
        return
    StatisticsUnitMonth.objects.filter(month__in=months).delete()
    rows = (
        StatisticsMonth.objects.filter(month__in=months)
        .values_list("month", "unit_id", "kind_id")
        .annotate(*(Sum(name) for name in MONTH_COUNTS))
        .order_by()
    )
    _insert(StatisticsUnitMonth, ("month", "unit_id", "kind_id", *MONTH_COUNTS), list(rows))


LINE_COLUMNS = (
    "line_id",
    "unit_id",
    "kind_id",
    "status",
    "start_date",
    "answered_by_start",
    "placed_at",
    "received_at",
)
FILING_STATES = {
    FilingJob.State.FILED: "filing_filed",
    FilingJob.State.FAILED: "filing_failing",
    FilingJob.State.MANUAL: "filing_manual",
    FilingJob.State.PENDING: "filing_waiting",
    FilingJob.State.IN_PROGRESS: "filing_waiting",
}
DURATIONS = (
    "total_hours",
    "batch_hours",
    "police_hours",
    "evaluation_hours",
    "review_hours",
    "filing_hours",
)
MONTH_COUNTS = (
    "placed",
    "batched",
    "received",
    "received_by_robot",
    "cleared_by_robot",
    "filed_by_robot",
    "filed_by_person",
    "decided",
    "filing_jobs",
    "filing_filed",
    "filing_retried",
    "filing_failing",
    "filing_manual",
    "filing_waiting",
    "proposals",
    "proposals_open",
    "proposals_sampled",
    "proposals_confirmed",
    "proposals_overruled",
    "proposals_dangerous",
)
MONTH_COLUMNS = (
    "line_id",
    "month",
    "unit_id",
    "kind_id",
    *MONTH_COUNTS,
    *DURATIONS,
    "answered_before",
)
DOCUMENT_COLUMNS = ("document_id", "month", "unit_id", "kind_id", "outcome", "state", "proposed")


def _summarise_chunk(ids) -> set[datetime.date]:
    # order_by(): the lines' own ordering would join their kinds for nothing.
    lines = (
        OrderLine.objects.filter(pk__in=ids)
        .values_list("pk", "order__unit_id", "kind_id", "status", "order__start_date")
        .order_by()
    )
    events = defaultdict(list)
    for line_id, action, at, actor_id, to_status in (
        OrderEvent.objects.filter(line_id__in=ids, action__in=COUNTED_ACTIONS)
        .values_list("line_id", "action", "at", "actor_id", "to_status")
        .order_by()
    ):
        events[line_id].append((action, at, actor_id is None, to_status))
    arrivals = dict(
        Document.objects.filter(line_id__in=ids)
        .values("line_id")
        .annotate(arrived=Min("received_at"))
        .values_list("line_id", "arrived")
        .order_by()
    )
    robot_counts = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for line_id, created_at, state, attempts in (
        FilingJob.objects.filter(line_id__in=ids)
        .values_list("line_id", "created_at", "state", "attempts")
        .order_by()
    ):
        counts = robot_counts[line_id][timezone.localdate(created_at).replace(day=1)]
        counts["filing_jobs"] += 1
        counts["filing_retried"] += attempts > 1
        counts[FILING_STATES.get(state, "")] += 1
    for line_id, created_at, proposed, decided, sampled in (
        Proposal.objects.filter(line_id__in=ids)
        .values_list("line_id", "created_at", "proposed", "decided", "sampled")
        .order_by()
    ):
        counts = robot_counts[line_id][timezone.localdate(created_at).replace(day=1)]
        counts["proposals"] += 1
        counts["proposals_sampled"] += sampled
        if not decided:
            counts["proposals_open"] += 1
        elif decided == proposed:
            counts["proposals_confirmed"] += 1
        else:
            counts["proposals_overruled"] += 1
            counts["proposals_dangerous"] += (proposed, decided) == (
                Document.Outcome.CLEAN,
                Document.Outcome.NOT_CLEAN,
            )
    summaries, months = [], []
    for line_id, unit_id, kind_id, status, start_date in lines:
        summary, per_month = summarise_line(
            events[line_id], arrived=arrivals.get(line_id), start_date=start_date
        )
        for month, counts in robot_counts.get(line_id, {}).items():
            per_month.setdefault(month, {}).update({name: n for name, n in counts.items() if name})
        row = {"line_id": line_id, "unit_id": unit_id, "kind_id": kind_id, "status": status}
        summaries.append(tuple({**row, **summary}[column] for column in LINE_COLUMNS))
        no_durations = (None,) * len(DURATIONS)
        durations = tuple(summary[name] for name in DURATIONS)
        answered = sorted(month for month, counts in per_month.items() if counts.get("received"))
        before = dict(zip(answered[1:], answered, strict=False))
        months += [
            (
                line_id,
                month,
                unit_id,
                kind_id,
                *(counts.get(name, 0) for name in MONTH_COUNTS),
                *(durations if counts.get("received") else no_durations),
                before.get(month),
            )
            for month, counts in per_month.items()
        ]
    old = StatisticsMonth.objects.filter(line_id__in=ids)
    touched = set(old.values_list("month", flat=True).distinct().order_by())
    old.delete()
    StatisticsLine.objects.filter(line_id__in=ids).delete()
    _insert(StatisticsLine, LINE_COLUMNS, summaries)
    _insert(StatisticsMonth, MONTH_COLUMNS, months)
    return touched | {row[1] for row in months}


def summarise_documents(document_ids) -> None:
    """The summary rows of these documents: those the robot has judged (an outcome)."""
    ids = sorted(document_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        proposed = set(
            Proposal.objects.filter(document_id__in=chunk).values_list("document_id", flat=True)
        )
        rows = [
            (
                pk,
                timezone.localdate(received_at).replace(day=1),
                unit_id,
                kind_id,
                outcome,
                state,
                pk in proposed,
            )
            for pk, received_at, unit_id, kind_id, outcome, state in Document.objects.filter(
                pk__in=chunk
            )
            .exclude(outcome="")
            .values_list("pk", "received_at", "line__order__unit_id", "kind_id", "outcome", "state")
        ]
        StatisticsDocument.objects.filter(document_id__in=chunk).delete()
        _insert(StatisticsDocument, DOCUMENT_COLUMNS, rows)


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows of plain values into a summary table: COPY on PostgreSQL (a rebuild of ten
    years writes half a million rows), bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        model.objects.bulk_create(model(**dict(zip(columns, row, strict=True))) for row in rows)


def summarise_line(events, *, arrived, start_date) -> tuple[dict, dict]:
    """One line's summary from its events (action, at, by the robot, to status), when its
    first document arrived and the hire's start date: the StatisticsLine fields with the
    hours per stage, and the StatisticsMonth counts per month."""

    def moments(*actions, moved=False):
        return [at for action, at, _r, to in events if action in actions and (to or not moved)]

    placed = min(moments(Action.PLACED, Action.REORDERED), default=None)
    ordered = max(moments(Action.ORDERED), default=None)
    received = min(moments(Action.RECEIVED), default=None)
    # A decision that moved the line (not "further assessment needed").
    decided = max(moments(Action.DECIDED, moved=True), default=None)
    filed = min(moments(Action.FILED), default=None)
    # The police's time ends when the document reached the portal; without one (recorded by
    # hand) or with one older than the order (an earlier answer), at the answer.
    if received is not None and (
        arrived is None or (ordered and arrived < ordered) or arrived > received
    ):
        arrived = received
    summary = {
        "start_date": start_date,
        "answered_by_start": any(
            action == Action.RECEIVED and timezone.localdate(at) <= start_date
            for action, at, _r, _to in events
        ),
        "placed_at": placed,
        "received_at": received,
        "total_hours": hours_between(received, placed),
        "batch_hours": hours_between(ordered, placed),
        "police_hours": hours_between(arrived, ordered),
        "evaluation_hours": hours_between(received, arrived),
        "review_hours": hours_between(decided, received),
        "filing_hours": hours_between(filed, decided or received),
    }
    months: dict[datetime.date, dict] = {}
    for action, at, by_robot, to_status in events:
        month = timezone.localdate(at).replace(day=1)
        counts = months.setdefault(month, defaultdict(int))
        if action in (Action.PLACED, Action.REORDERED):
            counts["placed"] += 1
        elif action == Action.BATCHED:
            counts["batched"] += 1
        elif action == Action.RECEIVED:
            counts["received"] += 1
            counts["received_by_robot"] += by_robot
            counts["cleared_by_robot"] += by_robot and to_status == OrderLine.Status.CLEARED
        elif action == Action.FILED:
            counts["filed_by_robot" if by_robot else "filed_by_person"] += 1
        elif action == Action.DECIDED:
            counts["decided"] += 1
    return summary, {month: dict(counts) for month, counts in months.items() if counts}
