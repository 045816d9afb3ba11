"""Is a returned PDF's digital signature intact, whole and made by a trusted certificate?

Every signature in the file is checked with pyHanko against the configured trust
anchors only: no operating-system trust list, no fetching of certificates, CRLs or
OCSP (revocation is soft-fail, so the absence of revocation data is no failure).

What "the signature covers the document" means here. pyHanko reports, per signature,
how the bytes after the signed revision changed the document (its modification level):

- NONE (the signature covers the whole file) and LTA_UPDATES (only validation data or
  document timestamps were appended, which change nothing a reader sees) are accepted.
- FORM_FILLING (field values, their appearance, further signatures) is accepted only
  for a signature that a later signature in the file follows, because that later
  signature must itself be valid, trusted and whole, so a trusted signer vouched for the
  filled-in state. After the last signature it is refused: a filled-in or re-drawn text
  field changes what the clerk reads, and nobody trusted signed that.
- ANNOTATIONS, OTHER, unknown, or a byte range that is not one block from the start of
  the file: the document was changed after signing, so the signature is "invalid".

A signature whose DocMDP (certification) level forbids what was changed is invalid too.
check_pdf_signature never raises: what it cannot read is "error".

The judging itself is robot/signature_check.py, which runs in the sandbox's reader: a
signed file can hide an incremental update of hundreds of thousands of objects, which
pyHanko would parse for a minute and more than a gigabyte in the web worker. Here the
codes it answers with become reasons a person reads.
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from . import sandbox
from .extraction import limit_problem, read_limits

logger = logging.getLogger(__name__)

VALID, UNSIGNED, INVALID, UNTRUSTED, ERROR = "valid", "unsigned", "invalid", "untrusted", "error"


@dataclass(frozen=True)
class PdfSignature:
    status: str  # valid, unsigned, invalid, untrusted or error
    reason: str  # for the payroll clerk, in Danish
    signer: str = ""  # subject common name of the signing certificate, if any
    required: bool = False  # whether a signature was required when this was judged

    @property
    def acceptable(self) -> bool:
        return self.status == VALID or (self.status == UNSIGNED and not self.required)


def check_pdf_signature(
    data: bytes, *, trust_anchor_pems: list[bytes], required: bool
) -> PdfSignature:
    """Judge all digital signatures of a PDF against the trust anchors, without network.

    pyHanko parses the untrusted file in the sandbox's reader (robot/sandbox.py), under
    the limits of reading a PDF: a file that needs more is "error", for a person."""
    if not isinstance(data, bytes | bytearray) or not data.lstrip().startswith(b"%PDF"):
        result = PdfSignature(ERROR, _("The file is not a readable PDF."))
    else:
        limits = read_limits()
        outcome = sandbox.check_signature(
            bytes(data), trust_anchor_pems=trust_anchor_pems, **limits
        )
        if outcome.status == sandbox.DONE:
            result = _from_codes(outcome.answer)
        else:
            logger.warning(
                "PDF signature not checked: %s %s (%.1f s CPU, %d MB)",
                outcome.status,
                outcome.detail,
                outcome.cpu_seconds,
                outcome.maxrss_kb // 1024,
            )
            result = PdfSignature(
                ERROR,
                _("The PDF's digital signature could not be checked: %(why)s")
                % {"why": limit_problem(outcome, limits)},
            )
    if result.status == UNSIGNED and required:
        result = replace(
            result, reason=_("The PDF carries no digital signature, and one is required.")
        )
    return replace(result, required=required)


def _from_codes(answer: dict) -> PdfSignature:
    code, signer = answer["code"], answer["signer"]
    if code == "error":
        logger.info("PDF signature could not be checked: %s", answer.get("error", ""))
    elif code == "anchor":
        logger.error("A configured PDF trust anchor is not a certificate")
    reasons = {
        "valid": _("The PDF is validly signed by %(signer)s.") % {"signer": signer or "?"},
        "unsigned": _("The PDF carries no digital signature."),
        "untrusted": _("The PDF is signed by a certificate that is not trusted."),
        "broken": _(
            "The PDF's digital signature is broken: the document was changed after signing."
        ),
        "timestamp_broken": _(
            "A timestamp in the PDF is broken: the document was changed after it was made."
        ),
        "changed": _("The PDF was changed after it was signed."),
        "not_pdf": _("The file is not a readable PDF."),
        "encrypted": _("The PDF is encrypted, so its digital signature could not be checked."),
        "unreadable": _(
            "The PDF could not be read, so its digital signature could not be checked."
        ),
    }
    reason = reasons.get(code, _("The PDF's digital signature could not be checked."))
    return PdfSignature(answer["status"], reason, signer)


def outside_event_loop(function, *args):
    """Call `function`, in a thread of its own when this thread runs an event loop:
    pyHanko's synchronous API starts one itself, which a running loop forbids."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()
