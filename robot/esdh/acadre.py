"""Filing in Formpipe Acadre through its SOAP service, Acadre PWS (AcadreServiceV7.asmx).

The client is built by zeep from Acadre's own WSDL and schemas (acadre_wsdl/, copied from
a municipality's integration; its README names the source), so every request is checked
against them before it leaves. The shapes and the order of calls are those of that public
production integration, Syddjurs Kommune's dcrwork/SyddjursAcadreIntegration
(AcadreSyddjursIntegration/AcadreService.cs, "Syddjurs" below):

1. CaseService7.SearchCases with the CPR number as the start of the case title and the
   case type (Syddjurs GetChildCases and ChangeChildResponsible: `CaseFileTitleText = CPR
   + "*"`, `CaseFileTypeCode`; its CreateCase sets the title to the CPR number and lists
   "PERSAG" (personalesag) among the types);
2. CaseService7.GetCase for each hit, since a hit carries no status (Syddjurs does the
   same; `CaseFileStatusCode == "A"` is a closed case, "B" one in progress);
3. MainDocumentService7.GetAllDocuments of the case, to see whether the document is
   already there (Syddjurs GetChildCaseDocuments: `Document.DocumentTitleText`,
   `Document.DocumentIdentifier`): this makes filing idempotent and `find` possible;
4. MainDocumentService7.CreateMainDocument with the PDF (XMLBinary, FileName), the
   document's title and the record in the case. Syddjurs creates memos, not documents,
   so this request's shape comes from the WSDL alone (CreateMainDocumentRequestType2 in
   schema16.xsd); it answers with the new document's DocumentIdentifier.

Every call carries Acadre's SoapHeader naming the user the service account acts for
(Syddjurs PWSSoapHeader.cs: it refuses to send a call without one) and authenticates
with Windows authentication, as Syddjurs's NetworkCredential(user, password, domain) does.

The CPR number travels only in the search: it is never put in a log line or an error
message, and Acadre's answers (case titles, fault strings: both may carry it) are never
copied.
"""

import datetime
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from lxml import etree
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

from portal.cpr import InvalidCpr, mask_cpr, normalise_cpr

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
# zeep logs every envelope it sends at DEBUG, and the search carries the CPR number.
logging.getLogger("zeep.transports").setLevel(logging.INFO)

# The bindings of CaseService7 and MainDocumentService7; the endpoint is ACADRE_URL (the
# WSDL's own service address is Syddjurs's test server).
WSDL = Path(__file__).parent / "acadre_wsdl" / "AcadreServiceV70.wsdl"
# Syddjurs PWSSoapHeader.cs: SoapHeaderType in this namespace, its `User` unqualified.
HEADER_NAMESPACE = "http://traen.com/Services/AcadreService"
# Syddjurs SearchChildren: `IsClosed = CaseFileStatusCode == "A"`.
CLOSED = "A"
# The longest reference FilingJob.esdh_reference holds.
REFERENCE_LENGTH = 100

SEARCH = pgettext_lazy("Acadre step", "search for the personnel case")
CASE = pgettext_lazy("Acadre step", "reading the case")
DOCUMENTS = pgettext_lazy("Acadre step", "listing the case's documents")
FILING = pgettext_lazy("Acadre step", "filing")


@dataclass(frozen=True)
class PersonnelCase:
    id: int  # CaseFileIdentifier
    number: str  # CaseFileNumberIdentifier, e.g. "26/1234"


