"""The robot's part of the demo, and the whole demo in one call.

Each app seeds its own part: portal/demo.py the organisation and users, orders/demo.py the
catalogue, position profiles, sample orders and the timeline of a year of history, this
module the robot's rules and what the robot would have made of that history (returned
documents, trial-mode proposals, filings). `load_demo_data` runs them in that order; it is
here because the robot is the app that may import the other two, and the `load_demo`
command (refusing without DEMO_MODE) calls it.
"""

import datetime
import hashlib
import random
import uuid

from django.db import transaction
from django.utils import timezone

from orders import demo as orders_demo
from orders.models import CertificateKind, PositionProfile
from portal import demo as portal_demo
from portal.models import Membership, User

from .models import Document, FilingJob, Phrase, Proposal, RuleSet
from .rules import active_ruleset, ensure_standard_rules
from .statistics import summary


@transaction.atomic
def load_demo_data(*, with_orders: bool = True, with_history: bool = False) -> None:
    """Create the demo municipality; running it again changes nothing. With history (what
    `make run` loads), a year of past orders fills the statistics page."""
    portal_demo.load_demo_organisation()
    orders_demo.load_demo_catalogue()
    ensure_standard_rules(RuleSet, Phrase, CertificateKind)
    if with_orders:
        orders_demo.place_demo_orders()
    if with_orders and with_history:
        load_demo_history()
        # The statistics page is current from the first visit.
        summary.refresh()


# A year of history for the statistics page ---------------------------------------------


def load_demo_history(*, days: int = 365, per_weekday: float = 1.5, seed: int = 12) -> int:
    """Orders over the past `days` with their whole timeline (batched, ordered, answered by
    the robot or a person, reviewed, filed), plus a few cases stuck now, written in bulk with
    the dates they would have had, a month at a time. Running it again changes nothing.
    Returns the number of orders made."""
    if orders_demo.history_exists():
        return 0
    rng = random.Random(seed)
    made = 0
    for window_end in range(days, 0, -30):
        made += _history_window(
            rng,
            first_day=window_end,
            last_day=max(window_end - 30, 0),
            per_weekday=per_weekday,
            serial=made,
            total_days=days,
        )
    return made


@transaction.atomic
def _history_window(
    rng, *, first_day: int, last_day: int, per_weekday: float, serial: int, total_days: int
) -> int:
    """Orders placed from `first_day` to `last_day` days ago (orders writes them and their
    timeline), with the documents, proposals and filings the robot would have made."""
    now = timezone.now()
    payroll = User.objects.filter(is_payroll=True).order_by("pk").first()
    ruleset = active_ruleset()
    profiles = [
        p
        for p in PositionProfile.objects.select_related("area").prefetch_related(
            "requirements__legal_basis__kind", "area__units"
        )
        if p.requirements.all() and p.area.units.all()
    ]
    orderers = {m.unit_id: m.user for m in Membership.objects.select_related("user")}
    hours = datetime.timedelta(hours=1)
    pairs = orders_demo.seed_timeline(
        rng,
        first_day=first_day,
        last_day=last_day,
        per_weekday=per_weekday,
        serial=serial,
        total_days=total_days,
        profiles=profiles,
        orderers=orderers,
        payroll=payroll,
    )
    orders = len({line.order_id for line, _plan in pairs})
    documents, filings, proposals = [], [], []
    for line, plan in pairs:
        if "received" not in plan:
            continue
        by_person = plan["by_person"]
        document = Document(
            sha256=hashlib.sha256(
                f"demo-history-{line.order.submission_token}-{line.kind_id}".encode()
            ).hexdigest(),
            original_name="attest.pdf",
            stored_name=f"demo-{uuid.uuid4().hex}.pdf",
            size=48_000,
            source=Document.Source.MAILBOX,
            received_at=plan["arrived"],
            state=Document.State.DONE,
            outcome=plan["outcome"],
            kind_id=line.kind_id,
            person_id=line.person_id,
            line=line,
            handled_by=payroll if by_person else None,
            handled_at=plan["received"] if by_person else None,
        )
        documents.append(document)
        if by_person and ruleset is not None and plan["trial"]:
            proposals.append((document, plan))
        if "filed" in plan:
            filings.append((document, plan))
    # Documents the robot could not place.
    for index in range(serial, serial + orders // 25):
        at = now - datetime.timedelta(
            days=rng.randint(max(last_day, 5), max(first_day, 6)), hours=rng.randint(0, 8)
        )
        outcome = rng.choice([Document.Outcome.UNREADABLE, Document.Outcome.NEEDS_REVIEW])
        documents.append(
            Document(
                sha256=hashlib.sha256(f"demo-history-stray-{index}".encode()).hexdigest(),
                original_name="scan.pdf",
                stored_name=f"demo-{uuid.uuid4().hex}.pdf",
                size=9_000,
                source=Document.Source.MAILBOX,
                received_at=at,
                state=Document.State.DISCARDED,
                outcome=outcome,
                handled_by=payroll,
                handled_at=at + 3 * hours,
                reason="Kasseret: ikke en attest (demo)",
            )
        )
    Document.objects.bulk_create(documents)
    FilingJob.objects.bulk_create(
        FilingJob(
            document=document,
            line=document.line,
            reference=f"AP-DEMO-{document.pk}",
            state=FilingJob.State.FILED,
            attempts=plan["attempts"],
            esdh_reference=f"DEMO-{document.pk}",
            created_at=plan.get("decided") or plan["received"],
            filed_at=plan["filed"],
            next_attempt_at=plan["filed"],
        )
        for document, plan in filings
    )
    Proposal.objects.bulk_create(
        Proposal(
            document=document,
            line=document.line,
            kind_id=document.kind_id,
            ruleset=ruleset,
            proposed=plan["proposed"],
            decided=plan["outcome"],
            decided_by=payroll,
            decided_at=plan["received"],
            reason="" if plan["proposed"] == plan["outcome"] else "Afslag læst forkert (demo)",
            created_at=plan["arrived"],
        )
        for document, plan in proposals
    )
    return orders
