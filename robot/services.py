"""Payroll's handling of returned documents: assessments, manual matching, discarding."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.answers import record_decision
from orders.answers import settle_second_answer as settle_line
from orders.models import AccessLog, OrderLine
from orders.services import OrderError, log_person_access
from portal.models import User

from .filing import queue_filing, wake_filing
from .models import Assessment, Document, FilingJob, Proposal, Upload
from .outcomes import record_outcome

Outcome = Document.Outcome


class ReviewError(Exception):
    """An action that does not fit the document's state; the message is for the user."""


def _locked(document: Document, states) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.state not in states:
        raise ReviewError(
            _("The document has already been handled (%(state)s).")
            % {"state": document.get_state_display()}
        )
    return document


def log_document_access(*, user: User, document: Document, action: str) -> None:
    log_person_access(user=user, action=action, entries=[_subject(document)])


def log_documents_listed(*, user: User, documents) -> None:
    """One access-log row per person whose document was shown in a list."""
    log_person_access(
        user=user,
        action=AccessLog.Action.LIST_DOCUMENTS,
        entries=[_subject(document) for document in documents],
    )


def _subject(document: Document) -> tuple[int | None, int | None]:
    return document.person_id, document.line.order_id if document.line_id else None


@transaction.atomic
def assess_document(
    *, document: Document, by: User, relevance: str, discussed: bool, decision: str, reason: str
) -> Assessment:
    """Payroll's assessment of a not-clean certificate; with four eyes it waits for a second
    person, otherwise the decision takes effect at once."""
    document = _locked(document, [Document.State.NOT_CLEAN])
    assessment = Assessment.objects.create(
        document=document,
        relevance=relevance,
        discussed_with_applicant=discussed,
        decision=decision,
        reason=reason,
        assessed_by=by,
    )
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    if settings.REVIEW_FOUR_EYES:
        document.state = Document.State.AWAITING_APPROVAL
        document.save(update_fields=["state"])
    else:
        _decide(document, assessment, by)
    return assessment


@transaction.atomic
def approve_assessment(*, document: Document, by: User) -> Assessment:
    document = _locked(document, [Document.State.AWAITING_APPROVAL])
    assessment = document.assessments.select_for_update().first()
    if assessment.assessed_by_id == by.pk:
        raise ReviewError(_("A second person must approve the assessment."))
    assessment.approved_by, assessment.approved_at = by, timezone.now()
    assessment.save(update_fields=["approved_by", "approved_at"])
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    _decide(document, assessment, by)
    return assessment


@transaction.atomic
def reject_assessment(*, document: Document, by: User) -> None:
    """The second person disagrees: the certificate goes back for a new assessment."""
    document = _locked(document, [Document.State.AWAITING_APPROVAL])
    if document.assessments.first().assessed_by_id == by.pk:
        raise ReviewError(_("A second person must approve the assessment."))
    document.state = Document.State.NOT_CLEAN
    document.save(update_fields=["state"])
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)


def _decide(document: Document, assessment: Assessment, by: User) -> None:
    record_decision(
        line=document.line, decision=assessment.decision, by=by, key=f"assessment:{assessment.pk}"
    )
    if assessment.decision == Assessment.Decision.FURTHER:
        if document.state != Document.State.NOT_CLEAN:  # after a second approval
            document.state = Document.State.NOT_CLEAN
            document.save(update_fields=["state"])
        return
    document.state = Document.State.DONE
    document.handled_by, document.handled_at = by, timezone.now()
    document.save(update_fields=["state", "handled_by", "handled_at"])
    # Filed only now, after payroll's decision, with the decision note.
    queue_filing(document=document, line=document.line, with_decision=True)


@transaction.atomic
def resolve_document(
    *, document: Document, by: User, line: OrderLine, outcome: str, reason: str
) -> Document:
    """Attach a document to an order line by hand and set its outcome."""
    document = _locked(
        document,
        [
            Document.State.NEEDS_REVIEW,
            Document.State.UNREADABLE,
            Document.State.NO_ORDER,
            Document.State.DUPLICATE,
        ],
    )
    line = OrderLine.objects.select_for_update(of=("self",)).select_related("kind").get(pk=line.pk)
    if document.person_id and document.person_id != line.person_id:
        raise ReviewError(_("The document is about another person than the order."))
    if document.kind_id and document.kind_id != line.kind_id:
        raise ReviewError(_("The document is another kind of certificate than the order line."))
    if document.outcome == Document.Outcome.NOT_CLEAN and outcome != Document.Outcome.NOT_CLEAN:
        raise ReviewError(
            _(
                'The robot found signs of a registration: choose "not clean" and '
                "assess the certificate."
            )
        )
    document.outcome, document.person_id = outcome, line.person_id
    document.kind_id = document.kind_id or line.kind_id
    document.handled_by, document.handled_at = by, timezone.now()
    document.reason = _("Set by hand: %(reason)s") % {"reason": reason}
    try:
        record_outcome(
            document=document, line=line, outcome=outcome, by=by, note=_("Set by hand by payroll")
        )
    except OrderError as error:
        raise ReviewError(str(error)) from error
    document.save()
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return document


