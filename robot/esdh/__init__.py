"""Filing in the municipality's case system (ESDH) behind one small interface.

An adapter takes a `FilingRequest` and returns the case system's reference for the
filed document, or raises one of the errors below; the filing job decides what
happens next (retry later, hand to a person). Which adapter runs comes from
settings (`ESDH_BACKEND`): `archive` (a local folder tree, the embedded default), `sbsys`
or `getorganized`.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from urllib3.exceptions import NewConnectionError


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

    def check_connection(self, test_cpr: str) -> str:
        """Sign in and find the test person's personnel case, filing nothing; a summary
        for the administrator (the CPR number masked), or a FilingError saying what failed."""
        return _("This case system has no connection to test.")


ADAPTERS = {
    "archive": "robot.esdh.archive.ArchiveCaseSystem",
    "sbsys": "robot.esdh.sbsys.SbsysCaseSystem",
    "getorganized": "robot.esdh.getorganized.GetOrganizedCaseSystem",
    "acadre": "robot.esdh.acadre.AcadreCaseSystem",
}


def case_system(*, throttle: Callable[[], object] | None = None) -> CaseSystem:
    """The configured adapter; `throttle` is called before each request to the system."""
    return import_string(ADAPTERS[settings.ESDH_BACKEND])(throttle=throttle)


def parse_retry_after(value: str | None) -> datetime.timedelta | None:
    """An HTTP Retry-After header: either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return datetime.timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(when - datetime.datetime.now(datetime.UTC), datetime.timedelta(0))


def never_connected(error: requests.ConnectionError) -> bool:
    """True when the request cannot have reached the system (refused, no route, DNS)."""
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def temporary(message: str, *, uncertain: bool) -> TemporaryFilingError:
    """A failure to try again later; an uncertain one says the document may be filed."""
    if uncertain:
        message += " " + _(
            "The document may have been filed; check the case before filing it again."
        )
    return TemporaryFilingError(message, uncertain=uncertain)


def request_failure(
    error: requests.RequestException, *, system: str, step: str, timeout: float, filing: bool
) -> TemporaryFilingError:
    """What a request to a case system that got no answer means. Only the filing call can
    leave a document behind, and not when the connection was never made."""
    values = {"system": system, "step": step}
    if isinstance(error, requests.Timeout):
        message = _("%(system)s did not answer within %(seconds)s seconds (%(step)s).") % {
            **values,
            "seconds": f"{timeout:g}",
        }
        return temporary(
            message, uncertain=filing and not isinstance(error, requests.ConnectTimeout)
        )
    if isinstance(error, requests.ConnectionError):
        return temporary(
            _("No connection to %(system)s (%(step)s).") % values,
            uncertain=filing and not never_connected(error),
        )
    return temporary(
        _("Error in the call to %(system)s (%(step)s): %(error)s.")
        % {**values, "error": type(error).__name__},
        uncertain=filing,
    )
