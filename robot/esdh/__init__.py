"""Filing in the municipality's case system (ESDH) behind one small interface.

An adapter takes a `FilingRequest` and returns the case system's reference for the
filed document, or raises one of the errors below; the filing job decides what
happens next (retry later, hand to a person). Which adapter runs comes from
settings (`ESDH_BACKEND`): `archive` (a local folder tree, the embedded default) or
`sbsys`.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class FilingRequest:
    reference: str  # ours, unique per certificate: the adapter must be idempotent on it
    cpr: str  # ten digits; never logged
    person_key: str  # a stable, non-identifying key for folder names (keyed hash)
    document_name: str  # e.g. "Børneattest 27.11.2026"
    content: bytes  # the PDF to file (the certificate itself, or a generated note)
    filename: str
    metadata: dict = field(default_factory=dict)  # kind, outcome, decision, dates


class FilingError(Exception):
    """Base class. The message is safe to store and show to payroll (no CPR)."""


class TemporaryFilingError(FilingError):
    """Try again later (outage, time-out, 5xx, 429). `retry_after` when the system said."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: datetime.timedelta | None = None,
        uncertain: bool = False,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        # True when the document may have been filed although we got no answer.
        self.uncertain = uncertain


class ManualFilingError(FilingError):
    """Cannot be filed automatically (e.g. 0 or several personnel cases): a person must."""


class CaseSystem:
    """What every adapter implements."""

    #: Whether `find` can tell if a document was filed; if not, an uncertain failure goes
    #: to a person instead of risking a second copy in the case.
    can_find = False

    def __init__(self, *, throttle: Callable[[], object] | None = None) -> None:
        # Called before every request to the remote system. The caller passes the shared
        # rate limit (robot.filing.take_rate_slot); an adapter never reaches back for it.
        self._throttle = throttle

    def throttle(self) -> None:
        if self._throttle is not None:
            self._throttle()

    def file(self, request: FilingRequest) -> str:
        """File the document and return the case system's reference for it."""
        raise NotImplementedError

    def find(self, request: FilingRequest) -> str | None:
        """The reference of a document filed earlier for this request, or None; used after
        an uncertain failure. Adapters that cannot look up return None."""
        return None


ADAPTERS = {
    "archive": "robot.esdh.archive.ArchiveCaseSystem",
    "sbsys": "robot.esdh.sbsys.SbsysCaseSystem",
}


def case_system(*, throttle: Callable[[], object] | None = None) -> CaseSystem:
    """The configured adapter; `throttle` is called before each request to the system."""
    return import_string(ADAPTERS[settings.ESDH_BACKEND])(throttle=throttle)