def record_upload(*, by: User, origin: str) -> Upload:
    """What the person uploading states about where the files came from."""
    return Upload.objects.create(by=by, origin=Upload.Origin(origin))


class Keep:
    EARLIER, THIS = "earlier", "this"


@transaction.atomic
def settle_second_answer(*, document: Document, by: User, keep: str, reason: str) -> Document:
    """Payroll compared a second answer with the line's earlier one and chose which stands.

    Earlier: this document is set aside, the line gets its status back and its held filing
    goes on. This: the earlier documents are set aside (their unfiled jobs are not filed)
    and this one answers the line as a first answer would; a not-clean one goes to
    assessment."""
    document = _locked(document, [Document.State.SECOND_ANSWER])
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("Say why."))
    line = document.line
    others = Document.objects.filter(line=line, state=Document.State.SECOND_ANSWER).exclude(
        pk=document.pk
    )
    now = timezone.now()
    document.handled_by, document.handled_at = by, now
    if keep == Keep.EARLIER:
        document.state = Document.State.DISCARDED
        document.reason = _("Set aside; the earlier answer stands: %(reason)s") % {"reason": reason}
        document.save(update_fields=["state", "reason", "handled_by", "handled_at"])
        if not others.exists():
            settle_line(line=line, by=by, note=_("The earlier answer stands"), restore=True)
            released = FilingJob.objects.filter(line=line, state=FilingJob.State.HELD).update(
                state=FilingJob.State.PENDING, next_attempt_at=now
            )
            if released:
                wake_filing()
    elif keep == Keep.THIS:
        if document.outcome not in (Outcome.CLEAN, Outcome.NOT_CLEAN, Outcome.REFUSED):
            raise ReviewError(
                _("The robot could not read this document's outcome: match it by hand instead.")
            )
        earlier = (
            Document.objects.select_for_update()
            .filter(line=line)
            .exclude(pk=document.pk)
            .exclude(state=Document.State.DISCARDED)
        )
        for old in earlier:
            old.state = Document.State.DISCARDED
            old.reason = _("Replaced by a later answer: %(reason)s") % {"reason": reason}
            old.save(update_fields=["state", "reason"])
        Proposal.objects.filter(line=line, decided="").exclude(document=document).delete()
        FilingJob.objects.filter(
            line=line,
            state__in=[FilingJob.State.HELD, FilingJob.State.PENDING, FilingJob.State.FAILED],
        ).update(state=FilingJob.State.REPLACED)
        settle_line(
            line=line,
            by=by,
            note=_("The later answer replaces the earlier"),
            result=document.outcome,
        )
        document.reason = _("Replaces the earlier answer: %(reason)s") % {"reason": reason}
        if document.outcome == Outcome.NOT_CLEAN:
            document.state = Document.State.NOT_CLEAN
        else:
            document.state = Document.State.DONE
            if document.outcome == Outcome.CLEAN:
                queue_filing(document=document, line=line)
        document.save(update_fields=["state", "reason", "handled_by", "handled_at"])
    else:
        raise ReviewError(_("Choose which answer stands."))
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return document


def earlier_answers(document: Document) -> list[Document]:
    """The other documents that answered this document's line, newest first."""
    if document.line_id is None:
        return []
    return list(
        Document.objects.filter(line_id=document.line_id)
        .exclude(pk=document.pk)
        .select_related("filing")
        .order_by("-received_at", "-pk")
    )


@transaction.atomic
def discard_document(*, document: Document, by: User, reason: str) -> Document:
    document = _locked(document, Document.QUEUE_STATES)
    if document.state in (Document.State.NOT_CLEAN, Document.State.AWAITING_APPROVAL):
        raise ReviewError(_("A certificate awaiting assessment cannot be discarded."))
    if document.state == Document.State.SECOND_ANSWER:
        raise ReviewError(_("Choose which of the two answers stands instead."))
    # A proposal held because its channel proves nothing may turn out to be a forgery:
    # set aside, it is no longer waiting, and it never counts for the robot's agreement.
    Proposal.objects.filter(document=document, decided="").delete()
    document.state = Document.State.DISCARDED
    document.reason = _("Discarded: %(reason)s") % {"reason": reason}
    document.handled_by, document.handled_at = by, timezone.now()
    document.save(update_fields=["state", "reason", "handled_by", "handled_at"])
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return document
