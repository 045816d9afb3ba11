"""A fake Formpipe Acadre PWS (AcadreServiceV7.asmx) on loopback, for the Acadre adapter.

A real HTTP server (pytest-httpserver, threaded) behind a real NTLM handshake (pyspnego's
acceptor, checking the password), as IIS's Windows authentication in front of Acadre's
SoapAuth endpoint asks for. Every request is parsed with lxml and validated against
Acadre's own schemas, the very files the adapter's zeep client is built from
(robot/esdh/acadre_wsdl/, copied from Syddjurs Kommune's integration,
dcrwork/SyddjursAcadreIntegration, "Web References/AcadreServiceV7/"); it is dispatched on
its SOAPAction as ASMX does, and every answer is built by zeep from the operation's output
message and validated against the same schemas before it is sent.

How the four operations behave is what Syddjurs's AcadreService.cs reads from them:
SearchCases matches the case title with a trailing `*` as a wildcard and the case type, and
answers cases of every status (GetChildCases, ChangeChildResponsible); GetCase answers the
case with `CaseFileStatusCode` "A" for closed, "B" in progress and its
`CaseFileNumberIdentifier` (SearchChildren, CreateCase); GetAllDocuments lists the case's
documents with `Document.DocumentTitleText` and `DocumentIdentifier`
(GetChildCaseDocuments). CreateMainDocument stores the PDF and answers the new
DocumentIdentifier, as its output message in the WSDL says.

Its errors are ASP.NET ASMX's: HTTP 500 with a soap:Server fault when the service throws
("Server was unable to process request. ---> ..."), a soap:Client fault when the request
cannot be read or its SOAPAction is unknown, both quoting the request (CPR number and all);
IIS's 401 for a failed sign-in; gateway pages for 502/503; 429 with Retry-After.
"""

import base64
import datetime
import fnmatch
import itertools
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import spnego
import zeep
from lxml import etree
from werkzeug import Request, Response

from .fake_sbsys import QuickServer

WSDL_DIR = Path(__file__).resolve().parents[2] / "robot" / "esdh" / "acadre_wsdl"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
BINDINGS = "{http://www.traen.com/2010/06/01/schema}"
HEADER = "{http://traen.com/Services/AcadreService}SoapHeader"
OPERATIONS = {
    "CaseService7": ("SearchCases", "GetCase"),
    "MainDocumentService7": ("GetAllDocuments", "CreateMainDocument"),
}

DOMAIN = "KOMMUNE"
USERNAME = f"{DOMAIN}\\svc-attestportal"
PASSWORD = "acadre-hemmelighed"
ACTING_USER = "ATTEST"


@dataclass
class Case:
    id: int
    cpr: str
    title: str  # Syddjurs CreateCase: the CPR number, or "<cpr> - <name> - <KLE title>"
    type_code: str  # "PERSAG", "BGSAG", ...
    status: str  # "B" in progress, "A" closed
    number: str  # "26/1234"


@dataclass
class Document:
    id: int
    case_id: int
    title: str
    filename: str
    content: bytes
    record: dict = field(default_factory=dict)
    registered: datetime.date = datetime.date(2026, 11, 27)


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    fault: str | None = None  # "Client" or "Server": a SOAP fault instead of a bare status
    operation: str = ""  # only a call of this operation; "": the next call of any


