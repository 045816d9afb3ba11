"""Filing in SBSYS through its REST API (DESIGN.md §4).

A filing takes three calls: a search for the person's active personnel case, the case's
sub-folders, and the journaliser POST. Only the last one changes anything in SBSYS, so
only a failure there can leave us unsure whether the document was filed
(`uncertain=True`). The access token from the SBSIP Keycloak is shared by every job and
every process through Django's cache (Redis in production) and renewed shortly before
it expires, or once when SBSYS rejects it early.

SBSYS publishes no API reference, so every request and answer shape here is the one read
by two public production integrations of Randers Kommune, which files certificates in
SBSYS every day (the file names below are where each shape is read):
- RJA: Randers-Kommune-Digitalisering/bestil-journaliser-attester, its Node-RED flow
  "Journaliser" in node-red/flows_js/ (one file per node);
- EKS: Randers-Kommune-Digitalisering/sbsys-ekstern, its Python client in src/.

The CPR number travels only in the search body: it is never put in a log line or an
error message, and answers from SBSYS (case titles, error bodies: both may carry it) are
never copied. Nor is the access token ever logged.
"""

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from portal.cpr import InvalidCpr, format_cpr, mask_cpr, normalise_cpr

from . import (
    CaseSystem,
    FilingRequest,
    ManualFilingError,
    TemporaryFilingError,
    parse_retry_after,
    request_failure,
    temporary,
)

logger = logging.getLogger(__name__)

# RJA change.26fb135c4c7f1336 (the request) and change.a43a2098379a4b0d (reads
# access_token and expires_in); EKS src/utils.py APIClient.authenticate.
TOKEN_PATH = "/auth/realms/sbsip/protocol/openid-connect/token"
# A token is renewed this long before it expires, so it cannot lapse in the middle of a filing.
TOKEN_MARGIN_SECONDS = 30.0
# RJA change.b3f426af384a3164 (`payload.Results[SagsStatus.Navn = "Aktiv"]`); EKS
# src/sbsys_operations.py (`case['SagsStatus']['Navn'] == 'Aktiv'`).
ACTIVE = "Aktiv"
# The longest reference FilingJob.esdh_reference holds.
REFERENCE_LENGTH = 100

# Step names go into error messages that payroll reads.
LOGIN = pgettext_lazy("SBSYS step", "logging in to SBSIP")
SEARCH = pgettext_lazy("SBSYS step", "search for the personnel case")
FOLDERS = pgettext_lazy("SBSYS step", "looking up sub-folders")
FILING = pgettext_lazy("SBSYS step", "filing")


@dataclass(frozen=True)
class PersonnelCase:
    id: Any  # SBSYS's `Id`, sent back as it came
    number: str  # SBSYS's `Nummer`, e.g. "81.03.00-G01-12-25"


