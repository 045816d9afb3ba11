"""CPR numbers: validation, masking, encryption at rest and the keyed lookup hash."""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import InvalidComponent, ValidationError


class InvalidCpr(ValueError):
    """The text is not a CPR number; the message is fit for the person who typed it."""


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
        raise InvalidCpr(_("The first six digits of the CPR number are not a valid date of birth."))
    except ValidationError:
        raise InvalidCpr(_("Enter the CPR number as 10 digits, e.g. 010190-1234."))
    return digits


def mask_cpr(digits: str) -> str:
    """ddmmåå-xxxx: the date of birth shows, the serial never does."""
    return f"{digits[:6]}-xxxx" if digits else ""


def format_cpr(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}"


def _key_material(setting: str, purpose: bytes) -> bytes:
    configured = getattr(settings, setting)
    if configured:
        return configured.encode()
    return hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()


@cache
def _fernet(key_material: bytes) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material).digest())
    return Fernet(key)


def encrypt_cpr(digits: str) -> str:
    return _fernet(_key_material("CPR_ENCRYPTION_KEY", b"cpr-encryption")).encrypt(
        digits.encode()
    ).decode()


def decrypt_cpr(token: str) -> str:
    return _fernet(_key_material("CPR_ENCRYPTION_KEY", b"cpr-encryption")).decrypt(
        token.encode()
    ).decode()


def hash_cpr(digits: str) -> str:
    """Keyed hash to find a person by CPR without storing the number in clear."""
    key = _key_material("CPR_HASH_KEY", b"cpr-hash")
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
