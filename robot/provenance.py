"""Where a returned document came from (docs/architecture.md, D6).

A certificate is believed for its provenance and its content, never its content alone.
Four checks, each recorded for the reviewer:

- reference: the secret part of the Rekvirent reference of the batch in which the
  person's line was ordered is written on the certificate or in its forwarding message
  (an order on paper consent is a batch of one with its own reference; lines ordered on
  paper before that have none, and their answers always go to a person);
- mail: a forwarded message comes from a configured forwarder and its DKIM signature
  verifies, or a trusted receiving server says it passed;
- signature: a PDF's digital signature, if it has one (or if one is required), is
  intact and made by a trusted certificate;
- channel: the file reached us through a channel the hire cannot write to: verified
  forwarding from the municipality's mailbox, a trusted signature, or an upload whose
  uploader stated that they fetched it from the municipality's Digital Post mailbox.

Anything in the first three that fails sends the document to a person with the reasons;
it is never clean. An unproven channel holds the answer as a proposal a person confirms.
The threats each check answers are in docs/threat-model.md.
"""

import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from orders.batching import compact, names_batch, references_in, requester_reference
from orders.models import OrderLine

from .models import Document, Upload

REFERENCE, MAIL, SIGNATURE, CHANNEL = "reference", "mail", "signature", "channel"


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
    """The checks that say the document is not the police's answer to our order. The
    channel check is not among them: an unproven channel holds the answer for a person."""
    return [check for check in checks if not check.passed and check.name != CHANNEL]


def channel_proven(checks) -> bool:
    return all(check.passed for check in checks if check.name == CHANNEL)


# The line the police print the orderer's Rekvirent text on, and the forwarding notice's
# line that repeats it. The reference counts only there, and only as a whole word: in white
# 1-pt text elsewhere on the page, or inside a long run of random letters, it proves
# nothing (docs/threat-model.md, T3).
_REKVIRENT_LINE = re.compile(r"^\s*Rekvirent\s*:?(.*)$", re.M | re.I)
_AROUND_DASH = re.compile(r"\s*-\s*")
_WORD_BREAK = re.compile(r"[\s,;]+")


def requester_lines(text: str) -> list[str]:
    """What the certificate's Rekvirent lines say (without the label)."""
    return [match.group(1) for match in _REKVIRENT_LINE.finditer(text or "")]


def _carries_reference(value: str, reference: str) -> bool:
    wanted = compact(reference)
    words = _WORD_BREAK.split(_AROUND_DASH.sub("-", value or ""))
    return any(word and compact(word) == wanted for word in words)


def check_reference(line: OrderLine, *, certificate_text: str, att: str = "") -> Check:
    """Was the certificate ordered in the batch of this line? The whole reference with its
    secret part must stand on the certificate's Rekvirent line (or the forwarding notice's
    Att: line). It keeps out documents meant for another batch or made by outsiders; it
    proves nothing against the hire, who sees the same line on their own copy (the
    channel check answers that)."""
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
    lines = [*requester_lines(certificate_text), *([att] if att else [])]
    reference = requester_reference(batch)
    if any(_carries_reference(value, reference) for value in lines):
        return Check(
            REFERENCE,
            True,
            _("The reference of batch %(batch)s is on the certificate's Rekvirent line.")
            % {"batch": batch.reference},
        )
    if any(names_batch(value, batch.reference) for value in lines):
        return Check(
            REFERENCE,
            False,
            _(
                "The certificate names batch %(batch)s, but the secret part of its reference is "
                "missing or wrong."
            )
            % {"batch": batch.reference},
        )
    if any(references_in(value) for value in lines):
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
            "certificate's Rekvirent line or in its message."
        )
        % {"batch": batch.reference},
    )


def check_mail(raw: bytes, *, from_our_server: bool) -> Check:
    """`from_our_server`: the message was fetched from the municipality's mailbox, so an
    Authentication-Results header of a trusted receiving server may be believed. On an
    uploaded or dropped .eml anyone could have typed that header; only DKIM counts."""
    from .provenance_mail import check_message_origin

    origin = check_message_origin(
        raw,
        trusted_senders=settings.MAIL_TRUSTED_SENDERS,
        trusted_authserv_ids=settings.MAIL_TRUSTED_AUTHSERV_IDS if from_our_server else [],
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


def check_channel(document, checks) -> Check:
    """Did the document come through a channel the hire cannot write to? The hire gets a
    copy of their own certificate, Rekvirent line included, so content proves nothing;
    only the way the file reached us does (docs/threat-model.md, T1-T2). Without that
    proof the answer waits for a person, in trial and automatic mode alike."""
    via = document.parent if document.source == Document.Source.ATTACHMENT else document
    upload = via.upload
    uploader = (upload.by.get_full_name() or upload.by.username) if upload else "?"
    origin = upload.origin if upload else ""
    proofs = {check.name: check for check in checks if check.passed and not check.neutral}
    if MAIL in proofs:
        return Check(
            CHANNEL,
            True,
            _("Forwarded by the municipality's own mail system: %(how)s")
            % {"how": proofs[MAIL].detail},
        )
    if SIGNATURE in proofs:
        return Check(CHANNEL, True, proofs[SIGNATURE].detail)
    if via.source == Document.Source.UPLOAD and origin == Upload.Origin.DIGITAL_POST:
        return Check(
            CHANNEL,
            True,
            _(
                "%(user)s stated when uploading it that the file was fetched from the "
                "municipality's Digital Post mailbox."
            )
            % {"user": uploader},
        )
    if via.source == Document.Source.FOLDER:
        why = _("It came through the drop folder, which does not show who put it there.")
    elif via.source == Document.Source.UPLOAD and origin in (
        Upload.Origin.APPLICANT,
        Upload.Origin.PAPER,
    ):
        why = _("%(user)s uploaded it as: %(origin)s.") % {
            "user": uploader,
            "origin": Upload.Origin(origin).label.lower(),
        }
    elif via.source == Document.Source.UPLOAD:
        why = _("%(user)s uploaded it without knowing where it came from.") % {"user": uploader}
    else:
        why = _("Its forwarding could not be verified.")
    return Check(
        CHANNEL,
        False,
        _(
            "%(why)s The hire has a copy of their own certificate and could have made this one. "
            "Before confirming, check that the same certificate arrived from Rigspolitiet in "
            "the municipality's Digital Post mailbox."
        )
        % {"why": why},
    )


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