class SbsysCaseSystem(CaseSystem):
    """Files into the configured sub-folder of the person's one active personnel case."""

    def __init__(self, *, throttle=None) -> None:
        super().__init__(throttle=throttle)
        self.sbsys_url = settings.SBSYS_URL.rstrip("/")
        self.sbsip_url = settings.SBSIP_URL.rstrip("/")
        self.case_type = settings.SBSYS_CASE_TYPE.strip()
        self.number_prefix = settings.SBSYS_CASE_NUMBER_PREFIX.strip()
        self.folder_title = settings.SBSYS_FOLDER_TITLE
        self.document_art_id = settings.SBSYS_DOCUMENT_ART_ID
        self.timeout = settings.SBSYS_TIMEOUT
        self.session = requests.Session()
        self._token: str | None = None
        self._token_renew_at = 0.0  # wall-clock seconds, comparable across processes

    def file(self, request: FilingRequest) -> str:
        self._check_setup()
        case = self._active_personnel_case(request.cpr)
        folder_id = self._folder(case.id)
        reference = self._journalise(request, case=case, folder_id=folder_id)
        logger.info("Filed %s in SBSYS as %s", request.reference, reference)
        return reference

    def _check_setup(self) -> None:
        if not (self.sbsys_url and self.sbsip_url):
            raise ManualFilingError(_("SBSYS is not set up (SBSYS_URL and SBSIP_URL are missing)."))
        if not (self.case_type or self.number_prefix):
            # Without either, "exactly one active case" would take any case of the person's
            # (a social or a school case) for the personnel case.
            raise ManualFilingError(
                _(
                    "SBSYS is not set up: neither SBSYS_CASE_TYPE nor SBSYS_CASE_NUMBER_PREFIX "
                    "says which cases are personnel cases."
                )
            )

    def find(self, request: FilingRequest) -> str | None:
        """Always None: the SBSYS API as its public users know it has no lookup of
        documents by our reference.

        After an uncertain failure a person can search the case for the reference, which
        is part of every document name ("Børneattest 27.11.2026 [AP-00000042]").
        """
        return None

    def check_connection(self, test_cpr: str) -> str:
        self._check_setup()
        self._access_token()  # a login failure is told apart from a search failure
        case = self._active_personnel_case(test_cpr)
        self._folder(case.id)
        return _(
            "Signed in to SBSYS. The test person %(person)s has one active personnel case, "
            "%(case)s, with the sub-folder “%(folder)s”. Nothing was filed."
        ) % {
            "person": mask_cpr(normalise_cpr(test_cpr)),
            "case": case.number or case.id,
            "folder": self.folder_title,
        }

    # The three steps

    def _active_personnel_case(self, cpr: str) -> PersonnelCase:
        try:
            dashed = format_cpr(normalise_cpr(cpr))
        except InvalidCpr:
            raise ManualFilingError(_("The CPR number is not valid.")) from None
        # The body: RJA change.ad3c0a4bdf6840b1 selects the type by name
        # ({"Navn": "PersonaleSag"}); EKS src/sbsys_operations.py find_newest_personalesag by
        # id ({"Id": 5}, src/app.py fetch_sag), and fetch_active_personalesager sends no type
        # at all and keeps the cases whose Nummer starts with "81.03.00-G01".
        body: dict[str, Any] = {"PrimaerPerson": {"CprNummer": dashed}}
        if self.case_type:
            body["SagsTyper"] = [_case_type(self.case_type)]
        answer = _json(self._call("POST", "/api/sag/search", step=SEARCH, json=body), SEARCH)
        with _answer(SEARCH):
            # An object whose cases are in `Results`, never a bare list: RJA
            # change.b3f426af384a3164 (`payload.Results[...]`), EKS src/sbsys_operations.py
            # (`response['Results']`, `response.get('Results')`, the latter taking a null
            # for no cases). A case's `Id`: RJA change.b8d26dd87dd4156e (`payload.Id`), EKS
            # src/app.py (`sag['Id']`); its `Nummer`: EKS fetch_active_personalesager.
            if not isinstance(answer, dict) or not isinstance(answer["Results"] or [], list):
                raise TypeError("not an object with a list of Results")
            active = [
                PersonnelCase(id=case["Id"], number=case.get("Nummer") or "")
                for case in answer["Results"] or []
                if (case.get("SagsStatus") or {}).get("Navn") == ACTIVE
                and (case.get("Nummer") or "").startswith(self.number_prefix)
            ]
        # 0 or several: RJA switch.e9fb405205fa3be3 (`count = 0 or count > 1`) sends the
        # certificate to a person. (EKS find_newest_personalesag would take the newest by
        # `Oprettet`, but a new hire with two open personnel cases is exactly the case a
        # person must look at.)
        if not active:
            raise ManualFilingError(_("No active personnel case found in SBSYS."))
        if len(active) > 1:
            raise ManualFilingError(
                _(
                    "Several active personnel cases found in SBSYS (%(count)s); "
                    "choose the right one."
                )
                % {"count": len(active)}
            )
        return active[0]

    def _folder(self, case_id: Any) -> Any:
        # RJA change.f7b68cf2929715a0; EKS src/utils.py SBSYSClient.get_sag_delforloeb.
        path = f"/api/sag/{case_id}/delforloeb"
        folders = _json(self._call("GET", path, step=FOLDERS), FOLDERS)
        wanted = _normalised(self.folder_title)
        with _answer(FOLDERS):
            # A bare list whose items carry `ID` (upper case, unlike a case's `Id`) and
            # `Titel`: RJA change.b432e808d08e9484 (`payload[Titel = "08 Straffeattester"]`)
            # and change.701d73520c05ba6a (`payload.ID`); EKS src/app.py journalise_document
            # (`["ID"]`) and src/sbsys_operations.py fetch_delforloeb_files
            # (`item["ID"]`, `item.get("Titel")`). Both spell it `ID`, so nothing else is
            # taken: a matching folder without it is an answer we do not understand.
            if not isinstance(folders, list):
                raise TypeError("not a list of sub-folders")
            matching = [
                folder["ID"]
                for folder in folders
                if _normalised(folder.get("Titel") or "") == wanted
            ]
        if not matching:
            raise ManualFilingError(
                _("The personnel case has no sub-folder titled “%(title)s”.")
                % {"title": self.folder_title}
            )
        # RJA switch.25352d7d7e445c40 treats two like none; which one is right is a person's
        # call, not ours.
        if len(matching) > 1:
            raise ManualFilingError(
                _(
                    "The personnel case has %(count)s sub-folders titled “%(title)s”; "
                    "choose the right one."
                )
                % {"count": len(matching), "title": self.folder_title}
            )
        return matching[0]

    def _journalise(self, request: FilingRequest, *, case: PersonnelCase, folder_id: Any) -> str:
        # The fields: RJA change.f54aa68868e55cb2 (SagID, DokumentNavn, Beskrivelse,
        # OmfattetAfAktindsigt; no DokumentArt) and EKS src/sbsys_operations.py
        # journalise_file (SagID, OmfattetAfAktindsigt, DokumentNavn, DokumentArt {"Id": 1},
        # "Indgående"). Multipart with the parts `json` and `file`: RJA
        # function.f7bcbe671cbfeffd, EKS src/utils.py journalise_file_personalesag.
        metadata: dict[str, Any] = {
            "SagID": case.id,
            "DokumentNavn": f"{request.document_name} [{request.reference}]",
            "OmfattetAfAktindsigt": True,
        }
        if self.document_art_id:
            metadata["DokumentArt"] = {"Id": self.document_art_id}
        parts = {
            "json": (None, json.dumps(metadata, ensure_ascii=False)),
            "file": (request.filename, request.content, "application/pdf"),
        }
        response = self._call(
            "POST", f"/api/dokument/journaliser/{folder_id}", step=FILING, filing=True, files=parts
        )
        return _filed_as(response, case=case, reference=request.reference)

    # HTTP

    def _call(
        self, method: str, path: str, *, step: str, filing: bool = False, **kwargs: Any
    ) -> requests.Response:
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
        return response

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
        except requests.RequestException as error:
            raise request_failure(
                error, system="SBSYS", step=step, timeout=self.timeout, filing=filing
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
            _("SBSYS asks us to wait (HTTP 429, %(step)s).") % {"step": step},
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        # 503 means the request was turned away; any other 5xx on the filing may come
        # after SBSYS stored the document (a gateway timing out in front of it, say).
        uncertain = filing and status != 503
        raise temporary(
            _("SBSYS answered with an error (HTTP %(status)s, %(step)s).")
            % {"status": status, "step": step},
            uncertain=uncertain,
        )
    # The body is not quoted: SBSYS error texts may echo the request, CPR included.
    raise ManualFilingError(
        _("SBSYS refused the call (HTTP %(status)s, %(step)s).") % {"status": status, "step": step}
    )


@contextmanager
def _answer(step: str, *, filing: bool = False) -> Iterator[None]:
    """Turn an answer of an unexpected shape into a temporary error."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise temporary(
            _("Unexpected answer from SBSYS (%(step)s).") % {"step": step}, uncertain=filing
        ) from error


def _json(response: requests.Response, step: str) -> Any:
    with _answer(step):
        return response.json()


def _case_type(value: str) -> dict[str, Any]:
    """SBSYS_CASE_TYPE as the search takes it: a number is the type's Id, else its Navn."""
    return {"Id": int(value)} if value.isdigit() else {"Navn": value}


def _filed_as(response: requests.Response, *, case: PersonnelCase, reference: str) -> str:
    """The reference we keep for a document SBSYS has taken (any 2xx answer).

    Neither public integration reads a document id from the journaliser answer: RJA
    switch.67adbbd5c7937db4 counts HTTP 200 as filed whatever the body says and
    change.ee8a1a4bf02e7756 then reads only `SagsNummer` from it; EKS src/app.py counts any
    JSON answer as filed and only logs it. So a 2xx without a document id means filed, and
    it is recorded as filed: calling it an error would send the job round again (a second
    copy in the case) or to a person for nothing. The reference we keep is the case number
    and our reference, which is in the document's name; a person finds the document by it.
    """
    try:
        answer = response.json()
    except ValueError:  # an empty or non-JSON body: the status said yes, and it decides
        answer = None
    number = answer.get("SagsNummer") if isinstance(answer, dict) else None
    if not isinstance(number, str) or not number.strip():
        number = case.number or str(case.id)
    return f"{number.strip()} / {reference}"[:REFERENCE_LENGTH]


def _normalised(title: str) -> str:
    return " ".join(title.split()).casefold()
