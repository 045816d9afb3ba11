"""A fake Netcompany GetOrganized (GO) on loopback, for the GetOrganized adapter's tests.

A real HTTP server (pytest-httpserver, threaded), so the adapter talks HTTP exactly as in
production: it asks for Windows authentication and runs a real NTLM handshake (pyspnego's
NTLM acceptor, checking the password), holds personnel cases with their document library
per CPR number and records every upload and finalising. Like the real thing behind IIS it
limits the request rate (429 with Retry-After: 1), fails when told to, echoes the request
in its error bodies (CPR number included), and can stall an upload past the adapter's
timeout, before or after storing the document.

Netcompany publishes no API reference. Every request it accepts and every answer it gives
is shaped as two public production integrations of Aarhus Kommune send and read them (the
file is named at each shape below):
- MBU: AAK-MBU/MBU-getorganized-integration, src/mbu_getorganized_integration/ and tests/;
- ITK: itk-dev/getorganized-api-client-php, src/ and its mock's recorded answers in
  src/Mock/resources/_goapi/.
Fields neither of them reads are left out rather than guessed. Where neither shows GO's
error answer, the fake answers as IIS and ASP.NET do by default, said at each.
"""

import base64
import itertools
import json
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import spnego
from werkzeug import Request, Response

from .fake_sbsys import QuickServer

DOMAIN = "KOMMUNE"
USERNAME = f"{DOMAIN}\\svc-attestportal"
PASSWORD = "go-hemmelighed"
LIST_NAME = "Dokumenter"

# MBU endpoints.py modern_search; ITK Service/Documents.php AddToDocumentLibrary and Finalize.
SEARCH_PATH = "/_goapi/search/ExecuteModernSearch"
UPLOAD_PATH = "/_goapi/Documents/AddToDocumentLibrary"
FINALIZE_PATH = "/_goapi/Documents/Finalize/ByDocumentId"
# ITK Service/Documents.php getDocumentsByCaseId, on the case's own site.
LISTING_PATH = re.compile(
    r"^/(?P<site>cases/[^/]+/[^/]+)/_api/web/getFolderByServerRelativeUrl\('(?P<folder>[^']*(?:''[^']*)*)'\)/Files$"
)
# ITK Service/Documents.php AddToDocumentLibrary replaces these before it sends a name.
UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*]')


