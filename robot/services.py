"""Payroll's handling of returned documents: assessments, manual matching, discarding."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import AccessLog, OrderEvent, OrderLine
from orders.notifications import manager_addresses, order_url, queue_email
from orders.services import change_line_status
from portal.models import User

from .models import Assessment, Document
from .filing import queue_filing
from .pipeline import record_outcome


class ReviewError(Exception):
    """An action that does not fit the document's state; the message is for the user."""


def _locked(document: Document, states) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.state not in states:
        raise ReviewError(_("The document has already been handled (%(state)s).")
                          % {"state": document.get_state_display()})
    return document


def log_document_access(*, user: User, document: Document, action: str) -> None:
    AccessLog.objects.create(user=user, username=user.get_username(), person=document.person,
                             order=document.line.order if document.line_id else None,
                             action=action)


def log_documents_listed(*, user: User, documents) -> None:
    """One access-log row per person whose document was shown in a list."""
    AccessLog.objects.bulk_create(
        AccessLog(user=user, username=user.get_username(), person_id=document.person_id,
                  order_id=document.line.order_id if document.line_id else None,
                  action=AccessLog.Action.LIST_DOCUMENTS)
        for document in documents if document.person_id
    )


@transaction.atomic
def assess_document(*, document: Document, by: User, relevance: str, discussed: bool,
                    decision: str, reason: str) -> Assessment:
    """Payroll's assessment of a not-clean certificate; with four eyes it waits for a second
    person, otherwise the decision takes effect at once."""
    document = _locked(document, [Document.State.NOT_CLEAN])
    assessment = Assessment.objects.create(
        document=document, relevance=relevance, discussed_with_applicant=discussed,
        decision=decision, reason=reason, assessed_by=by,
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
    line = OrderLine.objects.select_for_update().select_related("order", "kind").get(
        pk=document.line_id)
    status = {Assessment.Decision.MAY_EMPLOY: OrderLine.Status.CLEARED,
              Assessment.Decision.MAY_NOT_EMPLOY: OrderLine.Status.REJECTED}.get(
        assessment.decision)
    label = assessment.get_decision_display()
    if status is None:
        OrderEvent.objects.create(order=line.order, line=line, actor=by,
                                  action=OrderEvent.Action.DECIDED, note=label)
        if document.state != Document.State.NOT_CLEAN:  # after a second approval
            document.state = Document.State.NOT_CLEAN
            document.save(update_fields=["state"])
    else:
        change_line_status(line=line, to=status, by=by, action=OrderEvent.Action.DECIDED,
                           note=label)
        document.state = Document.State.DONE
        document.handled_by, document.handled_at = by, timezone.now()
        document.save(update_fields=["state", "handled_by", "handled_at"])
        # Filed only now, after payroll's decision, with the decision note.
        queue_filing(document=document, line=line)
    order = line.order
    queue_email(template="decision", key=f"assessment:{assessment.pk}",
                to=manager_addresses(order), order=order, line=line,
                context={"order": order, "line": line, "decision": label,
                         "url": order_url(order)})


@transaction.atomic
def resolve_document(*, document: Document, by: User, line: OrderLine, outcome: str,
                     reason: str) -> Document:
    """Attach a document to an order line by hand and set its outcome."""
    document = _locked(document, [Document.State.NEEDS_REVIEW, Document.State.UNREADABLE,
                                  Document.State.NO_ORDER, Document.State.DUPLICATE])
    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    reopening = line.status == OrderLine.Status.CLEARED and outcome == Document.Outcome.NOT_CLEAN
    if line.status not in (OrderLine.Status.NEW, OrderLine.Status.ORDERED) and not reopening:
        raise ReviewError(_("The certificate line already has an answer."))
    if document.person_id and document.person_id != line.person_id:
        raise ReviewError(_("The document is about another person than the order."))
    if document.kind_id and document.kind_id != line.kind_id:
        raise ReviewError(_("The document is another kind of certificate than the order line."))
    if document.outcome == Document.Outcome.NOT_CLEAN and outcome != Document.Outcome.NOT_CLEAN:
        raise ReviewError(_("The robot found signs of a registration: choose \"not clean\" and "
                            "assess the certificate."))
    document.outcome, document.person_id = outcome, line.person_id
    document.kind_id = document.kind_id or line.kind_id
    document.handled_by, document.handled_at = by, timezone.now()
    document.reason = _("Set by hand: %(reason)s") % {"reason": reason}
    record_outcome(document=document, line=line, outcome=outcome, by=by,
                   note=_("Set by hand by payroll"))
    document.save()
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return document


@transaction.atomic
def discard_document(*, document: Document, by: User, reason: str) -> Document:
    document = _locked(document, Document.QUEUE_STATES)
    if document.state in (Document.State.NOT_CLEAN, Document.State.AWAITING_APPROVAL):
        raise ReviewError(_("A certificate awaiting assessment cannot be discarded."))
    document.state = Document.State.DISCARDED
    document.reason = _("Discarded: %(reason)s") % {"reason": reason}
    document.handled_by, document.handled_at = by, timezone.now()
    document.save(update_fields=["state", "reason", "handled_by", "handled_at"])
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return document
