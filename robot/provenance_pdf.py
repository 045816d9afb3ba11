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
"""

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    KeyUsageConstraints,
    SignatureCoverageLevel,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext

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
    """Judge all digital signatures of a PDF against the trust anchors, without network."""
    try:
        result = outside_event_loop(_check, data, trust_anchor_pems)
    except Exception:  # a hostile or broken file must not crash the pipeline
        logger.info("PDF signature could not be checked", exc_info=True)
        result = PdfSignature(ERROR, _("The PDF's digital signature could not be checked."))
    if result.status == UNSIGNED and required:
        result = replace(
            result, reason=_("The PDF carries no digital signature, and one is required.")
        )
    return replace(result, required=required)


def outside_event_loop(function, *args):
    """Call `function`, in a thread of its own when this thread runs an event loop:
    pyHanko's synchronous API starts one itself, which a running loop forbids."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _check(data: bytes, trust_anchor_pems: list[bytes]) -> PdfSignature:
    if not isinstance(data, bytes | bytearray) or not data.lstrip().startswith(b"%PDF"):
        return PdfSignature(ERROR, _("The file is not a readable PDF."))
    try:
        # Strict: pyHanko then refuses files with hybrid cross-reference tables, which
        # can show one reader different content than another (a "shadow attack").
        reader = PdfFileReader(io.BytesIO(bytes(data)), strict=True)
        if reader.encrypted and not _decrypted(reader):
            return PdfSignature(
                ERROR, _("The PDF is encrypted, so its digital signature could not be checked.")
            )
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        # A sloppy but unsigned PDF should not be "error" just because strict parsing
        # failed; a signed one must be readable strictly to be judged.
        return _unsigned_if_lenient_finds_none(data)
    if not signatures:
        return PdfSignature(UNSIGNED, _("The PDF carries no digital signature."))
    return _judge(signatures, trust_anchor_pems)


def _decrypted(reader) -> bool:
    try:
        return reader.decrypt(b"").status != AuthStatus.FAILED  # an empty user password
    except Exception:
        return False


def _unsigned_if_lenient_finds_none(data: bytes) -> PdfSignature:
    try:
        reader = PdfFileReader(io.BytesIO(bytes(data)), strict=False)
        if not reader.encrypted and not reader.embedded_signatures:
            return PdfSignature(UNSIGNED, _("The PDF carries no digital signature."))
    except Exception:
        pass
    return PdfSignature(
        ERROR, _("The PDF could not be read, so its digital signature could not be checked.")
    )


def _judge(signatures, trust_anchor_pems: list[bytes]) -> PdfSignature:
    try:
        anchors = [
            cert for blob in trust_anchor_pems for cert in load_certs_from_pemder_data(bytes(blob))
        ]
    except Exception:
        logger.error("A configured PDF trust anchor is not a certificate", exc_info=True)
        return PdfSignature(ERROR, _("The PDF's digital signature could not be checked."))

    def context():
        # trust_roots is always a list, possibly empty: None would mean "the operating
        # system's trust list", which is not who we trust for a police certificate.
        return ValidationContext(
            trust_roots=list(anchors), allow_fetching=False, revocation_mode="soft-fail"
        )

    # Certificates for signing documents carry digitalSignature, nonRepudiation
    # (contentCommitment) or both; pyHanko's default demands nonRepudiation.
    key_usage = KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )
    regular = [sig for sig in signatures if sig.sig_object_type == "/Sig"]
    if not regular:
        return PdfSignature(UNSIGNED, _("The PDF carries no digital signature."))
    last_regular = regular[-1]
    untrusted_signer = None
    for embedded in signatures:
        if embedded.sig_object_type == "/DocTimeStamp":
            # A document timestamp vouches for a time, not for content: it must be intact,
            # but its authority need not be one of our anchors.
            status = validate_pdf_timestamp(embedded, validation_context=context())
            if not (status.intact and status.valid):
                return PdfSignature(
                    INVALID,
                    _(
                        "A timestamp in the PDF is broken: the "
                        "document was changed after it was made."
                    ),
                )
            continue
        if embedded.sig_object_type != "/Sig":
            return PdfSignature(ERROR, _("The PDF's digital signature could not be checked."))
        status = validate_pdf_signature(
            embedded, signer_validation_context=context(), key_usage_settings=key_usage
        )
        signer = _common_name(status.signing_cert)
        if not (status.intact and status.valid):
            return PdfSignature(
                INVALID,
                _("The PDF's digital signature is broken: the document was changed after signing."),
                signer,
            )
        allowed = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
        if embedded is not last_regular:
            allowed.add(ModificationLevel.FORM_FILLING)
        if (
            status.coverage is None
            or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION
            or status.modification_level not in allowed
            or status.docmdp_ok is False
        ):
            return PdfSignature(INVALID, _("The PDF was changed after it was signed."), signer)
        if not status.trusted and untrusted_signer is None:
            untrusted_signer = signer
    if untrusted_signer is not None:
        return PdfSignature(
            UNTRUSTED,
            _("The PDF is signed by a certificate that is not trusted."),
            untrusted_signer,
        )
    signer = _common_name(last_regular.signer_cert)
    return PdfSignature(
        VALID, _("The PDF is validly signed by %(signer)s.") % {"signer": signer or "?"}, signer
    )


def _common_name(cert) -> str:
    try:
        return str(cert.subject.native.get("common_name", "") or "")
    except Exception:
        return ""
