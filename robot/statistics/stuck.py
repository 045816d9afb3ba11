"""Stuck cases: lines and documents that have waited longer than their stage's limit
(STATS_STUCK_DAYS), now. Read from the live tables: only open cases can be stuck, so the
work grows with the queue, not with the history."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext

from orders.models import OrderLine

from ..models import Document, FilingJob
from .lead_times import STAGES
from .period import Filters, Scope, lines_q

Status = OrderLine.Status
STUCK_LIST_LIMIT = 50


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
    q = lines_q(scope, filters)
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
            lines_q(scope, Filters(filters.start, filters.end, filters.area_id), "line__")
        )
    if filters.kind_id:
        documents = documents.filter(kind_id=filters.kind_id)
    filings = FilingJob.objects.filter(
        lines_q(scope, filters, "line__"),
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
        # Plain values, not model instances: up to 250 rows, and only these fields shown.
        def waiting(since) -> str:
            days = (now - since).days  # whole days, as the limits are counted
            return ngettext("waiting %(days)d day", "waiting %(days)d days", days) % {"days": days}

        since = {
            "batch": "status_changed_at",
            "police": "ordered_at",
            "review": "status_changed_at",
        }
        for stage, qs in line_sets.items():
            result[stage].cases = [
                {
                    "since": row[since[stage]],
                    "waiting": waiting(row[since[stage]]),
                    "unit": row["order__unit__name"],
                    "kind": row["kind__name"],
                    "order_public_id": row["order__public_id"],
                }
                for row in qs.order_by(since[stage]).values(
                    since[stage], "order__unit__name", "kind__name", "order__public_id"
                )[:STUCK_LIST_LIMIT]
            ]
        document_states = dict(Document.State.choices)
        result["evaluation"].cases = [
            {
                "since": row["received_at"],
                "waiting": waiting(row["received_at"]),
                "unit": "",
                "document_id": row["pk"],
                "kind": row["kind__name"] or "",
                "state": document_states.get(row["state"], row["state"]),
            }
            for row in documents.order_by("received_at").values(
                "pk", "received_at", "kind__name", "state"
            )[:STUCK_LIST_LIMIT]
        ]
        filing_states = dict(FilingJob.State.choices)
        result["filing"].cases = [
            {
                "since": row["created_at"],
                "waiting": waiting(row["created_at"]),
                "unit": row["line__order__unit__name"],
                "kind": row["line__kind__name"],
                "filing": True,
                "state": filing_states.get(row["state"], row["state"]),
            }
            for row in filings.order_by("created_at").values(
                "created_at", "line__order__unit__name", "line__kind__name", "state"
            )[:STUCK_LIST_LIMIT]
        ]
    return list(result.values())
