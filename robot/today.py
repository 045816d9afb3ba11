"""Payroll's day: what waits for a person in the portal, counted, in the order to do it.

Only counts leave this module: the page names no person, so it logs no access. Every
count is a fixed number of queries, however much waits (tests/robot/test_today.py).
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders import hires
from orders.models import OrderLine, PoliceBatch
from portal.models import OrgImport, User

from . import trial
from .models import Assessment, Document, FilingJob

State = Document.State
# What the robot could not place: a person matches, reads or discards each.
UNPLACED = (State.NEEDS_REVIEW, State.UNREADABLE, State.NO_ORDER, State.DUPLICATE)


@dataclass(frozen=True)
class Part:
    """One state inside a task, with its own link (a tab of the queue)."""

    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Task:
    name: str  # what it is, without a count: for the list of what was checked
    count: int
    title: str  # the count in a sentence
    action: str  # what to do about it
    url: str
    link: str
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True)
class PayrollDay:
    tasks: list[Task]

    @property
    def waiting(self) -> list[Task]:
        return [task for task in self.tasks if task.count]

    @property
    def clear(self) -> list[Task]:
        return [task for task in self.tasks if not task.count]


def _queue(state: str = "") -> str:
    url = reverse("robot:queue")
    return f"{url}?{urlencode({'state': state})}" if state else url


def _filing(state: str) -> str:
    return f"{reverse('robot:filing')}?{urlencode({'state': state})}"


def _documents_by_state() -> dict[str, int]:
    return dict(
        Document.objects.filter(state__in=Document.QUEUE_STATES)
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )


def _awaiting_my_approval(user: User) -> int:
    """Assessments waiting for a second person that this user may approve: their own
    wait for a colleague (robot/services.py approve_assessment refuses them)."""
    assessor = Subquery(
        Assessment.objects.filter(document=OuterRef("pk"))
        .order_by("-assessed_at", "-pk")
        .values("assessed_by")[:1]
    )
    return (
        Document.objects.filter(state=State.AWAITING_APPROVAL)
        .annotate(assessor=assessor)
        .exclude(assessor=user.pk)
        .count()
    )


def _filings_by_state() -> dict[str, int]:
    return dict(
        FilingJob.objects.filter(state__in=[FilingJob.State.FAILED, FilingJob.State.MANUAL])
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )


def _org_import_failed() -> bool:
    """The latest import of the organisation failed: units and managers may be out of date
    until one succeeds. An older failure that a later import made good is history."""
    latest = OrgImport.objects.order_by("-created_at", "-pk").values_list("state").first()
    return latest is not None and latest[0] == OrgImport.State.FAILED


def payroll_day(*, user: User) -> PayrollDay:
    """Everything waiting for payroll, in the order it should be done: first what the police
    and the hires are waiting for, then answers to act on, then what runs by itself."""
    documents = _documents_by_state()
    filings = _filings_by_state()
    prepared = PoliceBatch.objects.filter(state=PoliceBatch.State.PREPARED, on_paper=False).count()
    waiting = OrderLine.objects.awaiting_police().order_by().count()
    paper = OrderLine.objects.awaiting_paper_consent().order_by().count()
    second_answers = documents.get(State.SECOND_ANSWER, 0)
    proposals = documents.get(State.PROPOSED, 0)
    not_clean = documents.get(State.NOT_CLEAN, 0)
    # The oldest proposal first: confirming it opens the next, as the queue would.
    first_proposal = trial.next_open_proposal() if proposals else None
    approvals = _awaiting_my_approval(user) if documents.get(State.AWAITING_APPROVAL) else 0
    unplaced = [(state, documents.get(state, 0)) for state in UNPLACED]
    starting = len(hires.compliance_list())
    sd_failed = 1 if hires.failed_polls() is not None else 0
    org_failed = 1 if _org_import_failed() else 0
    failing = sum(filings.values())
    batches_url = reverse("payroll:batches")

    tasks = [
        # A prepared batch is usually sent already and only waits to be marked: until it
        # is, its people look unordered and their 14 days of consent are not watched.
        Task(
            name=_("Police batches to mark as ordered"),
            count=prepared,
            title=ngettext(
                "%(count)d police batch is prepared but not marked as ordered",
                "%(count)d police batches are prepared but not marked as ordered",
                prepared,
            )
            % {"count": prepared},
            action=_(
                "Send each at politi.dk if you have not, and mark it as ordered: until then "
                "its people look unordered."
            ),
            url=f"{batches_url}#prepared-title",
            link=_("To the police batches"),
        ),
        Task(
            name=_("Certificates waiting for a police batch"),
            count=waiting,
            title=ngettext(
                "%(count)d certificate waits for a police batch",
                "%(count)d certificates wait for a police batch",
                waiting,
            )
            % {"count": waiting},
            action=_(
                "Prepare the batches and send them at politi.dk: the hire's 14 days to "
                "consent start only then."
            ),
            url=f"{batches_url}#waiting-title",
            link=_("Prepare the batches"),
        ),
        Task(
            name=_("Orders on paper consent"),
            count=paper,
            title=ngettext(
                "%(count)d certificate for a person without Digital Post waits to be ordered",
                "%(count)d certificates for persons without Digital Post wait to be ordered",
                paper,
            )
            % {"count": paper},
            action=_("Order each at politi.dk with the signed consent form attached."),
            url=f"{batches_url}#paper-title",
            link=_("To the paper orders"),
        ),
        # Two answers block the line's proposal and filing: settle them before confirming.
        Task(
            name=_("Two answers to one order"),
            count=second_answers,
            title=ngettext(
                "%(count)d second answer to an order waits for you to choose",
                "%(count)d second answers to an order wait for you to choose",
                second_answers,
            )
            % {"count": second_answers},
            action=_(
                "Compare it with the earlier answer and choose which stands; nothing for "
                "that order is filed until you have."
            ),
            url=_queue(State.SECOND_ANSWER),
            link=_("Compare the answers"),
        ),
        Task(
            name=_("Robot proposals to confirm"),
            count=proposals,
            title=ngettext(
                "%(count)d robot proposal to confirm",
                "%(count)d robot proposals to confirm",
                proposals,
            )
            % {"count": proposals},
            action=_(
                "Nothing reaches the manager until you confirm or overrule. Confirm with B; "
                "the next proposal opens by itself."
            ),
            url=(
                reverse("robot:document", args=[first_proposal.document_id])
                if first_proposal
                else _queue(State.PROPOSED)
            ),
            link=_("Open the oldest proposal"),
        ),
        Task(
            name=_("Certificates that are not clean to assess"),
            count=not_clean,
            title=ngettext(
                "%(count)d certificate that is not clean waits for your assessment",
                "%(count)d certificates that are not clean wait for your assessment",
                not_clean,
            )
            % {"count": not_clean},
            action=_("The manager waits for the decision, and is told nothing else."),
            url=_queue(State.NOT_CLEAN),
            link=_("Assess them"),
        ),
    ]
    if settings.REVIEW_FOUR_EYES or documents.get(State.AWAITING_APPROVAL):
        tasks.append(
            Task(
                name=_("Assessments awaiting your approval"),
                count=approvals,
                title=ngettext(
                    "%(count)d colleague's assessment awaits your approval",
                    "%(count)d colleagues' assessments await your approval",
                    approvals,
                )
                % {"count": approvals},
                action=_("Four eyes: a decision takes effect when a second person approves it."),
                url=_queue(State.AWAITING_APPROVAL),
                link=_("Approve or send back"),
            )
        )
    labels = dict(State.choices)
    unplaced_count = sum(count for _state, count in unplaced)
    tasks += [
        Task(
            name=_("Documents the robot could not place"),
            count=unplaced_count,
            title=ngettext(
                "%(count)d document the robot could not place",
                "%(count)d documents the robot could not place",
                unplaced_count,
            )
            % {"count": unplaced_count},
            action=_("Attach each to its order by hand, or discard what is not ours."),
            url=_queue(),
            link=_("To the queue"),
            parts=[Part(labels[state], count, _queue(state)) for state, count in unplaced if count],
        ),
        Task(
            name=_("New hires without their certificates"),
            count=starting,
            title=ngettext(
                "%(count)d new hire starts, or has started, without every certificate",
                "%(count)d new hires start, or have started, without every certificate",
                starting,
            )
            % {"count": starting},
            action=_("See what is missing for each, and remind the manager or the hire."),
            url=reverse("payroll:hire_compliance"),
            link=_("To the new hires"),
        ),
        Task(
            name=_("Filings that need you"),
            count=failing,
            title=ngettext(
                "%(count)d filing in the case system is failing or in manual handling",
                "%(count)d filings in the case system are failing or in manual handling",
                failing,
            )
            % {"count": failing},
            action=_(
                "File by hand the ones in manual handling; failing ones are retried, but the "
                "reason may need you."
            ),
            url=reverse("robot:filing"),
            link=_("To the filing"),
            parts=[
                Part(FilingJob.State(state).label, filings[state], _filing(state))
                for state in (FilingJob.State.MANUAL, FilingJob.State.FAILED)
                if filings.get(state)
            ],
        ),
        Task(
            name=_("Imports of new hires from SD Løn"),
            count=sd_failed,
            title=_("The latest import of new hires from SD Løn failed"),
            action=_(
                "It is tried again by itself; until one succeeds, new hires are missing here."
            ),
            url=reverse("payroll:hire_imports"),
            link=_("See why"),
        ),
        Task(
            name=_("Imports of the organisation"),
            count=org_failed,
            title=_("The latest import of the organisation failed"),
            action=(
                _("Units and managers may be out of date until an import succeeds.")
                if user.is_staff
                else _(
                    "Units and managers may be out of date until an import succeeds: tell "
                    "an administrator."
                )
            ),
            # The organisation page is the administrators'; payroll can only tell them.
            url=reverse("org_import") if user.is_staff else "",
            link=_("See why") if user.is_staff else "",
        ),
    ]
    return PayrollDay(tasks=tasks)
