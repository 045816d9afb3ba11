"""From a received file to an evaluation: PDFs directly, messages through their notice."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .evaluation import UNKNOWN, Outcome, Result, Rules, evaluate_text
from .extraction import pdf_text
from .mail import Notice, parse_message
from .provenance import Check, check_mail, check_signature


def is_message(data: bytes, filename: str) -> bool:
    if filename.lower().endswith(".eml"):
        return True
    head = data[:2048].lower()
    return not data.startswith(b"%PDF-") and (
        b"\nsubject:" in head or head.startswith(b"from:") or b"mime-version:" in head
    )


def evaluate_pdf(data: bytes, rules: Rules) -> Result:
    extracted = pdf_text(data)
    if not extracted.ok:
        return Result(
            outcome=Outcome.UNREADABLE, reason=extracted.problem, rules_version=rules.version
        )
    result = evaluate_text(extracted.text, rules)
    result.text = extracted.text
    if extracted.doubt and result.outcome in (Outcome.CLEAN, Outcome.REFUSED):
        result.outcome, result.reason = Outcome.NEEDS_REVIEW, extracted.doubt
    return result


def check_against_notice(result: Result, notice: Notice) -> Result:
    """When the forwarding notice and the PDF disagree, a person decides."""
    disagreements = []
    if "rigspolitiet" not in notice.sender.casefold():
        disagreements.append(_("the message does not say it is from Rigspolitiet"))
    if notice.cpr and result.cpr and notice.cpr != result.cpr:
        disagreements.append(_("the CPR number in the message differs from the one in the PDF"))
    hint = notice.kind_hint
    kind = result.kind
    if hint and kind != UNKNOWN:
        expected = {
            "refusal": {"refusal"},
            "child": {"child"},
            "criminal": {"criminal_public", "criminal_private"},
        }[hint]
        if kind not in expected:
            disagreements.append(_("the message's subject says another kind than the PDF"))
    if disagreements and result.outcome != Outcome.UNREADABLE:
        result.outcome = Outcome.NEEDS_REVIEW
        result.reason = _("The message and the PDF disagree: %(what)s.") % {
            "what": "; ".join(disagreements)
        }
    return result


@dataclass
class Judgement:
    """One PDF as the robot judged it: its content, and the provenance checks that need no
    order (the reference check needs the matched line and comes later)."""

    name: str
    pdf: bytes
    result: Result
    checks: list[Check] = field(default_factory=list)
    message_text: str = ""  # the forwarding message's notice, where the reference may be

    def as_json(self, file: str) -> dict:
        """The command's answer: the content keys, and provenance in keys of its own."""
        return {
            **self.result.as_json(file),
            "provenance": [check.as_json() for check in self.checks],
        }


@dataclass
class FileJudgement:
    notice: Notice | None = None
    judgements: list[Judgement] = field(default_factory=list)
    problem: Result | None = None  # the file as a whole could not be judged


def judge_file(
    data: bytes, filename: str, rules: Rules, *, from_our_server: bool = False
) -> FileJudgement:
    """Judge a received file: a PDF, or a forwarded message and each PDF attached to it.
    The pipeline and the command both come through here. `from_our_server`: the file was
    fetched from the municipality's mailbox (see check_mail)."""
    try:
        return _judge_file(data, filename, rules, from_our_server)
    except Exception as error:  # a broken message must not stop the rest
        return FileJudgement(
            problem=Result(
                outcome=Outcome.UNREADABLE,
                rules_version=rules.version,
                reason=_("The file could not be read: %(error)s")
                % {"error": getattr(error, "reason", type(error).__name__)},
            )
        )


def _judge_file(data: bytes, filename: str, rules: Rules, from_our_server: bool) -> FileJudgement:
    if not is_message(data, filename):
        result = evaluate_pdf(data, rules)
        return FileJudgement(judgements=[Judgement(filename, data, result, _signed(data, result))])
    message = parse_message(data)
    if not message.attachments:
        return FileJudgement(
            notice=message.notice,
            problem=Result(
                outcome=Outcome.NEEDS_REVIEW,
                cpr=message.notice.cpr,
                reason=_("The message has no PDF attached."),
                rules_version=rules.version,
            ),
        )
    mail = check_mail(data, from_our_server=from_our_server)
    if not mail.passed and not from_our_server:
        # Uploaded or dropped: the message's forwarding was never ours to vouch for, so an
        # unverified one is no sign of forgery; the channel check holds it for a person.
        mail = Check(
            mail.name,
            True,
            _("Not verified (%(why)s); the message did not come from the mailbox.")
            % {"why": mail.detail},
            neutral=True,
        )
    judgements = []
    for name, pdf in message.attachments:
        result = check_against_notice(evaluate_pdf(pdf, rules), message.notice)
        judgements.append(
            Judgement(name, pdf, result, [mail, *_signed(pdf, result)], message.notice.att)
        )
    return FileJudgement(notice=message.notice, judgements=judgements)


def _signed(pdf: bytes, result: Result) -> list[Check]:
    """The signature check, only for a PDF the sandbox could read within its limits: the
    signature library parses the file in this process, and an unreadable file goes to a
    person whatever its signature says."""
    return [] if result.outcome == Outcome.UNREADABLE else [check_signature(pdf)]


def evaluate_file(data: bytes, filename: str, rules: Rules) -> Result:
    """The content of one received file as one result: for a message with several PDFs,
    the most cautious of them (a not-clean attachment is never hidden by a clean one)."""
    judged = judge_file(data, filename, rules)
    if judged.problem is not None:
        return judged.problem
    results = [judgement.result for judgement in judged.judgements]
    if len({result.outcome for result in results}) == 1:
        return results[0]
    not_clean = [result for result in results if result.outcome == Outcome.NOT_CLEAN]
    if not_clean:
        return not_clean[0]
    return Result(
        outcome=Outcome.NEEDS_REVIEW,
        rules_version=rules.version,
        reason=_("The message's attachments do not give the same answer."),
    )
