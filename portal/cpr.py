"""CPR numbers, in one place: validate, normalise, format, mask, hash, encrypt, find in
text and redact from log lines (docs/architecture.md, D4).

The number is stored encrypted (Fernet), found through a keyed hash (HMAC-SHA256) and
shown masked as ``ddmmåå-xxxx``. It lives in the organisation's app because every app
needs it and nothing here knows about orders or certificates.
"""

import base64
import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import InvalidComponent, ValidationError


class InvalidCpr(ValueError):
    """The text is not a CPR number; the message is fit for the person who typed it."""


# --- One number ----------------------------------------------------------------------


def normalise_cpr(value: str) -> str:
    """Return the ten digits of a valid CPR number, or raise InvalidCpr.

    The birth date must be real; the old modulus-11 check is deliberately not applied,
    since numbers issued after 2007 need not satisfy it.
    """
    digits = stdnum_cpr.compact(value or "")
    if not digits.isdigit() or len(digits) != 10:
        raise InvalidCpr(_("Enter the CPR number as 10 digits, e.g. 010190-1234."))
    try:
        stdnum_cpr.validate(digits)
    except InvalidComponent:
        raise InvalidCpr(
            _("The first six digits of the CPR number are not a valid date of birth.")
        ) from None
    except ValidationError:
        raise InvalidCpr(_("Enter the CPR number as 10 digits, e.g. 010190-1234.")) from None
    return digits


def format_cpr(digits: str) -> str:
    """ddmmåå-nnnn, the form the police and SBSYS take."""
    return f"{digits[:6]}-{digits[6:]}"


def mask_cpr(digits: str | None) -> str:
    """ddmmåå-xxxx: the date of birth shows, the serial never does."""
    return f"{digits[:6]}-xxxx" if digits else ""


# --- At rest -------------------------------------------------------------------------


def _key_material(setting: str, purpose: bytes) -> bytes:
    configured = getattr(settings, setting)
    if configured:
        return configured.encode()
    return hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()


@cache
def _fernet(key_material: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key_material).digest()))


def encrypt_cpr(digits: str) -> str:
    return (
        _fernet(_key_material("CPR_ENCRYPTION_KEY", b"cpr-encryption"))
        .encrypt(digits.encode())
        .decode()
    )


def decrypt_cpr(token: str) -> str:
    return (
        _fernet(_key_material("CPR_ENCRYPTION_KEY", b"cpr-encryption"))
        .decrypt(token.encode())
        .decode()
    )


def hash_cpr(digits: str) -> str:
    """Keyed hash to find a person by CPR without storing the number in clear."""
    key = _key_material("CPR_HASH_KEY", b"cpr-hash")
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


# --- In text -------------------------------------------------------------------------

# Every way a CPR number is written by people, PDFs and URLs: 010190-1234, 0101901234,
# 01.01.90-1234, 010190 - 1234, 010190–1234 (en dash), and URL-encoded separators
# ("+", %20, %2D, %2E). The date may be split by dots or spaces, the serial by a dash.
_DATE_SEP = r"(?:\.|[ \t]|%20|%2[eE])?"
_SERIAL_SEP = r"(?:\s*[-–]\s*|\s+|\+|%20|%2[dD]|%E2%80%93)?"
CPR_PATTERN = re.compile(
    rf"(?<!\d)(\d{{2}}){_DATE_SEP}(\d{{2}}){_DATE_SEP}(\d{{2}}){_SERIAL_SEP}(\d{{4}})(?!\d)"
)


def _masked(match: re.Match) -> str:
    return "".join(match.group(1, 2, 3)) + "-xxxx"


def find_cprs(text: str) -> list[str]:
    """Every valid CPR number in the text, in order of appearance, each once."""
    found: list[str] = []
    for match in CPR_PATTERN.finditer(text or ""):
        try:
            cpr = normalise_cpr("".join(match.group(1, 2, 3, 4)))
        except InvalidCpr:
            continue
        if cpr not in found:
            found.append(cpr)
    return found


def redact_cprs(text: str) -> str:
    """Mask anything CPR-shaped, valid or not: for log lines and quoted snippets."""
    return CPR_PATTERN.sub(_masked, text)