@dataclass
class Case:
    id: str  # "PER-2026-000123"
    site: str  # "PER55": MBU discovery.py, caseurl "cases/<AKT-prefix>/<CaseID>"
    cpr: str  # ten digits
    name: str
    is_open: bool = True
    parent: str | None = None  # a sub-case (one of a personnel case's folders)
    folders: set[str] = field(default_factory=lambda: {""})  # in its "Dokumenter" library

    @property
    def url(self) -> str:
        return f"cases/{self.site}/{self.id}"

    @property
    def prefix(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass
class Document:
    id: int
    case_id: str
    folder: str
    filename: str
    title: str
    metadata: dict[str, str]
    content: bytes
    finalized: bool = False
    versions: int = 1


@dataclass
class Failure:
    status: int
    path_prefix: str
    headers: dict[str, str]


class FakeGetOrganized:
    def __init__(self, *, stall_seconds: float) -> None:
        self.server = QuickServer(host="127.0.0.1", threaded=True)
        self.stall_seconds = stall_seconds
        self.rate_limit: float | None = None  # API requests per second
        self.auth = "ntlm"  # or "basic", as the municipality's IIS is set up
        self.cases: dict[str, Case] = {}
        self.documents: dict[int, Document] = {}
        self.searches: list[dict] = []
        self.api_requests: list[str] = []  # "METHOD /path" of authenticated calls, in order
        self.handshakes = 0  # NTLM legs answered 401 with a challenge
        self.failed_logins = 0
        self.rejected = 0  # 429 answers given
        self.empty_upload_answers = False  # AddToDocumentLibrary answers 200 with no body
        self._recent: deque[float] = deque()
        self._failures: list[Failure] = []
        self._stall_next_upload: str | None = None  # "before" or "after" storing it
        self._pending_ntlm: spnego.ContextProxy | None = None
        self._case_numbers = itertools.count(123)
        self._doc_ids = itertools.count(215820)  # ITK Mock/.../AddToDocumentLibrary.yaml
        self._lock = threading.Lock()
        self._released = threading.Event()

    # Set-up, as a test describes the municipality's GO

    def add_case(
        self,
        cpr: str,
        *,
        prefix: str = "PER",
        name: str = "Navn Navnesen",
        is_open: bool = True,
        folders: tuple[str, ...] = (),
    ) -> Case:
        case_id = f"{prefix}-2026-{next(self._case_numbers):06d}"
        case = Case(id=case_id, site=f"{prefix}55", cpr=cpr, name=name, is_open=is_open)
        case.folders |= set(folders)
        self.cases[case.id] = case
        return case

    def add_folder_case(self, parent: Case, title: str) -> Case:
        """A sub-case ("mappe") of a personnel case: MBU discovery.py list_subcases."""
        case = Case(
            id=f"{parent.id}-{len(self.cases) + 1:03d}",
            site=parent.site,
            cpr=parent.cpr,
            name=title,
            parent=parent.id,
        )
        self.cases[case.id] = case
        return case

    def in_case(self, case: Case) -> list[Document]:
        return [doc for doc in self.documents.values() if doc.case_id == case.id]

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path_prefix: str = "/",
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `count` API calls whose path starts with `path_prefix` answer `status`."""
        self._failures += [Failure(status, path_prefix, headers or {}) for _ in range(count)]

    def stall_next_upload(self) -> None:
        """The next upload hangs past the timeout before it stores the document."""
        self._stall_next_upload = "before"

    def lose_next_answer(self) -> None:
        """The next upload stores the document, then hangs past the timeout."""
        self._stall_next_upload = "after"

    # Running

    def start(self) -> None:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self.server.start()

    def stop(self) -> None:
        self._released.set()
        self.server.stop()
        self.server.check_handler_errors()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def _handle(self, request: Request) -> Response:
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        with self._lock:
            self.api_requests.append(f"{request.method} {request.path}")
            # Neither Aarhus client handles a 429 apart from other failures (MBU _http.py
            # raise_for_status, ITK Symfony's HttpClient): HTTP's form (RFC 6585).
            if self._over_rate_limit():
                self.rejected += 1
                return _json({"Message": "Too Many Requests"}, 429, {"Retry-After": "1"})
            failure = self._take_failure(request.path)
        if failure:
            # ASP.NET Web API's default error body; it quotes the request.
            return _json(
                {"Message": "An error has occurred.", "ExceptionMessage": _text(request)},
                failure.status,
                failure.headers,
            )
        if request.method == "POST" and request.path == SEARCH_PATH:
            return self._search(request)
        if request.method == "GET" and (match := LISTING_PATH.match(request.path)):
            return self._listing(match["site"], match["folder"].replace("''", "'"))
        if request.method == "POST" and request.path == UPLOAD_PATH:
            return self._upload(request)
        if request.method == "POST" and request.path == FINALIZE_PATH:
            return self._finalize(request)
        return _json({"Message": f"No HTTP resource was found ({request.path})."}, 404)

    # IIS Windows authentication

    def _authenticate(self, request: Request) -> Response | None:
        """None when the request carries valid credentials, else IIS's 401."""
        # MBU _http.py session and ITK Client.php createHttpClient both sign in with NTLM.
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if self.auth == "basic":
            expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            if scheme == "Basic" and value == expected:
                return None
            if scheme == "Basic":
                self.failed_logins += 1
            return _unauthorised('Basic realm="go"')
        if scheme != "NTLM" or not value:
            return _unauthorised("NTLM")
        token = base64.b64decode(value)
        kind = struct.unpack("<I", token[8:12])[0] if len(token) >= 12 else 0
        with self._lock:
            if kind == 1:  # NEGOTIATE: a new handshake
                context = self._pending_ntlm = spnego.server(protocol="ntlm")
            else:  # AUTHENTICATE, answering the challenge we sent
                context, self._pending_ntlm = self._pending_ntlm, None
            try:
                if context is None:
                    raise spnego.exceptions.SpnegoError("no handshake")
                out = context.step(token)
            except spnego.exceptions.SpnegoError:
                self.failed_logins += 1
                return _unauthorised("NTLM")
            if not context.complete:
                self.handshakes += 1
                return _unauthorised("NTLM " + base64.b64encode(out or b"").decode())
        return None

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

    # The API

    def _search(self, request: Request) -> Response:
        # The body of MBU discovery.py case_lookup_by_cpr: the phrase, open cases only, the
        # case type prefixes, and the filter that leaves out sub-cases.
        query = request.get_json(silent=True) or {}
        with self._lock:
            self.searches.append(query)
        phrase = str(query.get("QueryPhrase") or "")
        prefixes = query.get("CaseTypePrefixes") or []
        if query.get("QueryType") != "Cases" or not isinstance(prefixes, list) or not phrase:
            return _invalid(request)
        top_level_only = "-ccmparentcase" in str(query.get("ResultTypeQueryFilter") or "")
        found = [
            case
            for case in self.cases.values()
            # A free-text search: the phrase is found in the person's contact data (CPR
            # number without a dash), whatever form the phrase has.
            if phrase in (case.cpr, f"{case.cpr[:6]}-{case.cpr[6:]}")
            and case.prefix in prefixes
            and (case.is_open or not query.get("TrimToOpenedCases"))
            and not (top_level_only and case.parent)
        ]
        # `results.Results`, each with `title` (the person's name and dashed CPR number)
        # and `caseurl`: MBU discovery.py case_lookup_by_cpr and tests/test_discovery.py.
        return _json(
            {
                "results": {
                    "Results": [
                        {
                            "title": f"{case.name} {case.cpr[:6]}-{case.cpr[6:]}"
                            if not case.parent
                            else case.name,
                            "caseurl": case.url,
                        }
                        for case in found
                    ]
                }
            }
        )

    def _listing(self, site: str, folder: str) -> Response:
        case = next((c for c in self.cases.values() if c.url == site), None)
        prefix = f"/{site}/{LIST_NAME}"
        relative = folder.rstrip("/")
        sub = relative[len(prefix) :].strip("/") if relative.startswith(prefix) else None
        if case is None or sub is None or sub not in case.folders:
            # SharePoint's REST error for a folder that is not there (MBU discovery.py meets
            # its FileNotFoundException for a wrong list).
            return _json(
                {
                    "odata.error": {
                        "code": "-2147024894, System.IO.FileNotFoundException",
                        "message": {"lang": "da-DK", "value": "File Not Found."},
                    }
                },
                404,
            )
        # `{"value": [{"ListItemAllFields": {...}}]}`: ITK Documents.php
        # getDocumentsByCaseId; the fields are the document's GO metadata without `ows_`
        # (ITK Mock/.../Documents/Metadata.yaml: ows_Title, ows_DocID, ows_Finalized, ows_CaseID).
        return _json(
            {
                "value": [
                    {
                        "ListItemAllFields": {
                            "Title": doc.title,
                            "DocID": doc.id,
                            "Finalized": "1" if doc.finalized else "0",
                            "CaseID": doc.case_id,
                        }
                    }
                    for doc in self.documents.values()
                    if doc.case_id == case.id and doc.folder == sub
                ]
            }
        )

    def _upload(self, request: Request) -> Response:
        # ITK Documents.php AddToDocumentLibrary: bytes as a list of byte values, CaseId,
        # ListName, FolderPath, FileName, Metadata (a <z:row>, Service.php buildMetadata)
        # and Overwrite.
        body = request.get_json(silent=True)
        try:
            content = bytes(body["bytes"])
            case = self.cases.get(body["CaseId"])
            metadata = _row(body["Metadata"])
            filename = body["FileName"]
            valid = (
                case is not None
                and body["ListName"] == LIST_NAME
                and body["FolderPath"] in case.folders
                and isinstance(filename, str)
                and filename
                and not UNSAFE_FILENAME.search(filename)
                and isinstance(body["Overwrite"], bool)
            )
        except (KeyError, TypeError, ValueError, ET.ParseError):
            valid = False
        if not valid:
            return _invalid(request)
        assert case is not None
        existing = next(
            (
                doc
                for doc in self.documents.values()
                if doc.case_id == case.id
                and doc.folder == body["FolderPath"]
                and doc.filename == filename
            ),
            None,
        )
        if existing and (existing.finalized or not body["Overwrite"]):
            # SharePoint refuses to replace a locked (journalised) file or to overwrite
            # without leave; ASP.NET's default error body.
            return _json(
                {
                    "Message": "An error has occurred.",
                    "ExceptionMessage": f"The file {filename} already exists.",
                },
                500,
            )
        stall, self._stall_next_upload = self._stall_next_upload, None
        if stall == "before":
            self._released.wait(self.stall_seconds)
        with self._lock:
            if existing:
                existing.content, existing.metadata = content, metadata
                existing.versions += 1
                document = existing
            else:
                document = Document(
                    id=next(self._doc_ids),
                    case_id=case.id,
                    folder=body["FolderPath"],
                    filename=filename,
                    # GO takes the title from the metadata, else from the file name (ITK
                    # Mock/.../Documents/Metadata.yaml: ows_Title="pipfugl" for pipfugl.png).
                    title=metadata.get("ows_Title") or filename.rsplit(".", 1)[0],
                    metadata=metadata,
                    content=content,
                )
                self.documents[document.id] = document
        if stall == "after":
            self._released.wait(self.stall_seconds)
        if self.empty_upload_answers:
            return Response(status=200)
        # `{"DocId": 215820}`: ITK Mock/.../Documents/AddToDocumentLibrary.yaml.
        return _json({"DocId": document.id})

    def _finalize(self, request: Request) -> Response:
        # ITK Documents.php Finalize: {"DocID": ..., "ShouldCloseOpenTasks": false}.
        body = request.get_json(silent=True) or {}
        document = self.documents.get(body.get("DocID"))
        if document is None or not isinstance(body.get("ShouldCloseOpenTasks"), bool):
            return _invalid(request)
        if document.finalized:
            return _json(
                {"Message": "An error has occurred.", "ExceptionMessage": "Already finalized."},
                500,
            )
        document.finalized = True
        # ITK Service.php getData takes an empty answer as success.
        return Response(status=200)


def _row(xml: str) -> dict[str, str]:
    """A `<z:row xmlns:z="#RowsetSchema" ows_...="..."/>` as its attributes."""
    element = ET.fromstring(xml)
    if element.tag != "{#RowsetSchema}row":
        raise ValueError("not a z:row")
    return dict(element.attrib)


def _unauthorised(challenge: str) -> Response:
    # IIS's own 401 page is HTML; the body is never read.
    return Response(
        "<html><body>401 - Unauthorized</body></html>",
        status=401,
        headers={"WWW-Authenticate": challenge},
        content_type="text/html",
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
def fake_getorganized(settings, tmp_path, monkeypatch) -> Iterator[FakeGetOrganized]:
    """A running fake GetOrganized, with the portal's settings pointing at it."""
    # pyspnego's NTLM acceptor checks passwords against this file (DOMAIN:USER:PASSWORD).
    users = tmp_path / "ntlm-users"
    users.write_text(f"{USERNAME.replace(chr(92), ':')}:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    settings.GETORGANIZED_TIMEOUT = 1.0
    fake = FakeGetOrganized(stall_seconds=settings.GETORGANIZED_TIMEOUT * 5)
    fake.start()
    settings.ESDH_BACKEND = "getorganized"
    settings.ESDH_RATE_LIMIT = 1000
    settings.GETORGANIZED_URL = fake.url
    settings.GETORGANIZED_USERNAME = USERNAME
    settings.GETORGANIZED_PASSWORD = PASSWORD
    settings.GETORGANIZED_AUTH = "ntlm"
    settings.GETORGANIZED_CASE_TYPE_PREFIX = "PER"
    settings.GETORGANIZED_FOLDER_PATH = ""
    settings.GETORGANIZED_FINALIZE = True
    try:
        yield fake
    finally:
        fake.stop()
