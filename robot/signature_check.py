"""Judging a PDF's digital signatures with pyHanko, as codes: the part that runs in the
sandbox's reader (robot/sandbox.py), under its CPU and memory limits.

No Django and no project imports: the helper runs "python -I sandbox.py" and loads this
file by its path. The reasons a person reads are made from the codes in
robot/provenance_pdf.py, which also explains what is accepted and why.
"""

import io

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

VALID, UNSIGNED, INVALID, UNTRUSTED, ERROR = "valid", "unsigned", "invalid", "untrusted", "error"

# code -> status. The codes name the reason; provenance_pdf.py words it.
CODES = {
    "valid": VALID,
    "unsigned": UNSIGNED,
    "untrusted": UNTRUSTED,
    "broken": INVALID,  # a signature's digest or cryptography fails
    "timestamp_broken": INVALID,
    "changed": INVALID,  # changed after signing in a way we do not accept
    "not_pdf": ERROR,
    "encrypted": ERROR,
    "unreadable": ERROR,
    "anchor": ERROR,  # a configured trust anchor is not a certificate
    "unchecked": ERROR,  # a signature of a kind we do not judge
}


def verdict(code: str, signer: str = "") -> dict:
    return {"status": CODES[code], "code": code, "signer": signer}


def check(data: bytes, trust_anchor_pems: list[bytes]) -> dict:
    """Judge all signatures of a PDF against the trust anchors, without network. Raises
    on what pyHanko cannot cope with (the caller reports that as an error)."""
    if not data.lstrip().startswith(b"%PDF"):
        return verdict("not_pdf")
    try:
        # Strict: pyHanko then refuses files with hybrid cross-reference tables, which
        # can show one reader different content than another (a "shadow attack").
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        if reader.encrypted and not _decrypted(reader):
            return verdict("encrypted")
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        # A sloppy but unsigned PDF should not be "error" just because strict parsing
        # failed; a signed one must be readable strictly to be judged.
        return _unsigned_if_lenient_finds_none(data)
    if not signatures:
        return verdict("unsigned")
    return _judge(signatures, trust_anchor_pems)


def _decrypted(reader) -> bool:
    try:
        return reader.decrypt(b"").status != AuthStatus.FAILED  # an empty user password
    except MemoryError:
        raise
    except Exception:
        return False


def _unsigned_if_lenient_finds_none(data: bytes) -> dict:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if not reader.encrypted and not reader.embedded_signatures:
            return verdict("unsigned")
    except MemoryError:
        raise
    except Exception:
        pass
    return verdict("unreadable")


def _judge(signatures, trust_anchor_pems: list[bytes]) -> dict:
    try:
        anchors = [
            cert for blob in trust_anchor_pems for cert in load_certs_from_pemder_data(bytes(blob))
        ]
    except Exception:
        return verdict("anchor")

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
        return verdict("unsigned")
    last_regular = regular[-1]
    untrusted_signer = None
    for embedded in signatures:
        if embedded.sig_object_type == "/DocTimeStamp":
            # A document timestamp vouches for a time, not for content: it must be intact,
            # but its authority need not be one of our anchors.
            status = validate_pdf_timestamp(embedded, validation_context=context())
            if not (status.intact and status.valid):
                return verdict("timestamp_broken")
            continue
        if embedded.sig_object_type != "/Sig":
            return verdict("unchecked")
        status = validate_pdf_signature(
            embedded, signer_validation_context=context(), key_usage_settings=key_usage
        )
        signer = _common_name(status.signing_cert)
        if not (status.intact and status.valid):
            return verdict("broken", signer)
        allowed = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
        if embedded is not last_regular:
            allowed.add(ModificationLevel.FORM_FILLING)
        if (
            status.coverage is None
            or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION
            or status.modification_level not in allowed
            or status.docmdp_ok is False
        ):
            return verdict("changed", signer)
        if not status.trusted and untrusted_signer is None:
            untrusted_signer = signer
    if untrusted_signer is not None:
        return verdict("untrusted", untrusted_signer)
    return verdict("valid", _common_name(last_regular.signer_cert))


def _common_name(cert) -> str:
    try:
        return str(cert.subject.native.get("common_name", "") or "")
    except Exception:
        return ""