class FakeAcadre:
    def __init__(self, *, stall_seconds: float) -> None:
        self.server = QuickServer(host="127.0.0.1", threaded=True)
        self.stall_seconds = stall_seconds
        self.cases: dict[int, Case] = {}
        self.documents: dict[int, Document] = {}
        self.calls: list[str] = []  # operations answered after sign-in, in order
        self.searches: list[dict] = []
        self.acting_users: list[str] = []
        self.failed_logins = 0
        self._failures: list[Failure] = []
        self._stall_next_filing: str | None = None
        self._pending_ntlm: spnego.ContextProxy | None = None
        self._case_ids = itertools.count(4711)
        self._doc_ids = itertools.count(90001)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._schema = _schema()
        client = zeep.Client(str(WSDL_DIR / "AcadreServiceV70.wsdl"))
        self._operations = {}
        for port, names in OPERATIONS.items():
            binding = client.wsdl.bindings[BINDINGS + port]
            for name in names:
                operation = binding.get(name)
                self._operations[operation.soapaction] = operation

    # Set-up, as a test describes the municipality's Acadre

    def add_case(
        self, cpr: str, *, type_code: str = "PERSAG", status: str = "B", title: str = ""
    ) -> Case:
        case_id = next(self._case_ids)
        case = Case(
            id=case_id,
            cpr=cpr,
            title=title or f"{cpr} - Navn Navnesen - Personalesager",
            type_code=type_code,
            status=status,
            number=f"26/{case_id}",
        )
        self.cases[case.id] = case
        return case

    def in_case(self, case: Case) -> list[Document]:
        return [d for d in self.documents.values() if d.case_id == case.id]

    def fail_next(
        self, count: int = 1, *, status: int = 500, headers: dict[str, str] | None = None
    ) -> None:
        """The next `count` calls answer `status` (500: a soap:Server fault)."""
        fault = "Server" if status == 500 else None
        self._failures += [Failure(status, headers or {}, fault) for _ in range(count)]

    def fault_next(self, code: str, *, operation: str = "") -> None:
        """The next call (of `operation`) answers a SOAP fault with faultcode soap:<code>."""
        self._failures.append(Failure(500, {}, code, operation))

    def stall_next_filing(self) -> None:
        """The next CreateMainDocument hangs past the timeout before it stores anything."""
        self._stall_next_filing = "before"

    def lose_next_answer(self) -> None:
        """The next CreateMainDocument stores the document, then hangs past the timeout."""
        self._stall_next_filing = "after"

    # Running

    def start(self) -> None:
        self.server.expect_request(
            "/Acadre.CM.PublicServices/SoapAuth/AcadreServiceV7.asmx", method="POST"
        ).respond_with_handler(self._handle)
        self.server.start()

    def stop(self) -> None:
        self._released.set()
        self.server.stop()
        self.server.check_handler_errors()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/Acadre.CM.PublicServices/SoapAuth/AcadreServiceV7.asmx"

    def _handle(self, request: Request) -> Response:
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        text = request.get_data(as_text=True)
        action = request.headers.get("SOAPAction", "").strip('"')
        with self._lock:
            self.calls.append(action.rsplit("/", 1)[-1])
            failure = self._take_failure(self.calls[-1])
        if failure is not None:
            return _failure(failure, text)
        operation = self._operations.get(action)
        if operation is None:
            return _fault(
                "Client",
                f"System.Web.Services.Protocols.SoapException: Server did not recognize the "
                f"value of HTTP Header SOAPAction: {action}.",
            )
        try:
            envelope = etree.fromstring(request.get_data())
            body = envelope.find(f"{{{SOAP}}}Body")
            payload = body[0]
            if payload.tag != operation.input.body.qname.text:
                raise ValueError(f"expected {operation.input.body.qname.text}")
            self._schema.assertValid(payload)
        except (etree.LxmlError, ValueError, TypeError, IndexError) as error:
            return _fault(
                "Client",
                "Server was unable to read request. ---> There is an error in XML document. "
                f"---> {error} {text[:2000]}",
            )
        user = envelope.findtext(f"{{{SOAP}}}Header/{HEADER}/User")
        if not user:
            # Syddjurs PWSSoapHeader.cs refuses to send a call without the acting user.
            return _fault("Server", "Server was unable to process request. ---> No user.")
        self.acting_users.append(user)
        name = operation.name
        if name == "SearchCases":
            answer = self._search(payload)
        elif name == "GetCase":
            case = self.cases.get(int(payload.text))
            if case is None:
                return _fault(
                    "Server",
                    f"Server was unable to process request. ---> Sag {payload.text} findes ikke.",
                )
            answer = _case(case)
        elif name == "GetAllDocuments":
            answer = self._documents(int(payload.text))
        else:
            answer = self._create(payload)
            if isinstance(answer, Response):
                return answer
        return self._answer(operation, answer)

    def _answer(self, operation, answer) -> Response:
        if isinstance(answer, dict):
            message = operation.output.serialize(**answer)
        else:
            message = operation.output.serialize(answer)
        self._schema.assertValid(message.content.find(f"{{{SOAP}}}Body")[0])
        return Response(
            etree.tostring(message.content, xml_declaration=True, encoding="utf-8"),
            status=200,
            content_type="text/xml; charset=utf-8",
        )

    def _take_failure(self, operation: str) -> Failure | None:
        for failure in self._failures:
            if failure.operation in ("", operation):
                self._failures.remove(failure)
                return failure
        return None

    # The operations

    def _search(self, payload: etree._Element) -> dict:
        title = payload.findtext("{*}CaseFileTitleText") or "*"
        type_code = payload.findtext("{*}CaseFileTypeCode")
        self.searches.append({"title": title, "type": type_code})
        hits = [
            {
                "CaseFileReference": case.id,
                "CaseFileTitleText": case.title,
                "CaseFileTypeCode": case.type_code,
            }
            for case in self.cases.values()
            if fnmatch.fnmatchcase(case.title, title)
            and (not type_code or case.type_code == type_code)
        ]
        return {"CaseSearchResponse": hits}

    def _documents(self, case_id: int) -> dict:
        return {
            "DocumentOutput": [
                {
                    "Document": {
                        "DocumentIdentifier": document.id,
                        "DocumentTitleText": document.title,
                        "DocumentPaperStorageIndicator": False,
                    },
                    "Record": {
                        "CaseFileReference": case_id,
                        "RegistrationDate": document.registered,
                        "DocumentDateUnknownIndicator": False,
                        "DescriptionText": document.title,
                        "RecordPaperStorageIndicator": False,
                    },
                }
                for document in self.documents.values()
                if document.case_id == case_id
            ]
        }

    def _create(self, payload: etree._Element) -> int | Response:
        case_id = int(payload.findtext("{*}Record/{*}CaseFileReference") or 0)
        if case_id not in self.cases:
            return _fault(
                "Server", f"Server was unable to process request. ---> Sag {case_id} findes ikke."
            )
        stall, self._stall_next_filing = self._stall_next_filing, None
        if stall == "before":
            self._released.wait(self.stall_seconds)
        record = {child.tag.split("}")[1]: child.text for child in payload.find("{*}Record")}
        with self._lock:
            document = Document(
                id=next(self._doc_ids),
                case_id=case_id,
                title=payload.findtext("{*}Document/{*}DocumentTitleText") or "",
                filename=payload.findtext("{*}FileName") or "",
                content=base64.b64decode(payload.findtext("{*}XMLBinary") or ""),
                record=record,
            )
            self.documents[document.id] = document
        if stall == "after":
            self._released.wait(self.stall_seconds)
        return document.id

    # IIS Windows authentication

    def _authenticate(self, request: Request) -> Response | None:
        """None when the request carries valid NTLM credentials, else IIS's 401."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
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
                return _unauthorised("NTLM " + base64.b64encode(out or b"").decode())
        return None


def _schema() -> etree.XMLSchema:
    """Every schema of the service, each namespace imported once, as one validator."""
    imports, seen = [], set()
    for path in sorted(WSDL_DIR.glob("schema*.xsd"), key=lambda p: int(p.stem[6:])):
        namespace = etree.parse(str(path)).getroot().get("targetNamespace")
        if namespace not in seen:
            seen.add(namespace)
            imports.append(f'<xs:import namespace="{namespace}" schemaLocation="{path.name}"/>')
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        + "".join(imports)
        + "</xs:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), base_url=str(WSDL_DIR / "all.xsd")))


def _case(case: Case) -> dict:
    return {
        "CaseFileIdentifier": case.id,
        "Year": 2026,
        "CaseFileSequenceNumber": case.id,
        "CaseFilePaperStorageIndicator": False,
        "CreationDate": datetime.date(2026, 1, 5),
        "CaseFileTitleText": case.title,
        "TitleUnofficialIndicator": False,
        "CaseFileNumberIdentifier": case.number,
        "CaseFileStatusCode": case.status,
        "CaseFileTypeCode": case.type_code,
    }


def _fault(code: str, message: str) -> Response:
    # ASMX's SOAP 1.1 fault: HTTP 500, faultcode soap:Client or soap:Server.
    envelope = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}">'
        f"<soap:Body><soap:Fault><faultcode>soap:{code}</faultcode>"
        f"<faultstring>{_escape(message)}</faultstring><detail /></soap:Fault>"
        "</soap:Body></soap:Envelope>"
    )
    return Response(envelope, status=500, content_type="text/xml; charset=utf-8")


def _failure(failure: Failure, text: str) -> Response:
    if failure.fault:
        return _fault(failure.fault, f"Server was unable to process request. ---> {text[:2000]}")
    # IIS's and gateways' own pages are HTML; the 400 quotes the request.
    body = (
        f"<html><body><h1>HTTP {failure.status}</h1><pre>{_escape(text[:2000])}</pre></body></html>"
    )
    return Response(body, status=failure.status, headers=failure.headers, content_type="text/html")


def _unauthorised(challenge: str) -> Response:
    return Response(
        "<html><body>401 - Unauthorized</body></html>",
        status=401,
        headers={"WWW-Authenticate": challenge},
        content_type="text/html",
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture
def fake_acadre(settings, tmp_path, monkeypatch) -> Iterator[FakeAcadre]:
    """A running fake Acadre, with the portal's settings pointing at it."""
    # pyspnego's NTLM acceptor checks passwords against this file (DOMAIN:USER:PASSWORD).
    users = tmp_path / "ntlm-users"
    users.write_text(f"{USERNAME.replace(chr(92), ':')}:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    settings.ACADRE_TIMEOUT = 1.0
    fake = FakeAcadre(stall_seconds=settings.ACADRE_TIMEOUT * 5)
    fake.start()
    settings.ESDH_BACKEND = "acadre"
    settings.ESDH_RATE_LIMIT = 1000
    settings.ACADRE_URL = fake.url
    settings.ACADRE_USERNAME = USERNAME
    settings.ACADRE_PASSWORD = PASSWORD
    settings.ACADRE_AUTH = "ntlm"
    settings.ACADRE_ACTING_USER = ACTING_USER
    settings.ACADRE_CASE_TYPE = "PERSAG"
    settings.ACADRE_DOCUMENT_TYPE = ""
    try:
        yield fake
    finally:
        fake.stop()
