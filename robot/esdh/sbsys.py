"""Filing in SBSYS through its REST API (DESIGN.md §4).

A filing takes three calls: a search for the person's active personnel case, the case's
sub-folders, and the journaliser POST. Only the last one changes anything in SBSYS, so
only a failure there can leave us unsure whether the document was filed
(`uncertain=True`). The access token from the SBSIP Keycloak is shared by every job and
every process through Django's cache (Redis in production) and renewed shortly before
it expires, or once when SBSYS rejects it early.

The CPR number travels only in the search body: it is never put in a log line or an
error message, and error bodies from SBSYS (which may echo it) are never copied. Nor is
the access token ever logged.
"""

import datetime
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from urllib3.exceptions import NewConnectionError

from portal.cpr import InvalidCpr, format_cpr, normalise_cpr

from . import CaseSystem, FilingRequest, ManualFilingError, TemporaryFilingError

logger = logging.getLogger(__name__)

TOKEN_PATH = "/auth/realms/sbsip/protocol/openid-connect/token"
# A token is renewed this long before it expires, so it cannot lapse in the middle of a filing.
TOKEN_MARGIN_SECONDS = 30.0
ACTIVE = "Aktiv"

# Step names go into error messages that payroll reads.
LOGIN = "login i SBSIP"
SEARCH = "søgning efter personalesag"
FOLDERS = "opslag af delforløb"
FILING = "journalisering"

MAYBE_FILED = " Dokumentet kan være journaliseret; tjek sagen før det journaliseres igen."


class SbsysCaseSystem(CaseSystem):
    """Files into the configured sub-folder of the person's one active personnel case."""

    def __init__(self, *, throttle=None) -> None:
        super().__init__(throttle=throttle)
        self.sbsys_url = settings.SBSYS_URL.rstrip("/")
        self.sbsip_url = settings.SBSIP_URL.rstrip("/")
        self.folder_title = settings.SBSYS_FOLDER_TITLE
        self.timeout = settings.SBSYS_TIMEOUT
        self.session = requests.Session()
        self._token: str | None = None
        self._token_renew_at = 0.0  # wall-clock seconds, comparable across processes

    def file(self, request: FilingRequest) -> str:
        if not (self.sbsys_url and self.sbsip_url):
            raise ManualFilingError("SBSYS er ikke sat op (SBSYS_URL og SBSIP_URL mangler).")
        case_id = self._active_personnel_case(request.cpr)
        folder_id = self._folder(case_id)
        document_id = self._journalise(request, case_id=case_id, folder_id=folder_id)
        logger.info("Filed %s in SBSYS as document %s", request.reference, document_id)
        return document_id

    def find(self, request: FilingRequest) -> str | None:
        """Always None: the documented SBSYS API has no lookup of documents by our reference.

        After an uncertain failure a person can search the case for the reference, which
        is part of every document name ("Børneattest 27.11.2026 [AP-00000042]").
        """
        return None

    # The three steps

    def _active_personnel_case(self, cpr: str) -> Any:
        try:
            dashed = format_cpr(normalise_cpr(cpr))
        except InvalidCpr:
            raise ManualFilingError("CPR-nummeret er ikke gyldigt.") from None
        body = {"PrimaerPerson": {"CprNummer": dashed}, "SagsTyper": [{"Navn": "PersonaleSag"}]}
        cases = self._call("POST", "/api/sag/search", step=SEARCH, json=body)
        with _answer(SEARCH):
            active = [
                case["Id"] for case in cases if (case.get("SagsStatus") or {}).get("Navn") == ACTIVE
            ]
        if not active:
            raise ManualFilingError("Ingen aktiv personalesag fundet i SBSYS.")
        if len(active) > 1:
            raise ManualFilingError(
                f"Flere aktive personalesager fundet i SBSYS ({len(active)}); vælg den rigtige."
            )
        return active[0]

    def _folder(self, case_id: Any) -> Any:
        folders = self._call("GET", f"/api/sag/{case_id}/delforloeb", step=FOLDERS)
        wanted = _normalised(self.folder_title)
        with _answer(FOLDERS):
            matching = [
                folder["Id"]
                for folder in folders
                if _normalised(folder.get("Titel") or "") == wanted
            ]
        if not matching:
            raise ManualFilingError(
                f"Personalesagen har intet delforløb med titlen »{self.folder_title}«."
            )
        return matching[0]

    def _journalise(self, request: FilingRequest, *, case_id: Any, folder_id: Any) -> str:
        metadata = {
            "SagID": case_id,
            "DokumentNavn": f"{request.document_name} [{request.reference}]",
            "OmfattetAfAktindsigt": True,
            "DokumentArt": {"Id": 1},
        }
        parts = {
            "json": (None, json.dumps(metadata, ensure_ascii=False)),
            "file": (request.filename, request.content, "application/pdf"),
        }
        answer = self._call(
            "POST", f"/api/dokument/journaliser/{folder_id}", step=FILING, filing=True, files=parts
        )
        # SBSYS said yes but we cannot tell which document it made: a person must look.
        with _answer(FILING, filing=True):
            document_id = answer["Id"]
            if document_id in (None, ""):
                raise ValueError("no document id")
            return str(document_id)

    # HTTP

    def _call(
        self, method: str, path: str, *, step: str, filing: bool = False, **kwargs: Any
    ) -> Any:
        """An SBSYS API call with a valid token; a 401 gets one new token and one retry."""
        for _attempt in range(2):
            token = self._access_token()
            headers = {"Authorization": f"Bearer {token}"}
            response = self._send(
                method, self.sbsys_url + path, step=step, filing=filing, headers=headers, **kwargs
            )
            if response.status_code != 401:
                break
            # Revoked before its time (a Keycloak restart, a changed password): no other
            # job or process may use it either.
            self._forget_token(token)
        _check(response, step=step, filing=filing)
        with _answer(step, filing=filing):
            return response.json()

    def _access_token(self) -> str:
        now = time.time()
        if self._token is not None and now < self._token_renew_at:
            return self._token
        shared = _cached_token()
        if shared and now < shared["renew_at"]:
            self._token, self._token_renew_at = shared["token"], shared["renew_at"]
            return self._token
        token, lifetime = self._fetch_token()
        margin = min(TOKEN_MARGIN_SECONDS, lifetime / 2)
        self._token, self._token_renew_at = token, now + lifetime - margin
        try:
            cache.set(
                token_cache_key(),
                {"token": token, "renew_at": self._token_renew_at},
                timeout=max(1, int(lifetime - margin)),
            )
        except Exception:  # a cache outage costs a token per job, never a filing
            logger.warning("Could not share the SBSYS token through the cache", exc_info=True)
        return token

    def _forget_token(self, token: str) -> None:
        self._token = None
        shared = _cached_token()
        # Another process may already have put a new one there.
        if shared and shared["token"] == token:
            try:
                cache.delete(token_cache_key())
            except Exception:
                logger.warning("Could not drop the SBSYS token from the cache", exc_info=True)

    def _fetch_token(self) -> tuple[str, float]:
        form = {
            "grant_type": "password",
            "client_id": settings.SBSYS_CLIENT_ID,
            "client_secret": settings.SBSYS_CLIENT_SECRET,
            "username": settings.SBSYS_USERNAME,
            "password": settings.SBSYS_PASSWORD,
        }
        response = self._send("POST", self.sbsip_url + TOKEN_PATH, step=LOGIN, data=form)
        _check(response, step=LOGIN)
        with _answer(LOGIN):
            answer = response.json()
            return str(answer["access_token"]), float(answer.get("expires_in", 60))

    def _send(
        self, method: str, url: str, *, step: str, filing: bool = False, **kwargs: Any
    ) -> requests.Response:
        try:
            # No redirects: an API that redirects is misconfigured, and a POST must not
            # silently turn into a GET elsewhere.
            self.throttle()
            return self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout as error:
            uncertain = filing and not isinstance(error, requests.ConnectTimeout)
            message = f"SBSYS svarede ikke inden for {self.timeout:g} sekunder ({step})."
            raise _temporary(message, uncertain=uncertain) from error
        except requests.ConnectionError as error:
            uncertain = filing and not _never_connected(error)
            raise _temporary(
                f"Ingen forbindelse til SBSYS ({step}).", uncertain=uncertain
            ) from error
        except requests.RequestException as error:
            raise _temporary(
                f"Fejl i kaldet til SBSYS ({step}): {type(error).__name__}.", uncertain=filing
            ) from error


