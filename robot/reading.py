"""From a received file to an evaluation: PDFs directly, messages through their notice."""

from django.utils.translation import gettext as _

from .evaluation import UNKNOWN, Outcome, Result, Rules, evaluate_text
from .extraction import pdf_text
from .mail import Notice, parse_message


def is_message(data: bytes, filename: str) -> bool:
    if filename.lower().endswith(".eml"):
        return True
    head = data[:2048].lower()
    return not data.startswith(b"%PDF-") and (b"\nsubject:" in head or head.startswith(b"from:")
                                              or b"mime-version:" in head)


def evaluate_pdf(data: bytes, rules: Rules) -> Result:
    extracted = pdf_text(data)
    if not extracted.ok:
        return Result(outcome=Outcome.UNREADABLE, reason=extracted.problem,
                      rules_version=rules.version)
    result = evaluate_text(extracted.text, rules)
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
        expected = {"refusal": {"refusal"}, "child": {"child"},
                    "criminal": {"criminal_public", "criminal_private"}}[hint]
        if kind not in expected:
            disagreements.append(_("the message's subject says another kind than the PDF"))
    if disagreements and result.outcome != Outcome.UNREADABLE:
        result.outcome = Outcome.NEEDS_REVIEW
        result.reason = _("The message and the PDF disagree: %(what)s.") % {
            "what": "; ".join(disagreements)}
    return result


def evaluate_file(data: bytes, filename: str, rules: Rules) -> Result:
    """The evaluation of one received file, as the command and the pipeline report it."""
    try:
        return _evaluate_file(data, filename, rules)
    except Exception as error:  # a broken message must not stop the rest
        return Result(outcome=Outcome.UNREADABLE, rules_version=rules.version,
                      reason=_("The file could not be read: %(error)s")
                      % {"error": type(error).__name__})


def _evaluate_file(data: bytes, filename: str, rules: Rules) -> Result:
    if not is_message(data, filename):
        return evaluate_pdf(data, rules)
    message = parse_message(data)
    if not message.attachments:
        return Result(outcome=Outcome.NEEDS_REVIEW, cpr=message.notice.cpr,
                      reason=_("The message has no PDF attached."), rules_version=rules.version)
    name, pdf = message.attachments[0]
    return check_against_notice(evaluate_pdf(pdf, rules), message.notice)
