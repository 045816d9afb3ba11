"""Reading, judging and matching a received document, and what follows for its order line."""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from django.conf import settings
from django.urls import reverse

from orders.answers import CertificateResult, record_certificate_result
from orders.models import CertificateKind, OrderLine
from orders.notifications import payroll_addresses, queue_email
from orders.services import ROBOT, Actor, get_or_create_person

from portal.cpr import mask_cpr

from .evaluation import Result
from .intake import document_path, ingest_bytes, read_document
from .mail import parse_message
from .filing import queue_filing
from .models import Document, Evaluation
from .reading import check_against_notice, evaluate_pdf, is_message
from .rules import active_ruleset, rules_from

logger = logging.getLogger(__name__)


def process_document(*, document_id: int) -> Document | None:
    """Read, judge and match one received document. Idempotent: only a document still
    waiting to be read is touched, under a row lock. Whatever goes wrong, the document
    ends in payroll's queue with the reason, never stuck out of sight."""
    stored: list = []  # files of attachments stored in the transaction below
    try:
        return _process(document_id, stored)
    except Exception as error:
        logger.exception("Document %s could not be processed", document_id)
        for path in stored:  # their rows were rolled back: no file without a row
            path.unlink(missing_ok=True)
        with transaction.atomic():
            document = (Document.objects.select_for_update()
                        .filter(pk=document_id, state=Document.State.RECEIVED).first())
            if document is not None:
                document.state, document.outcome = (Document.State.NEEDS_REVIEW,
                                                    Document.Outcome.NEEDS_REVIEW)
                document.reason = _("The robot could not process the file (%(error)s).") % {
                    "error": type(error).__name__}
                document.save(update_fields=["state", "outcome", "reason"])
        return document


def _process(document_id: int, stored: list) -> Document | None:
    with transaction.atomic():
        document = (Document.objects.select_for_update(skip_locked=True)
                    .filter(pk=document_id, state=Document.State.RECEIVED).first())
        if document is None:
            return None
        ruleset = active_ruleset()
        if ruleset is None:
            # Fail safe: without rules nothing can be judged, so a person looks at it.
            document.state, document.outcome = (Document.State.NEEDS_REVIEW,
                                                Document.Outcome.NEEDS_REVIEW)
            document.reason = _("No evaluation rules are active. Ask an administrator.")
            document.save(update_fields=["state", "outcome", "reason"])
            return document
        rules = rules_from(ruleset)
        data = read_document(document)
        if is_message(data, document.original_name):
            _process_message(document, data, ruleset, rules, stored)
        else:
            result = evaluate_pdf(data, rules)
            _apply(document, result, ruleset)
        return document


def _process_message(document: Document, data: bytes, ruleset, rules, stored: list) -> None:
    message = parse_message(data)
    notice = message.notice
    document.notice = {"cpr": mask_cpr(notice.cpr) or None,
                       "att": notice.att[:200], "subject": notice.subject[:200],
                       "sender": notice.sender[:100]}
    if not message.attachments:
        document.state, document.outcome = Document.State.NEEDS_REVIEW, Document.Outcome.NEEDS_REVIEW
        document.reason = _("The message has no PDF attached.")
        if notice.cpr:
            document.person = get_or_create_person(cpr=notice.cpr)
        document.save()
        return
    for name, pdf in message.attachments:
        child, created = ingest_bytes(pdf, filename=name, source=Document.Source.ATTACHMENT,
                                      parent=document, process=False)
        if created:
            stored.append(document_path(child))
        if not created or child.state != Document.State.RECEIVED:
            continue
        child.notice = document.notice
        result = check_against_notice(evaluate_pdf(pdf, rules), notice)
        _apply(child, result, ruleset)
    document.state = Document.State.DONE
    document.reason = _("Forwarded message; its attachments are handled as documents of their own.")
    document.save()


def _apply(document: Document, result: Result, ruleset) -> None:
    Evaluation.objects.create(document=document, ruleset=ruleset, kind_code=result.kind,
                              outcome=result.outcome, reason=result.reason,
                              evidence=result.evidence)
    document.outcome, document.reason = result.outcome, result.reason
    kind_code = result.refused_kind if result.kind == "refusal" else result.kind
    document.kind = CertificateKind.objects.filter(code=kind_code).first() if kind_code else None
    if result.cpr:
        document.person = get_or_create_person(cpr=result.cpr)
    if result.outcome == Document.Outcome.UNREADABLE:
        document.state = Document.State.UNREADABLE
    elif result.outcome == Document.Outcome.NEEDS_REVIEW or document.person is None:
        document.state = Document.State.NEEDS_REVIEW
    else:
        _match(document)
    document.save()


def _match(document: Document) -> None:
    lines = OrderLine.objects.select_for_update(of=("self",)).filter(person=document.person)
    if document.kind_id is not None:
        lines = lines.filter(kind_id=document.kind_id)
    ordered = list(lines.filter(status=OrderLine.Status.ORDERED).order_by("ordered_at", "pk")[:2])
    if document.kind_id is None and len(ordered) > 1:
        document.state = Document.State.NEEDS_REVIEW
        document.reason = _("A refusal without a certificate kind, and the person has several "
                            "orders.")
        return
    if not ordered:
        answered = lines.filter(status__in=OrderLine.ANSWERED_STATUSES).order_by("-status_changed_at").first()
        document.line = answered
        document.state = Document.State.DUPLICATE if answered else Document.State.NO_ORDER
        document.reason = (_("The order line already has an answer.") if answered
                           else _("No ordered certificate matches the CPR number and kind."))
        if answered and document.outcome == Document.Outcome.NOT_CLEAN:
            # A not-clean certificate must never sit quietly behind an earlier answer.
            document.reason = _("Not clean, and the order line already has an answer: payroll "
                                "must look at it.")
            _notify_payroll(document, answered)
        return
    record_outcome(document=document, line=ordered[0], outcome=document.outcome, by=ROBOT)


def record_outcome(*, document: Document, line: OrderLine, outcome: str, by: Actor,
                   note: str = "") -> None:
    """A certificate's outcome for its line, automatic or set by payroll: the document's
    own state here, the line's through the orders service."""
    if outcome not in CertificateResult.values:
        raise ValueError(f"Not an outcome for a line: {outcome}")
    document.line = line
    record_certificate_result(line=line, result=outcome, by=by, note=note)
    if outcome == Document.Outcome.NOT_CLEAN:
        document.state = Document.State.NOT_CLEAN
        _notify_payroll(document, line)
    else:
        document.state = Document.State.DONE
    if outcome == Document.Outcome.CLEAN:
        queue_filing(document=document, line=line)


def _notify_payroll(document: Document, line: OrderLine) -> None:
    """E-mail payroll a link to the document (no content, no CPR)."""
    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("robot:document", args=[document.pk])
    queue_email(template="certificate_flagged", key=f"document:{document.pk}",
                to=payroll_addresses(), order=line.order, line=line,
                context={"line": line, "order": line.order, "url": url})
