"""Filing certificates in the case system: exactly once, at the pace it can bear.

A filing job is a row. Workers claim due jobs with row locks that skip what another
worker holds; every call to the case system first takes a slot from one shared
rate limit; failures back off with jitter up to a horizon and then go to a person.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.answers import record_filed
from orders.models import CertificateKind, OrderLine
from orders.services import ROBOT, Actor
from portal.backoff import backoff
from portal.cpr import hash_cpr
from portal.models import User
from portal.pdf import letter_context, render_pdf

from . import sandbox
from .esdh import FilingRequest, ManualFilingError, TemporaryFilingError, case_system
from .extraction import limit_problem, read_limits
from .intake import document_path
from .models import Document, FilingJob, RateSlot

logger = logging.getLogger(__name__)

RATE_LIMIT_NAME = "esdh"
# Slots are handed out at this share of the limit: requests reach the case system a few
# milliseconds off their slot, and it counts them in windows of its own, so pacing at
# exactly the limit would now and then put one request too many in a second (a 429). At
# 95 % four workers filing in GetOrganized (four requests a filing) still met one 429 in
# 1,600 requests on a busy two-core host; at 92 % none, at 0.91 of the limit.
RATE_HEADROOM = 0.92
MAX_QUEUE = datetime.timedelta(minutes=5)


class FilingStateError(Exception):
    """A payroll action that does not fit the job's state; the message is for the user."""


def queue_filing(*, document: Document, line: OrderLine, with_decision: bool = False) -> None:
    """Create the filing job for a certificate whose line is now answered (once: a second
    call for the same document changes nothing). `with_decision`: payroll assessed the
    certificate, and the note of its decision is filed with it."""
    policy = line.kind.filing_policy
    # One statement, run for every clean certificate: the document's unique job makes a
    # repeated call a no-op in the database (ON CONFLICT DO NOTHING), with no query first.
    FilingJob.objects.bulk_create(
        [
            FilingJob(
                document=document,
                line=line,
                reference=f"AP-{document.pk:08d}",
                with_certificate=policy == CertificateKind.FilingPolicy.CERTIFICATE,
                with_note=policy == CertificateKind.FilingPolicy.NOTE or with_decision,
            )
        ],
        ignore_conflicts=True,
    )
    wake_filing()


WAKE_KEY = "filing:wake"


def wake_filing() -> None:
    """Have a worker file the new job soon after this transaction commits, once per burst:
    a payroll clerk's upload of 200 certificates sends one run, not 200 that find nothing.

    The first job of a burst sets a key for FILING_WAKE_SECONDS and sends a run due when it
    expires; jobs committed while it is set are filed by that run (it files until nothing
    is due). Anything a run misses, the beat schedule's run picks up. Without a worker
    (tasks run in this process) every job is filed at once."""
    from .tasks import file_due

    if file_due.app.conf.task_always_eager:
        file_due.delay_on_commit()
    else:
        # robust: a cache or broker that is down must not fail the committed work (beat
        # files the job later); the error is logged.
        transaction.on_commit(_send_wake, robust=True)


def _send_wake() -> None:
    from .tasks import file_due

    seconds = settings.FILING_WAKE_SECONDS
    if cache.add(WAKE_KEY, True, timeout=seconds):
        file_due.apply_async(countdown=seconds)


def take_rate_slot(*, rate: float | None = None, name: str = RATE_LIMIT_NAME) -> datetime.datetime:
    """Wait for this process's turn under the global rate limit, and return the slot."""
    rate = rate or settings.ESDH_RATE_LIMIT
    with transaction.atomic():
        slot, _ = RateSlot.objects.select_for_update().get_or_create(name=name)
        now = timezone.now()
        # A slot far ahead can only come from a clock that jumped back: start afresh.
        next_free = slot.next_slot_at if slot.next_slot_at - now < MAX_QUEUE else now
        mine = max(now, next_free)
        slot.next_slot_at = mine + datetime.timedelta(seconds=1 / (rate * RATE_HEADROOM))
        slot.save(update_fields=["next_slot_at"])
    wait = (mine - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    return mine


def retry_delay(attempts: int) -> datetime.timedelta:
    """1 min, 2, 4 ... capped at 4 hours, with up to 20% jitter so failed jobs spread out."""
    return backoff(attempts, first=datetime.timedelta(minutes=1), cap=datetime.timedelta(hours=4))


def claim_due(*, limit: int = 10) -> list[int]:
    """Claim due jobs for this worker; rows another worker holds are skipped."""
    now = timezone.now()
    with transaction.atomic():
        jobs = list(
            FilingJob.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=[FilingJob.State.PENDING, FilingJob.State.FAILED],
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "pk")[:limit]
        )
        ids = [job.pk for job in jobs]
        FilingJob.objects.filter(pk__in=ids).update(
            state=FilingJob.State.IN_PROGRESS, claimed_at=now
        )
    return ids