class AcadreCaseSystem(CaseSystem):
    """Files a main document in the person's one open personnel case."""

    can_find = True

    def __init__(self, *, throttle=None) -> None:
        super().__init__(throttle=throttle)
        self.url = settings.ACADRE_URL.strip()
        self.case_type = settings.ACADRE_CASE_TYPE.strip()
        self.document_type = settings.ACADRE_DOCUMENT_TYPE.strip()
        self.acting_user = settings.ACADRE_ACTING_USER.strip()
        self.timeout = settings.ACADRE_TIMEOUT
        self._client: zeep.Client | None = None
        self._transport: _Transport | None = None

    def file(self, request: FilingRequest) -> str:
        self._check_setup()
        case = self._personnel_case(request.cpr)
        existing = self._filed_document(case, request.reference)
        if existing is not None:
            return _reference(case, existing)
        document_id = self._create_document(request, case)
        reference = _reference(case, document_id)
        logger.info("Filed %s in Acadre as %s", request.reference, reference)
        return reference

    def find(self, request: FilingRequest) -> str | None:
        """The document filed for this request, found in the case by our reference, which
        is part of its title."""
        self._check_setup()
        case = self._personnel_case(request.cpr)
        document_id = self._filed_document(case, request.reference)
        return None if document_id is None else _reference(case, document_id)

    def check_connection(self, test_cpr: str) -> str:
        self._check_setup()
        case = self._personnel_case(test_cpr)
        documents = self._documents(case)
        return _(
            "Signed in to Acadre. The test person %(person)s has one open personnel case, "
            "%(case)s, with %(count)s documents. Nothing was filed."
        ) % {
            "person": mask_cpr(normalise_cpr(test_cpr)),
            "case": case.number or case.id,
            "count": len(documents),
        }

    def _check_setup(self) -> None:
        if not self.url:
            raise ManualFilingError(_("Acadre is not set up (ACADRE_URL is missing)."))
        if not (settings.ACADRE_USERNAME and settings.ACADRE_PASSWORD and self.acting_user):
            raise ManualFilingError(
                _(
                    "Acadre is not set up (ACADRE_USERNAME, ACADRE_PASSWORD or "
                    "ACADRE_ACTING_USER is missing)."
                )
            )
        if not self.case_type:
            # Without it, "exactly one open case" would take any of the person's cases.
            raise ManualFilingError(_("Acadre is not set up (ACADRE_CASE_TYPE is missing)."))

    # The steps

    def _personnel_case(self, cpr: str) -> PersonnelCase:
        try:
            digits = normalise_cpr(cpr)
        except InvalidCpr:
            raise ManualFilingError(_("The CPR number is not valid.")) from None
        hits = self._call(
            "CaseService7",
            "SearchCases",
            step=SEARCH,
            CaseFileTitleText=digits + "*",
            CaseFileTypeCode=self.case_type,
        )
        open_cases = []
        for hit in hits or []:
            with _answer(SEARCH):
                if hit.CaseFileTypeCode and hit.CaseFileTypeCode != self.case_type:
                    continue
                case_id = int(hit.CaseFileReference)
            case = self._call("CaseService7", "GetCase", case_id, step=CASE)
            with _answer(CASE):
                # The wildcard is on the title; the title must begin with this very number.
                title = case.CaseFileTitleText or ""
                if not title.startswith(digits) or title[10:11].isdigit():
                    continue
                if case.CaseFileStatusCode == CLOSED:
                    continue
                open_cases.append(
                    PersonnelCase(
                        id=int(case.CaseFileIdentifier), number=case.CaseFileNumberIdentifier or ""
                    )
                )
        if not open_cases:
            raise ManualFilingError(_("No open personnel case found in Acadre."))
        if len(open_cases) > 1:
            raise ManualFilingError(
                _("Several open personnel cases found in Acadre (%(count)s); choose the right one.")
                % {"count": len(open_cases)}
            )
        return open_cases[0]

    def _documents(self, case: PersonnelCase) -> list[Any]:
        return list(
            self._call("MainDocumentService7", "GetAllDocuments", case.id, step=DOCUMENTS) or []
        )

    def _filed_document(self, case: PersonnelCase, reference: str) -> int | None:
        marker = _marker(reference)
        with _answer(DOCUMENTS):
            for item in self._documents(case):
                document = item.Document
                if document is not None and marker in (document.DocumentTitleText or ""):
                    return int(document.DocumentIdentifier)
        return None

    def _create_document(self, request: FilingRequest, case: PersonnelCase) -> int:
        title = f"{request.document_name} {_marker(request.reference)}"
        today = datetime.date.today()
        # RegistrationDate, DocumentDateUnknownIndicator and RecordPaperStorageIndicator are
        # the record's required elements (RecordType in schema21.xsd).
        record: dict[str, Any] = {
            "CaseFileReference": case.id,
            "RegistrationDate": today,
            "DocumentDate": today,
            "DocumentDateUnknownIndicator": False,
            "DescriptionText": title,
            "RecordPaperStorageIndicator": False,
        }
        if self.document_type:
            record["DocumentTypeCode"] = self.document_type
        answer = self._call(
            "MainDocumentService7",
            "CreateMainDocument",
            step=FILING,
            filing=True,
            Document={"DocumentTitleText": title, "DocumentPaperStorageIndicator": False},
            Record=record,
            FileName=request.filename,
            XMLBinary=request.content,
        )
        with _answer(FILING, filing=True):
            return int(answer)

    # SOAP

    def _service(self, port: str) -> Any:
        if self._client is None:
            session = requests.Session()
            session.auth = _auth()
            # An endpoint that redirects is misconfigured, and a POST must not turn into a
            # GET elsewhere.
            session.max_redirects = 0
            self._transport = _Transport(
                session=session, timeout=self.timeout, operation_timeout=self.timeout
            )
            # Strict: an answer that does not follow Acadre's schemas is not guessed at.
            self._client = zeep.Client(
                str(WSDL), transport=self._transport, settings=zeep.Settings(strict=True)
            )
        # Both services used are bound in AcadreServiceV70.wsdl's namespace.
        return self._client.create_service(
            "{http://www.traen.com/2010/06/01/schema}" + port, self.url
        )

    def _header(self) -> etree._Element:
        # A prefix, not a default namespace: `User` is unqualified and must stay so.
        header = etree.Element(f"{{{HEADER_NAMESPACE}}}SoapHeader", nsmap={"pws": HEADER_NAMESPACE})
        etree.SubElement(header, "User").text = self.acting_user
        return header

    def _call(
        self, port: str, operation: str, *args: Any, step: str, filing: bool = False, **kwargs: Any
    ) -> Any:
        service = self._service(port)
        try:
            self.throttle()
            return getattr(service, operation)(*args, _soapheaders=[self._header()], **kwargs)
        except requests.RequestException as error:
            raise request_failure(
                error, system="Acadre", step=step, timeout=self.timeout, filing=filing
            ) from error
        except zeep.exceptions.Fault as fault:
            raise _fault(fault, step=step, filing=filing) from None
        except zeep.exceptions.TransportError as error:
            answered = self._transport.last_response if self._transport else None
            headers = answered.headers if answered is not None else {}
            raise _http_error(error, headers, step=step, filing=filing) from None
        except zeep.exceptions.ValidationError as error:
            # Our request breaks Acadre's schema: sending it again changes nothing.
            logger.error("Acadre request does not follow the schema (%s)", step, exc_info=True)
            raise ManualFilingError(
                _("The request to Acadre does not follow its schema (%(step)s).") % {"step": step}
            ) from error
        except (zeep.exceptions.Error, etree.LxmlError, ValueError) as error:
            raise temporary(
                _("Unexpected answer from Acadre (%(step)s).") % {"step": step}, uncertain=filing
            ) from error


