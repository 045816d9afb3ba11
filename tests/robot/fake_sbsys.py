"""A fake SBSYS and its SBSIP Keycloak on loopback, for the SBSYS adapter's tests.

Two real HTTP servers (pytest-httpserver, threaded), so the adapter talks HTTP exactly as
in production: the token endpoint checks the credentials, the API checks the Bearer token,
holds cases and their sub-folders per CPR number and records every filing. Like the real
thing it limits the request rate (429 with Retry-After: 1), fails when told to, echoes the
request in its error bodies (CPR included), and can stall a filing past the adapter's
timeout, before or after storing the document.

SBSYS publishes no API reference. Every request it accepts and every answer it gives is
shaped as two public production integrations of Randers Kommune send and read them (the
file is named at each shape below):
- RJA: Randers-Kommune-Digitalisering/bestil-journaliser-attester, node-red/flows_js/;
- EKS: Randers-Kommune-Digitalisering/sbsys-ekstern, src/.
Fields neither of them reads are left out rather than guessed.

The fixture `fake_sbsys` is made available to every robot test by tests/robot/conftest.py.
"""

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from robot.esdh import sbsys

TOKEN_PATH = "/auth/realms/sbsip/protocol/openid-connect/token"
CLIENT_ID = "attestportal"
CLIENT_SECRET = "klient-hemmelighed"
USERNAME = "svc-attestportal"
PASSWORD = "bruger-hemmelighed"
FOLDER_TITLE = "08 Straffeattester"

# Case types by name and id: PersonaleSag is Id 5 (EKS src/app.py fetch_sag searches
# {"Id": 5} for personnel cases); the other is test data.
CASE_TYPES = {"PersonaleSag": 5, "BorgerSag": 2}
# SagsStatus: "Aktiv" is Id 6 (EKS src/sbsys_operations.py: "SagsStatus Id == 6"); the
# other is test data.
CASE_STATUSES = {"Aktiv": 6, "Afsluttet": 8}
# Personnel case numbers start with the KLE number 81.03.00 and facet G01 (EKS
# src/sbsys_operations.py fetch_active_personalesager); the other is a social case's.
CASE_NUMBER_PREFIXES = {"PersonaleSag": "81.03.00-G01", "BorgerSag": "27.24.00-G01"}

DASHED_CPR = re.compile(r"^\d{6}-\d{4}$")
# RJA change.f7b68cf2929715a0; EKS src/utils.py get_sag_delforloeb.
FOLDERS_PATH = re.compile(r"^/api/sag/(\d+)/delforloeb$")
# With a sub-folder's ID, or without one to file on the case itself: RJA
# change.865424cbe3ef7eb0 (`'/api/dokument/journaliser' & ('/' & delforloebId)`).
FILING_PATH = re.compile(r"^/api/dokument/journaliser(?:/(\d+))?$")