def release_stale_claims(*, older_than: datetime.timedelta | None = None) -> int:
    """Jobs claimed by a worker that died: free them, and look before filing again."""
    if older_than is None:
        older_than = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    return FilingJob.objects.filter(
        state=FilingJob.State.IN_PROGRESS, claimed_at__lt=timezone.now() - older_than
    ).update(
        state=FilingJob.State.FAILED,
        uncertain=True,
        next_attempt_at=timezone.now(),
        last_error=_("The worker stopped while filing; checked before filing again."),
    )


def build_request(job: FilingJob) -> FilingRequest:
    document = job.document
    line = job.line
    person = line.person
    assessment = document.assessments.first()
    parts = []
    if job.with_note:
        parts.append(
            render_pdf(
                "letters/filing_note.html",
                {**_note_context(), "line": line, "document": document, "assessment": assessment},
            )
        )
    if job.with_certificate:
        path = document_path(document)
        if not path.exists():
            raise ManualFilingError(_("The certificate file is no longer in the portal."))
        parts.append(path.read_bytes())
    content = parts[0] if len(parts) == 1 else _merge(parts)
    return FilingRequest(
        reference=job.reference,
        cpr=person.cpr,
        person_key=hash_cpr(person.cpr)[:24],
        document_name=f"{line.kind.name} {timezone.localdate(document.received_at):%d.%m.%Y}",
        content=content,
        filename=f"{job.reference}.pdf",
        metadata={
            "kind": line.kind.code,
            "outcome": document.outcome,
            "decision": assessment.decision if assessment else None,
            "received": document.received_at.isoformat(),
            "unit": line.order.unit.name,
        },
    )


def _note_context() -> dict:
    return letter_context()


def _merge(pdfs: list[bytes]) -> bytes:
    # The certificate is a file someone sent us: pypdf parses it in the sandbox's reader,
    # under the limits of reading, never in the worker.
    limits = read_limits()
    outcome = sandbox.merge(pdfs, **limits)
    if outcome.status == sandbox.DONE and not outcome.answer["problem"]:
        return outcome.content
    if outcome.status == sandbox.CRASHED and outcome.detail.startswith("helper"):
        raise TemporaryFilingError(
            _("The PDFs could not be merged: %(error)s") % {"error": outcome.detail}
        )
    if outcome.status != sandbox.DONE:
        why = limit_problem(outcome, limits)
    elif outcome.answer["problem"] == "too_big":
        why = _("The merged PDF would be %(mb)s MB.") % outcome.answer["args"]
    else:
        why = _("The PDF could not be read: %(error)s") % outcome.answer["args"]
    raise ManualFilingError(
        _(
            "The certificate and the note of the decision could not be merged into one PDF: "
            "file them by hand. %(why)s"
        )
        % {"why": why}
    )


def run_job(*, job_id: int, adapter=None) -> FilingJob | None:
    """File one claimed job. A job that is not in progress (filed, or claimed by nobody)
    is left alone, so a redelivered task does nothing."""
    job = (
        FilingJob.objects.select_related(
            "document", "line__kind", "line__order__unit", "line__person"
        )
        .filter(pk=job_id, state=FilingJob.State.IN_PROGRESS)
        .first()
    )
    if job is None:
        return None
    adapter = adapter or case_system(throttle=take_rate_slot)
    try:
        request = build_request(job)
        reference = None
        if job.uncertain:
            if not adapter.can_find:
                raise ManualFilingError(
                    _(
                        "The last attempt may have filed the document without an answer, and the "
                        "case system cannot be asked. Check the personnel case for %(reference)s "
                        "before filing by hand."
                    )
                    % {"reference": job.reference}
                )
            reference = adapter.find(request)
        if reference is None:
            reference = adapter.file(request)
    except ManualFilingError as error:
        return _to_manual(job, str(error))
    except TemporaryFilingError as error:
        return _failed(job, str(error), retry_after=error.retry_after, uncertain=error.uncertain)
    except Exception as error:  # unknown: assume it may have been filed
        logger.exception("Filing job %s failed", job.pk)
        return _failed(job, f"{type(error).__name__}", retry_after=None, uncertain=True)
    return _filed(job, reference, by=ROBOT)


