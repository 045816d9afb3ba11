"""Reading, judging and matching a received document, and what follows for its order line."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.answers import reopen_for_second_answer
from orders.models import CertificateKind, OrderLine, Person
from orders.services import ROBOT, get_or_create_person
from portal.cpr import hash_cpr, mask_cpr

from .evaluation import REFUSAL, Result
from .intake import document_path, ingest_bytes, read_document
from .models import Document, Evaluation, FilingJob, ModeSwitch, Proposal, RuleSet
from .outcomes import notify_payroll, record_outcome
from .provenance import channel_proven, check_channel, check_reference, failed
from .reading import FileJudgement, Judgement, judge_file
from .rules import kind_ids, rules_from
from .trial import needs_confirmation, propose

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
            document = (
                Document.objects.select_for_update()
                .filter(pk=document_id, state=Document.State.RECEIVED)
                .first()
            )
            if document is not None:
                document.state, document.outcome = (
                    Document.State.NEEDS_REVIEW,
                    Document.Outcome.NEEDS_REVIEW,
                )
                document.reason = _("The robot could not process the file (%(error)s).") % {
                    "error": type(error).__name__
                }
                document.save(update_fields=["state", "outcome", "reason"])
        return document


def _process(document_id: int, stored: list) -> Document | None:
    with transaction.atomic():
        document = _locked_document(document_id)
        # The state is checked here, not in the query, so that the database finds the row
        # by its key even when hundreds of documents wait to be read.
        if document is None or document.state != Document.State.RECEIVED:
            return None
        ruleset = _ruleset(document)
        if ruleset is None:
            # Fail safe: without rules nothing can be judged, so a person looks at it.
            document.state, document.outcome = (
                Document.State.NEEDS_REVIEW,
                Document.Outcome.NEEDS_REVIEW,
            )
            document.reason = _("No evaluation rules are active. Ask an administrator.")
            document.save(update_fields=["state", "outcome", "reason"])
            return document
        judged = judge_file(
            read_document(document),
            document.original_name,
            rules_from(ruleset),
            from_our_server=document.source == Document.Source.MAILBOX,
        )
        if judged.notice is None and judged.judgements:
            _apply(document, judged.judgements[0], ruleset)
        elif judged.notice is None:
            _apply_problem(document, judged.problem, ruleset)
        else:
            _process_message(document, judged, ruleset, stored)
        return document


# An active (or once active) rule version is never edited (see the admin): kept per
# process. Which version is active is asked anew for every document, with its row lock;
# a draft edited and then activated differs from what was kept by its activation time.
_rulesets: dict[tuple, RuleSet] = {}


def _ruleset(document: Document) -> RuleSet | None:
    if document.active_ruleset_id is None:
        return None
    key = (document.active_ruleset_id, document.active_ruleset_at)
    if key not in _rulesets:
        _rulesets[key] = RuleSet.objects.get(pk=document.active_ruleset_id)
    return _rulesets[key]


def _kind_id(code: str, ruleset: RuleSet) -> int | None:
    known = kind_ids(ruleset).get(code)
    if known is not None:
        return known
    return CertificateKind.objects.filter(code=code).values_list("pk", flat=True).first()


def _process_message(document: Document, judged: FileJudgement, ruleset, stored: list) -> None:
    notice = judged.notice
    document.notice = {
        "cpr": mask_cpr(notice.cpr) or None,
        "att": notice.att[:200],
        "subject": notice.subject[:200],
        "sender": notice.sender[:100],
    }
    if judged.problem is not None:
        if notice.cpr:
            document.person = get_or_create_person(cpr=notice.cpr)
        _apply_problem(document, judged.problem, ruleset)
        return
    listed = []  # each attachment and where it went, for the message's own page
    for judgement in judged.judgements:
        child, created = ingest_bytes(
            judgement.pdf,
            filename=judgement.name,
            source=Document.Source.ATTACHMENT,
            upload=document.upload,
            parent=document,
            process=False,
        )
        if created:
            stored.append(document_path(child))
        listed.append({"name": judgement.name, "document": child.pk, "before": not created})
        if not created or child.state != Document.State.RECEIVED:
            continue
        child.notice = document.notice
        _apply(child, judgement, ruleset)
    document.state = Document.State.DONE
    document.notice = {**document.notice, "attachments": listed}
    document.reason = _("Forwarded message; its attachments are handled as documents of their own.")
    document.save()


def _apply_problem(document: Document, result: Result, ruleset) -> None:
    """A file the robot could not judge at all goes to a person with the reason."""
    Evaluation.objects.create(
        document=document,
        ruleset=ruleset,
        kind_code=result.kind,
        outcome=result.outcome,
        reason=result.reason,
    )
    document.outcome, document.reason = result.outcome, result.reason
    document.state = (
        Document.State.UNREADABLE
        if result.outcome == Document.Outcome.UNREADABLE
        else Document.State.NEEDS_REVIEW
    )
    document.save()


# What judging a document may change on its row.
_JUDGED_FIELDS = ["state", "outcome", "reason", "kind", "person", "line", "notice"]


def _apply(document: Document, judgement: Judgement, ruleset) -> None:
    result = judgement.result
    checks = list(judgement.checks)
    document.outcome, document.reason = result.outcome, result.reason
    kind_code = result.refused_kind if result.kind == REFUSAL else result.kind
    document.kind_id = _kind_id(kind_code, ruleset) if kind_code else None
    if result.outcome == Document.Outcome.UNREADABLE:
        document.state = Document.State.UNREADABLE
    elif result.outcome == Document.Outcome.NEEDS_REVIEW or not result.cpr:
        document.state = Document.State.NEEDS_REVIEW
    elif failed(checks):
        _not_from_the_police(document, checks)
    elif (line := _match(document, ruleset, cpr=result.cpr)) is not None:
        checks.append(
            check_reference(line, certificate_text=result.text, att=judgement.message_text)
        )
        checks.append(check_channel(document, checks))
        if failed(checks):
            _not_from_the_police(document, checks)
        elif not channel_proven(checks) or needs_confirmation(
            kind=line.kind, ruleset=ruleset, outcome=document.outcome, mode=line.mode
        ):
            propose(
                document=document,
                line=line,
                ruleset=ruleset,
                mode=line.mode,
                held=not channel_proven(checks),
            )
        else:
            record_outcome(document=document, line=line, outcome=document.outcome, by=ROBOT)
    if document.state == Document.State.SECOND_ANSWER:
        # For payroll's comparison of the two: where this one came from.
        checks.append(
            check_reference(document.line, certificate_text=result.text, att=judgement.message_text)
        )
        checks.append(check_channel(document, checks))
    if result.cpr and document.person_id is None:  # not found with an order line
        document.person = get_or_create_person(cpr=result.cpr)
    Evaluation.objects.create(
        document=document,
        ruleset=ruleset,
        kind_code=result.kind,
        outcome=result.outcome,
        reason=result.reason,
        evidence=result.evidence,
        provenance=[check.as_json() for check in checks],
    )
    if document.outcome == Document.Outcome.NOT_CLEAN and document.state in (
        Document.State.NEEDS_REVIEW,
        Document.State.NO_ORDER,
    ):
        # A certificate with a registration must never wait unseen in the queue.
        notify_payroll(document, None)
    document.save(update_fields=_JUDGED_FIELDS)


def _not_from_the_police(document: Document, checks) -> None:
    document.state = Document.State.NEEDS_REVIEW
    document.reason = _("Not accepted as coming from the police: %(why)s") % {
        "why": " ".join(check.detail for check in failed(checks))
    }


def _locked_document(pk: int) -> Document | None:
    """The document, locked unless another worker holds it, with the active rule version
    and the upload statement its channel check reads (one round trip for all three)."""
    active = RuleSet.objects.filter(is_active=True).order_by("pk")
    return (
        Document.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("upload__by")
        .annotate(
            active_ruleset_id=Subquery(active.values("pk")[:1]),
            active_ruleset_at=Subquery(active.values("activated_at")[:1]),
        )
        .filter(pk=pk)
        .first()
    )


def _ordered_lines(ruleset: RuleSet, *, cpr_hash: str, kind_id: int | None) -> list[OrderLine]:
    """The person's ordered lines (of the kind, if known), the two oldest, locked, each
    with whether an answer for it waits for confirmation and its kind's mode (trial or
    automatic) under the rule version."""
    waiting = Proposal.objects.filter(line=OuterRef("pk"), decided="")
    switch = ModeSwitch.objects.filter(kind=OuterRef("kind"), ruleset=ruleset).order_by(
        "-switched_at", "-pk"
    )
    # The person by a subquery, not a join: the database then reads the person's few lines
    # by their index whatever its statistics say, instead of every ordered line of the kind.
    whose = {"person_id": Subquery(Person.objects.filter(cpr_hash=cpr_hash).values("pk")[:1])}
    if kind_id is not None:
        whose["kind_id"] = kind_id
    return list(
        OrderLine.objects.select_for_update(of=("self",))
        .filter(status=OrderLine.Status.ORDERED, **whose)
        .annotate(
            has_open_proposal=Exists(waiting),
            mode=Coalesce(Subquery(switch.values("mode")[:1]), Value(ModeSwitch.Mode.TRIAL)),
        )
        .select_related("batch", "kind")
        .order_by("ordered_at", "pk")[:2]
    )


def _match(document: Document, ruleset: RuleSet, *, cpr: str) -> OrderLine | None:
    """The ordered line this document answers (the oldest), or None with the document's
    state saying why: no order, an answer already given, or a refusal too vague to place.
    The line comes with its kind's mode (trial or automatic) under `ruleset`, and the
    document with the line's person (found through the line, saving a query)."""
    cpr_hash = hash_cpr(cpr)
    ordered = _ordered_lines(ruleset, cpr_hash=cpr_hash, kind_id=document.kind_id)
    if ordered:
        document.person_id = ordered[0].person_id
    if document.kind_id is None and len(ordered) > 1:
        document.state = Document.State.NEEDS_REVIEW
        document.reason = _(
            "A refusal without a certificate kind, and the person has several orders."
        )
        return None
    if not ordered:
        whose = {"person_id": Subquery(Person.objects.filter(cpr_hash=cpr_hash).values("pk")[:1])}
        if document.kind_id is not None:
            whose["kind_id"] = document.kind_id
        answered = (
            OrderLine.objects.select_for_update(of=("self",))
            .filter(**whose, status__in=OrderLine.ANSWERED_STATUSES)
            .order_by("-status_changed_at")
            .first()
        )
        if answered is not None and _in_answer_window(answered):
            _second_answer(document, answered)
            return None
        document.line = answered
        if answered:
            document.person_id = answered.person_id
        document.state = Document.State.DUPLICATE if answered else Document.State.NO_ORDER
        document.reason = (
            _("The order line already has an answer.")
            if answered
            else _("No ordered certificate matches the CPR number and kind.")
        )
        if answered and document.outcome == Document.Outcome.NOT_CLEAN:
            # A not-clean certificate must never sit quietly behind an earlier answer.
            document.reason = _(
                "Not clean, and the order line already has an answer: payroll must look at it."
            )
            notify_payroll(document, answered)
        return None
    if ordered[0].has_open_proposal:
        # Confirming the waiting answer must not hide one that came after it.
        _second_answer(document, ordered[0])
        return None
    return ordered[0]


