"""A fake SBSYS and its SBSIP Keycloak on loopback, for the SBSYS adapter's tests.

Two real HTTP servers (pytest-httpserver, threaded), so the adapter talks HTTP exactly as
in production: the token endpoint checks the credentials, the API checks the Bearer token,
holds personnel cases and their sub-folders per CPR number and records every filing. Like
the real thing it limits the request rate (429 with Retry-After: 1), fails when told to,
echoes the request in its error bodies (CPR included), and can stall a filing past the
adapter's timeout, before or after storing the document.

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

DASHED_CPR = re.compile(r"^\d{6}-\d{4}$")
FOLDERS_PATH = re.compile(r"^/api/sag/(\d+)/delforloeb$")
FILING_PATH = re.compile(r"^/api/dokument/journaliser/(\d+)$")


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
    folders: dict[int, str] = field(default_factory=dict)  # delforløb id -> title


@dataclass(frozen=True)
class Filing:
    case_id: int
    folder_id: int
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
    ) -> Case:
        case = Case(id=next(self._ids), cpr=cpr, status=status, kind=kind)
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
            return self._journalise(request, int(match[1]))
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
        query = request.get_json(silent=True) or {}
        cpr = (query.get("PrimaerPerson") or {}).get("CprNummer") or ""
        if not DASHED_CPR.match(cpr):
            return _invalid(request)
        kinds = {kind.get("Navn") for kind in query.get("SagsTyper") or []}
        found = [
            case
            for case in self.cases.values()
            if case.cpr == cpr.replace("-", "") and (not kinds or case.kind in kinds)
        ]
        return _json(
            [
                {
                    "Id": case.id,
                    "Nummer": f"81.00.00-A00-{case.id}-25",
                    "Titel": f"Personalesag {cpr[:6]}",  # like the real thing: a CPR in the answer
                    "SagsType": {"Navn": case.kind},
                    "SagsStatus": {"Id": 1 if case.status == "Aktiv" else 7, "Navn": case.status},
                }
                for case in found
            ]
        )

    def _folders(self, case_id: int) -> Response:
        case = self.cases.get(case_id)
        if case is None:
            return _json({"Message": f"Sag {case_id} findes ikke"}, 404)
        return _json(
            [
                {"Id": folder_id, "Titel": title, "SagID": case_id}
                for folder_id, title in case.folders.items()
            ]
        )

    def _journalise(self, request: Request, folder_id: int) -> Response:
        case = next((case for case in self.cases.values() if folder_id in case.folders), None)
        if case is None:
            return _json({"Message": f"Delforløb {folder_id} findes ikke"}, 404)
        try:
            metadata = json.loads(request.form["json"])
            upload = request.files["file"]
            valid = (
                metadata["SagID"] == case.id
                and metadata["DokumentNavn"]
                and isinstance(metadata["OmfattetAfAktindsigt"], bool)
                and metadata["DokumentArt"]["Id"]
                and upload.filename
            )
        except (KeyError, TypeError, ValueError):
            valid = False
        if not valid:
            return _invalid(request)
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
        return _json(
            {
                "Id": filing.document_id,
                "Navn": metadata["DokumentNavn"],
                "SagID": case.id,
                "DelforloebID": folder_id,
            }
        )


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
    settings.SBSYS_FOLDER_TITLE = FOLDER_TITLE
    # The token is shared through the cache, across tests too: each starts without one.
    sbsys.forget_shared_token()
    try:
        yield fake
    finally:
        fake.stop()
        sbsys.forget_shared_token()
