"""The models of ordering, one concern per module."""

from .access_log import AccessLog
from .catalogue import (
    CertificateKind,
    ChildContactRule,
    LegalBasis,
    PositionProfile,
    ProfileRequirement,
)
from .duplicate import DuplicateAttempt
from .hire import Hire, HireColumns, HireImport, JobCode, UnreadHire
from .notification import Notification, NotificationAttachment
from .order import Order, OrderEvent, OrderLine
from .person import Person
from .police_batch import PoliceBatch

__all__ = [
    "AccessLog",
    "CertificateKind",
    "ChildContactRule",
    "DuplicateAttempt",
    "Hire",
    "HireColumns",
    "HireImport",
    "JobCode",
    "LegalBasis",
    "Notification",
    "NotificationAttachment",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Person",
    "PoliceBatch",
    "PositionProfile",
    "ProfileRequirement",
    "UnreadHire",
]