def _in_answer_window(line: OrderLine) -> bool:
    """Whether a document for this answered line is a second answer to it rather than a
    stray copy: while payroll still assesses it, or until the certificate filed for it
    has been deleted here after the retention period (RETENTION_FILE_DAYS)."""
    if line.status == OrderLine.Status.IN_REVIEW:
        return True
    since = timezone.now() - datetime.timedelta(days=settings.RETENTION_FILE_DAYS)
    filed = line.filings.filter(state=FilingJob.State.FILED).aggregate(last=Max("filed_at"))
    return (filed["last"] or line.status_changed_at) >= since


def _second_answer(document: Document, line: OrderLine) -> None:
    """A second document for a line with an answer: back to payroll, filing held, payroll
    told at once. Whatever it says, a later answer never replaces an earlier one by
    itself; a person settles the two (robot.services.settle_second_answer)."""
    document.line, document.person_id = line, line.person_id
    document.state = Document.State.SECOND_ANSWER
    document.reason = _(
        "The order line already has an answer (%(status)s). Two answers to one order are a "
        "warning sign: one of them may not come from the police. Compare them; nothing is "
        "filed until you have chosen."
    ) % {"status": line.get_status_display().lower()}
    reopen_for_second_answer(line=line, by=ROBOT)
    FilingJob.objects.filter(
        line=line, state__in=[FilingJob.State.PENDING, FilingJob.State.FAILED]
    ).update(state=FilingJob.State.HELD)
    notify_payroll(document, line)