def token_cache_key() -> str:
    """One shared token per SBSIP realm and service account; a changed account starts afresh."""
    account = "\n".join([settings.SBSIP_URL, settings.SBSYS_CLIENT_ID, settings.SBSYS_USERNAME])
    return "sbsys-token:" + hashlib.sha256(account.encode()).hexdigest()[:32]


def _cached_token() -> dict | None:
    try:
        shared = cache.get(token_cache_key())
    except Exception:  # a cache outage costs a token per job, never a filing
        logger.warning("Could not read the SBSYS token from the cache", exc_info=True)
        return None
    return shared if isinstance(shared, dict) else None


def forget_shared_token() -> None:
    """Drop the shared token for the configured account (a changed password, the tests)."""
    cache.delete(token_cache_key())


def _check(response: requests.Response, *, step: str, filing: bool = False) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        raise TemporaryFilingError(
            f"SBSYS beder os vente (HTTP 429, {step}).",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        # 503 means the request was turned away; any other 5xx on the filing may come
        # after SBSYS stored the document (a gateway timing out in front of it, say).
        uncertain = filing and status != 503
        raise _temporary(f"SBSYS svarede med en fejl (HTTP {status}, {step}).", uncertain=uncertain)
    # The body is not quoted: SBSYS error texts may echo the request, CPR included.
    raise ManualFilingError(f"SBSYS afviste kaldet (HTTP {status}, {step}).")


def _temporary(message: str, *, uncertain: bool) -> TemporaryFilingError:
    return TemporaryFilingError(message + (MAYBE_FILED if uncertain else ""), uncertain=uncertain)


@contextmanager
def _answer(step: str, *, filing: bool = False) -> Iterator[None]:
    """Turn an answer of an unexpected shape into a temporary error."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise _temporary(f"Uventet svar fra SBSYS ({step}).", uncertain=filing) from error


def _retry_after(value: str | None) -> datetime.timedelta | None:
    """Retry-After is either seconds or an HTTP date."""
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


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the request cannot have reached SBSYS (refused, no route, DNS)."""
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def _normalised(title: str) -> str:
    return " ".join(title.split()).casefold()