@transaction.atomic
def _filed(job: FilingJob, reference: str, *, by: Actor) -> FilingJob:
    job = FilingJob.objects.select_for_update().get(pk=job.pk)
    if job.state == FilingJob.State.FILED:
        return job
    now = timezone.now()
    job.state, job.esdh_reference, job.filed_at = FilingJob.State.FILED, reference, now
    job.attempts += 1
    job.last_error, job.uncertain = "", False
    job.save()
    assessment = job.document.assessments.first()
    record_filed(
        line=job.line,
        by=by,
        key=f"filing:{job.pk}",
        decision=assessment.decision if assessment else None,
    )
    return job


def _failed(job: FilingJob, error: str, *, retry_after, uncertain: bool) -> FilingJob:
    now = timezone.now()
    job.attempts += 1
    job.last_error = error[:2000]
    job.uncertain = job.uncertain or uncertain
    horizon = datetime.timedelta(hours=settings.ESDH_RETRY_HORIZON_HOURS)
    if now - job.created_at >= horizon:
        return _to_manual(
            job,
            _("Still failing after %(hours)s hours: %(error)s")
            % {"hours": settings.ESDH_RETRY_HORIZON_HOURS, "error": error},
        )
    delay = max(retry_after or datetime.timedelta(0), retry_delay(job.attempts))
    job.state, job.next_attempt_at = FilingJob.State.FAILED, now + delay
    job.save(update_fields=["state", "attempts", "last_error", "uncertain", "next_attempt_at"])
    return job


def _to_manual(job: FilingJob, reason: str) -> FilingJob:
    job.state, job.last_error = FilingJob.State.MANUAL, reason[:2000]
    job.save(update_fields=["state", "attempts", "last_error", "uncertain"])
    return job


@transaction.atomic
def retry_job(*, job: FilingJob, by: User) -> FilingJob:
    job = FilingJob.objects.select_for_update().get(pk=job.pk)
    if job.state not in (FilingJob.State.FAILED, FilingJob.State.MANUAL):
        raise FilingStateError(_("Only a failed or manual filing can be retried."))
    job.state, job.next_attempt_at = FilingJob.State.PENDING, timezone.now()
    # A new horizon starts now, so a job payroll retries is not sent straight back.
    job.created_at = timezone.now()
    job.save(update_fields=["state", "next_attempt_at", "created_at"])
    from .tasks import file_due

    file_due.delay_on_commit()
    return job


@transaction.atomic
def send_to_manual(*, job: FilingJob, by: User, reason: str) -> FilingJob:
    job = FilingJob.objects.select_for_update().get(pk=job.pk)
    if job.state not in (FilingJob.State.PENDING, FilingJob.State.FAILED):
        raise FilingStateError(_("Only a waiting or failed filing can be sent to manual handling."))
    return _to_manual(
        job, _("Sent to manual handling by %(user)s: %(reason)s") % {"user": by, "reason": reason}
    )


@transaction.atomic
def mark_filed_by_hand(*, job: FilingJob, by: User, esdh_reference: str) -> FilingJob:
    """Payroll filed it themselves (manual handling): record where."""
    job = FilingJob.objects.select_for_update().get(pk=job.pk)
    if job.state != FilingJob.State.MANUAL:
        raise FilingStateError(_("Only a filing in manual handling can be marked as filed."))
    return _filed(job, esdh_reference, by=by)


def file_due(*, limit: int = 10, adapter=None) -> int:
    """Claim and file what is due, a few jobs at a time, until nothing is due or half the
    task's time limit has passed (the next run goes on); the beat schedule and new jobs
    call this. Returns how many jobs were run."""
    done, stop_at = 0, time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    while time.monotonic() < stop_at and (claimed := claim_due(limit=limit)):
        for job_id in claimed:
            run_job(job_id=job_id, adapter=adapter)
        done += len(claimed)
    return done