class QuickServer(HTTPServer):
    """Stops in a few milliseconds rather than werkzeug's half-second poll."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)


@dataclass
class Case:
    id: int
    cpr: str  # ten digits
    status: str  # "Aktiv", "Afsluttet", ...
    kind: str  # "PersonaleSag", "BorgerSag", ...
    number: str  # "81.03.00-G01-1001-25"
    folders: dict[int, str] = field(default_factory=dict)  # delforløb id -> title


@dataclass(frozen=True)
class Filing:
    case_id: int
    folder_id: int | None  # None: filed on the case itself
    metadata: dict
    filename: str
    content_type: str
    content: bytes
    document_id: int


@dataclass
class Failure:
    status: int
    path_prefix: str
    headers: dict[str, str]


class FakeSbsys:
    def __init__(self, *, stall_seconds: float) -> None:
        self.sbsip = QuickServer(host="127.0.0.1", threaded=True)
        self.sbsys = QuickServer(host="127.0.0.1", threaded=True)
        self.stall_seconds = stall_seconds
        self.token_lifetime = 300  # seconds, as Keycloak's expires_in
        self.rate_limit: float | None = None  # SBSYS API requests per second
        self.cases: dict[int, Case] = {}
        self.filings: list[Filing] = []
        self.token_requests = 0
        self.issued_tokens: list[str] = []
        self.reject_every_token = False  # SBSYS answers 401 even to a brand-new token
        self.rejected = 0  # 429 answers given
        self.api_requests: list[str] = []  # "METHOD /path", in order
        self.searches: list[dict] = []  # the search bodies, in order
        self.empty_filing_answers = False  # journaliser answers 200 with no body at all
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._recent: deque[float] = deque()
        self._failures: list[Failure] = []
        self._stall_next_filing: str | None = None  # "before" or "after" storing it
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self._released = threading.Event()

    # Set-up, as a test describes the municipality's SBSYS

    def add_case(
        self,
        cpr: str,
        *,
        status: str = "Aktiv",
        kind: str = "PersonaleSag",
        folders: tuple[str, ...] = ("01 Ansættelse", FOLDER_TITLE),
        number: str | None = None,
    ) -> Case:
        case_id = next(self._ids)
        case = Case(
            id=case_id,
            cpr=cpr,
            status=status,
            kind=kind,
            number=number or f"{CASE_NUMBER_PREFIXES[kind]}-{case_id}-25",
        )
        case.folders = {next(self._ids): title for title in folders}
        self.cases[case.id] = case
        return case

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path_prefix: str = "/api/",
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `count` API calls whose path starts with `path_prefix` answer `status`."""
        self._failures += [Failure(status, path_prefix, headers or {}) for _ in range(count)]

    def stall_next_filing(self) -> None:
        """The next journaliser call hangs past the timeout before it stores the document
        (a slow SBSYS still files it, late)."""
        self._stall_next_filing = "before"

    def lose_next_answer(self) -> None:
        """The next journaliser call stores the document, then hangs past the timeout."""
        self._stall_next_filing = "after"

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (revoked, or Keycloak restarted)."""
        with self._lock:
            self._tokens.clear()

    # Running

    def start(self) -> None:
        self.sbsip.expect_request(re.compile(".*")).respond_with_handler(self._sbsip)
        self.sbsys.expect_request(re.compile(".*")).respond_with_handler(self._sbsys)
        self.sbsip.start()
        self.sbsys.start()

    def stop(self) -> None:
        self._released.set()  # wake stalled handlers so their threads end
        self.sbsip.stop()
        self.sbsys.stop()
        self.sbsip.check_handler_errors()
        self.sbsys.check_handler_errors()

    @property
    def sbsip_url(self) -> str:
        return f"http://127.0.0.1:{self.sbsip.port}"

    @property
    def sbsys_url(self) -> str:
        return f"http://127.0.0.1:{self.sbsys.port}"

    # SBSIP (Keycloak)

    def _sbsip(self, request: Request) -> Response:
        # A password grant, form-encoded; the answer's access_token and expires_in are what
        # RJA change.a43a2098379a4b0d and EKS src/utils.py APIClient.authenticate read.
        if request.method != "POST" or request.path != TOKEN_PATH:
            return _json({"error": "Unable to find matching target resource method"}, 404)
        with self._lock:
            self.token_requests += 1
        form = request.form
        if form.get("grant_type") != "password":
            return _json({"error": "unsupported_grant_type"}, 400)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return _json(
                {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
                401,
            )
        if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
            return _json(
                {"error": "invalid_grant", "error_description": "Invalid user credentials"}, 401
            )
        token = f"token-{next(self._ids)}"
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self.issued_tokens.append(token)
        return _json(
            {
                "access_token": token,
                "expires_in": self.token_lifetime,
                "refresh_expires_in": 1800,
                "token_type": "Bearer",
                "scope": "profile",
            }
        )

    # SBSYS

    def _sbsys(self, request: Request) -> Response:
        with self._lock:
            self.api_requests.append(f"{request.method} {request.path}")
            # Neither public integration handles a 429 apart from any other failure (RJA
            # switches on statusCode != 200, EKS calls raise_for_status): its form here is
            # HTTP's (RFC 6585, Retry-After in seconds or as a date).
            if self._over_rate_limit():
                self.rejected += 1
                return _json({"Message": "For mange forespørgsler"}, 429, {"Retry-After": "1"})
            failure = self._take_failure(request.path)
        if failure:
            return _json(
                {"Message": "Der opstod en fejl", "Request": _text(request)},
                failure.status,
                failure.headers,
            )
        # A token lives expires_in seconds; after that, or once revoked, SBSYS refuses it
        # (RJA switch.4f1b701b8a5d08b4 fetches a new one when expires_at has passed).
        if not self._authorised(request):
            return _json(
                {"Message": "Authorization has been denied for this request."},
                401,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if request.method == "POST" and request.path == "/api/sag/search":
            return self._search(request)
        if request.method == "GET" and (match := FOLDERS_PATH.match(request.path)):
            return self._folders(int(match[1]))
        if request.method == "POST" and (match := FILING_PATH.match(request.path)):
            return self._journalise(request, int(match[1]) if match[1] else None)
        return _json({"Message": "No HTTP resource was found"}, 404)

    def _over_rate_limit(self) -> bool:
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            return True
        self._recent.append(now)
        return False

    def _take_failure(self, path: str) -> Failure | None:
        for failure in self._failures:
            if path.startswith(failure.path_prefix):
                self._failures.remove(failure)
                return failure
        return None

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expiry = self._tokens.get(token)
        if self.reject_every_token:
            return False
        return scheme == "Bearer" and expiry is not None and time.monotonic() < expiry

    def _search(self, request: Request) -> Response:
        # The body as RJA change.ad3c0a4bdf6840b1 and EKS src/sbsys_operations.py send it:
        # a dashed CPR number, and the case types by Navn or by Id, or none at all.
        query = request.get_json(silent=True) or {}
        with self._lock:
            self.searches.append(query)
        cpr = (query.get("PrimaerPerson") or {}).get("CprNummer") or ""
        types = query.get("SagsTyper") or []
        if not isinstance(types, list) or not all(isinstance(t, dict) for t in types):
            return _invalid(request)
        # Both integrations put the dash in before they search (RJA change.5dd8dcc0c8987f55,
        # EKS find_newest_personalesag): a CPR number without it finds nothing.
        found = [
            case
            for case in self.cases.values()
            if DASHED_CPR.match(cpr)
            and case.cpr == cpr.replace("-", "")
            and (not types or any(_is_type(case.kind, t) for t in types))
        ]
        # An object whose cases are in `Results`: RJA change.b3f426af384a3164 and
        # debug.e73c2d2609958896 (`payload.Results`, each with Id, SagsTitel, SagsStatus.Navn),
        # EKS src/sbsys_operations.py (`response['Results']`, `Nummer`, `Oprettet`) and
        # src/app.py (`Ansaettelsessted.Navn`).
        return _json(
            {
                "Results": [
                    {
                        "Id": case.id,
                        "Nummer": case.number,
                        # A title may name the person by CPR number; it is put there so the
                        # tests show that the adapter never copies a title anywhere.
                        "SagsTitel": f"{cpr} Personalesag",
                        "SagsStatus": {"Id": CASE_STATUSES[case.status], "Navn": case.status},
                        "Oprettet": f"2025-01-{1 + case.id % 28:02d}T09:00:00",
                        "Ansaettelsessted": {"Navn": "Nordskolen"},
                    }
                    for case in found
                ]
            }
        )

    def _folders(self, case_id: int) -> Response:
        case = self.cases.get(case_id)
        if case is None:
            return _json({"Message": f"Sag {case_id} findes ikke"}, 404)
        # A bare list whose items carry `ID` (upper case) and `Titel`: RJA
        # change.b432e808d08e9484 and change.701d73520c05ba6a, EKS src/app.py
        # journalise_document and src/sbsys_operations.py fetch_delforloeb_files.
        return _json(
            [{"ID": folder_id, "Titel": title} for folder_id, title in case.folders.items()]
        )

    def _journalise(self, request: Request, folder_id: int | None) -> Response:
        # Multipart with `json` and `file` (RJA function.f7bcbe671cbfeffd, EKS src/utils.py
        # journalise_file_personalesag). `json` holds SagID, DokumentNavn and
        # OmfattetAfAktindsigt; RJA change.f54aa68868e55cb2 files without DokumentArt, EKS
        # src/sbsys_operations.py journalise_file with {"Id": 1}: optional, but an Id if given.
        try:
            metadata = json.loads(request.form["json"])
            upload = request.files["file"]
            case = self.cases.get(metadata["SagID"])
            art = metadata.get("DokumentArt", {"Id": 1})
            valid = (
                case is not None
                and (folder_id is None or folder_id in case.folders)
                and isinstance(metadata["DokumentNavn"], str)
                and metadata["DokumentNavn"]
                and isinstance(metadata["OmfattetAfAktindsigt"], bool)
                and isinstance(art, dict)
                and isinstance(art.get("Id"), int)
                and upload.filename
            )
        except (KeyError, TypeError, ValueError):
            valid = False
        if not valid:
            return _invalid(request)
        assert case is not None
        stall, self._stall_next_filing = self._stall_next_filing, None
        if stall == "before":
            self._released.wait(self.stall_seconds)
        filing = Filing(
            case_id=case.id,
            folder_id=folder_id,
            metadata=metadata,
            filename=upload.filename,
            content_type=upload.mimetype,
            content=upload.read(),
            document_id=next(self._ids),
        )
        with self._lock:
            self.filings.append(filing)
        if stall == "after":
            self._released.wait(self.stall_seconds)
        if self.empty_filing_answers:
            return Response(status=200)
        # RJA switch.67adbbd5c7937db4 takes HTTP 200 as filed, and change.ee8a1a4bf02e7756
        # reads `SagsNummer` from the answer; no public integration reads a document id
        # from it, so none is given.
        return _json({"SagsNummer": case.number})


def _is_type(kind: str, selector: dict) -> bool:
    if "Id" in selector:
        return CASE_TYPES[kind] == selector["Id"]
    return kind == selector.get("Navn")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def _invalid(request: Request) -> Response:
    return _json({"Message": "The request is invalid.", "Request": _text(request)}, 400)


def _text(request: Request) -> str:
    return request.get_data(as_text=True)[:2000]


@pytest.fixture
def fake_sbsys(settings) -> Iterator[FakeSbsys]:
    """A running fake SBSYS, with the portal's settings pointing at it."""
    settings.SBSYS_TIMEOUT = 1.0
    fake = FakeSbsys(stall_seconds=settings.SBSYS_TIMEOUT * 5)
    fake.start()
    settings.ESDH_BACKEND = "sbsys"
    # The tests drive the fake's own limit; the portal's shared limit is tested elsewhere.
    settings.ESDH_RATE_LIMIT = 1000
    settings.SBSYS_URL = fake.sbsys_url
    settings.SBSIP_URL = fake.sbsip_url
    settings.SBSYS_CLIENT_ID = CLIENT_ID
    settings.SBSYS_CLIENT_SECRET = CLIENT_SECRET
    settings.SBSYS_USERNAME = USERNAME
    settings.SBSYS_PASSWORD = PASSWORD
    settings.SBSYS_CASE_TYPE = "PersonaleSag"
    settings.SBSYS_CASE_NUMBER_PREFIX = ""
    settings.SBSYS_FOLDER_TITLE = FOLDER_TITLE
    settings.SBSYS_DOCUMENT_ART_ID = 1
    # The token is shared through the cache, across tests too: each starts without one.
    sbsys.forget_shared_token()
    try:
        yield fake
    finally:
        fake.stop()
        sbsys.forget_shared_token()