def _auth() -> requests.auth.AuthBase:
    username, password = settings.ACADRE_USERNAME, settings.ACADRE_PASSWORD
    if settings.ACADRE_AUTH == "basic":
        return HTTPBasicAuth(username, password)
    # Syddjurs AcadreService constructor: NetworkCredential(user, password, domain) on the
    # SoapAuth endpoint, i.e. IIS Windows authentication; the user name is DOMAIN\user.
    return HttpNtlmAuth(username, password)


def _fault(fault: zeep.exceptions.Fault, *, step: str, filing: bool) -> Exception:
    """A SOAP fault, told apart by its faultcode; the fault string is never quoted, as it
    may echo the request, CPR number included."""
    code = str(fault.code or "")
    if code.rsplit(":", 1)[-1].startswith("Client"):
        # ASMX says Client when the request itself is wrong: the same request fails again.
        return ManualFilingError(
            _("Acadre refused the call (SOAP fault %(code)s, %(step)s).")
            % {"code": "Client", "step": step}
        )
    # Server: Acadre or its database failed while handling the call; on the filing that
    # may be after the document was stored.
    return temporary(
        _("Acadre answered with an error (SOAP fault %(code)s, %(step)s).")
        % {"code": "Server", "step": step},
        uncertain=filing,
    )


class _Transport(zeep.Transport):
    """Keeps the last answer: zeep's TransportError drops the headers (Retry-After)."""

    last_response: requests.Response | None = None

    def post(self, address, message, headers):
        self.last_response = None
        response = self.last_response = super().post(address, message, headers)
        # ASMX sends its faults as XML with HTTP 500; anything else that is not a 200 is
        # IIS's or a gateway's own page, which zeep would otherwise read as a fault.
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status_code != 200 and not (
            response.status_code == 500 and media_type in ("text/xml", "application/soap+xml")
        ):
            raise zeep.exceptions.TransportError(
                f"HTTP {response.status_code}", status_code=response.status_code
            )
        return response


def _http_error(
    error: zeep.exceptions.TransportError, headers: Any, *, step: str, filing: bool
) -> Exception:
    status = error.status_code
    if status == 429:
        return TemporaryFilingError(
            _("Acadre asks us to wait (HTTP 429, %(step)s).") % {"step": step},
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )
    if status >= 500 or status < 400:
        # 503 means the request was turned away; any other 5xx without a SOAP fault may
        # come from a gateway after Acadre stored the document.
        return temporary(
            _("Acadre answered with an error (HTTP %(status)s, %(step)s).")
            % {"status": status, "step": step},
            uncertain=filing and status != 503,
        )
    if status == 401:
        return ManualFilingError(
            _(
                "Acadre did not accept the service account (HTTP 401). Check ACADRE_USERNAME "
                "(DOMAIN\\user) and ACADRE_PASSWORD."
            )
        )
    return ManualFilingError(
        _("Acadre refused the call (HTTP %(status)s, %(step)s).") % {"status": status, "step": step}
    )


@contextmanager
def _answer(step: str, *, filing: bool = False) -> Iterator[None]:
    """Turn an answer of an unexpected shape into a temporary error."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise temporary(
            _("Unexpected answer from Acadre (%(step)s).") % {"step": step}, uncertain=filing
        ) from error


def _marker(reference: str) -> str:
    return f"[{reference}]"


def _reference(case: PersonnelCase, document_id: int) -> str:
    return f"{case.number or case.id} / {document_id}"[:REFERENCE_LENGTH]
