"""Where a returned document came from (DESIGN.md §7).

A certificate is believed for its provenance and its content, never its content alone.
Three checks, each recorded for the reviewer:

- reference: the secret part of the Rekvirent reference of the batch in which the
  person's line was ordered is written on the certificate or in its forwarding message
  (an order on paper consent is a batch of one with its own reference; lines ordered on
  paper before that have none, and their answers always go to a person);
- mail: a forwarded message comes from a configured forwarder and its DKIM signature
  verifies, or a trusted receiving server says it passed;
- signature: a PDF's digital signature, if it has one (or if one is required), is
  intact and made by a trusted certificate.

Anything that fails sends the document to a person with the reasons; it is never clean.
"""

from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from orders.batching import compact, names_batch, references_in
from orders.models import OrderLine

REFERENCE, MAIL, SIGNATURE = "reference", "mail", "signature"


@dataclass(frozen=True)
class Check:
    name: str  # reference, mail, signature
    passed: bool
    detail: str  # for the reviewer, in Danish
    # Nothing to check (an unsigned PDF where no signature is required): not a failure,
    # and not shown to the reviewer as a pass either.
    neutral: bool = False

    def as_json(self) -> dict:
        return asdict(self)


def failed(checks) -> list[Check]:
    return [check for check in checks if not check.passed]


def check_reference(line: OrderLine, texts: list[str]) -> Check:
    """Was the certificate ordered in the batch of this line? Only payroll knows the
    batch's secret, so a document carrying it comes from the police's answer to it."""
    batch = line.batch
    if batch is None or not batch.secret:
        return Check(
            REFERENCE,
            False,
            _(
                "The order was not sent in a police batch with a secret reference (ordered on "
                "paper consent, or before references had a secret part): check the certificate "
                "against the order by hand."
            ),
        )
    written = [compact(text) for text in texts]
    if any(batch.secret in text for text in written):
        return Check(
            REFERENCE,
            True,
            _("The reference of batch %(batch)s is on the certificate.")
            % {"batch": batch.reference},
        )
    if any(names_batch(text, batch.reference) for text in texts):
        return Check(
            REFERENCE,
            False,
            _(
                "The certificate names batch %(batch)s, but the secret part of its reference is "
                "missing or wrong."
            )
            % {"batch": batch.reference},
        )
    if any(references_in(text) for text in texts):
        return Check(
            REFERENCE,
            False,
            _(
                "The certificate carries the reference of another batch than %(batch)s, in "
                "which this person was ordered."
            )
            % {"batch": batch.reference},
        )
    return Check(
        REFERENCE,
        False,
        _(
            "The reference of batch %(batch)s, in which this person was ordered, is not on the "
            "certificate or in its message."
        )
        % {"batch": batch.reference},
    )


def check_mail(raw: bytes) -> Check:
    from .provenance_mail import check_message_origin

    origin = check_message_origin(
        raw,
        trusted_senders=settings.MAIL_TRUSTED_SENDERS,
        trusted_authserv_ids=settings.MAIL_TRUSTED_AUTHSERV_IDS,
    )
    if origin.trusted:
        how = {
            "dkim": _("its DKIM signature verifies"),
            "authentication-results": _("the receiving mail server says it passed"),
        }
        return Check(
            MAIL,
            True,
            _("Forwarded by %(sender)s, and %(how)s.")
            % {"sender": origin.sender, "how": how.get(origin.method, origin.method)},
        )
    return Check(MAIL, False, origin.reason)


def check_signature(pdf: bytes) -> Check:
    from .provenance_pdf import check_pdf_signature

    if b"/ByteRange" not in pdf and not settings.PDF_SIGNATURE_REQUIRED:
        # A signature's /ByteRange names byte offsets of the file, so it is written out
        # plainly, never compressed: without one there is no signature to check, and the
        # untrusted file need not be parsed a second time outside the sandbox.
        return Check(SIGNATURE, True, _("The PDF carries no digital signature."), neutral=True)
    result = check_pdf_signature(
        pdf,
        trust_anchor_pems=_trust_anchors(settings.PDF_TRUST_ANCHORS),
        required=settings.PDF_SIGNATURE_REQUIRED,
    )
    if result.status == "valid":
        return Check(
            SIGNATURE, True, _("Validly signed by %(signer)s.") % {"signer": result.signer or "?"}
        )
    return Check(
        SIGNATURE,
        result.acceptable,
        result.reason,
        neutral=result.status == "unsigned" and result.acceptable,
    )


@cache
def _trust_anchors(path: str) -> list[bytes]:
    if not path:
        return []
    data = Path(path).read_bytes()
    marker = b"-----END CERTIFICATE-----"
    return [
        chunk.strip() + b"\n" + marker + b"\n"
        for chunk in data.split(marker)
        if b"BEGIN CERTIFICATE" in chunk
    ]
