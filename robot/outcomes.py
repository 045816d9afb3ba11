"""What follows from a certificate's outcome for its line and its document, whoever
decided it: the robot alone, or payroll confirming, overruling or matching by hand."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from orders.answers import CertificateResult, record_certificate_result
from orders.models import OrderLine
from orders.notifications import payroll_addresses, queue_email
from orders.services import Actor

from .filing import queue_filing
from .models import Document


def record_outcome(
    *, document: Document, line: OrderLine, outcome: str, by: Actor, note: str = ""
) -> None:
    """A certificate's outcome for its line, automatic or set by payroll: the document's
    own state here, the line's through the orders service."""
    if outcome not in CertificateResult.values:
        raise ValueError(f"Not an outcome for a line: {outcome}")
    document.line = line
    if (statement := document.stated_upload) is not None and outcome != Document.Outcome.NOT_CLEAN:
        # The timeline keeps who vouched for the channel (docs/threat-model.md, T1); a
        # not-clean line's note stays empty, as the manager may see nothing about it.
        said = _("%(who)s stated: %(origin)s") % {
            "who": statement.by.get_full_name() or statement.by.username,
            "origin": statement.get_origin_display().lower(),
        }
        note = f"{note or CertificateResult(outcome).label} · {said}"
    record_certificate_result(line=line, result=outcome, by=by, note=note)
    if outcome == Document.Outcome.NOT_CLEAN:
        document.state = Document.State.NOT_CLEAN
        notify_payroll(document, line)
    else:
        document.state = Document.State.DONE
    if outcome == Document.Outcome.CLEAN:
        queue_filing(document=document, line=line)


def notify_payroll(document: Document, line: OrderLine | None) -> None:
    """E-mail payroll a link to the document (no content, no CPR)."""
    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("robot:document", args=[document.pk])
    if line is None:
        queue_email(
            template="certificate_unmatched",
            key=f"document:{document.pk}",
            to=payroll_addresses(),
            context={"url": url},
        )
        return
    queue_email(
        template="certificate_flagged",
        key=f"document:{document.pk}",
        to=payroll_addresses(),
        order=line.order,
        line=line,
        context={"line": line, "order": line.order, "url": url},
    )
