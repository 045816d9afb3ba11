"""Filing in Netcompany GetOrganized (GO) through its REST API (`/_goapi`) over SharePoint.

A filing takes up to four calls: a search for the person's open personnel case, a look at
the documents already in it (so a second attempt files nothing new), the upload, and the
finalising ("journalisering") that locks the document. Only the upload and the finalising
change anything in GO, so only a failure there can leave us unsure of the outcome
(`uncertain=True`), and `find` settles that by looking in the case. GO sits behind IIS with
Windows authentication: every request authenticates with NTLM (or Basic, where the
municipality's GO is set up for it); there is no token to renew.

Netcompany publishes no API reference. Every request and answer shape here is the one sent
and read by two public production integrations of Aarhus Kommune (the file names below are
where each shape is read):
- MBU: AAK-MBU/MBU-getorganized-integration, its Python client in
  src/mbu_getorganized_integration/ (which finds a person's personnel case, "PER");
- ITK: itk-dev/getorganized-api-client-php, its PHP client in src/ and the recorded answers
  of its mock in src/Mock/resources/_goapi/ (which uploads and finalises documents).

The CPR number travels only in the search body. It is never put in a log line or an error
message, and answers from GO (case titles carry the CPR number, error pages may echo the
request) are never copied.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

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

# MBU endpoints.py modern_search, read in discovery.py case_lookup_by_cpr.
SEARCH_PATH = "/_goapi/search/ExecuteModernSearch"
# ITK src/Service/Documents.php AddToDocumentLibrary (MBU's AddToCase is marked unconfirmed
# in its endpoints.py; ITK's answer is recorded in Mock/.../AddToDocumentLibrary.yaml).
UPLOAD_PATH = "/_goapi/Documents/AddToDocumentLibrary"
# ITK src/Service/Documents.php Finalize ("journaliser").
FINALIZE_PATH = "/_goapi/Documents/Finalize/ByDocumentId"
# The case's document library: ITK's and MBU's default ListName.
LIST_NAME = "Dokumenter"
# The longest reference FilingJob.esdh_reference holds.
REFERENCE_LENGTH = 100
# ITK Documents.php AddToDocumentLibrary: characters Windows (and so SharePoint) refuses
# in a file name.
UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*]')

SEARCH = pgettext_lazy("GetOrganized step", "search for the personnel case")
LISTING = pgettext_lazy("GetOrganized step", "looking at the documents in the case")
UPLOAD = pgettext_lazy("GetOrganized step", "uploading the document")
FINALIZE = pgettext_lazy("GetOrganized step", "journalising the document")


@dataclass(frozen=True)
class PersonnelCase:
    id: str  # GO's CaseID, e.g. "PER-2026-000123"
    url: str  # the case's site, e.g. "cases/PER55/PER-2026-000123"


@dataclass(frozen=True)
class FiledDocument:
    id: Any  # GO's DocID, sent back as it came
    finalized: bool


class GetOrganizedCaseSystem(CaseSystem):
    """Files into the person's one open personnel case and journalises the document."""

    can_find = True

    def __init__(self, *, throttle=None) -> None:
        super().__init__(throttle=throttle)
        self.url = settings.GETORGANIZED_URL.rstrip("/")
        self.case_type_prefix = settings.GETORGANIZED_CASE_TYPE_PREFIX.strip()
        self.folder_path = settings.GETORGANIZED_FOLDER_PATH.strip().strip("/")
        self.finalize = settings.GETORGANIZED_FINALIZE
        self.timeout = settings.GETORGANIZED_TIMEOUT
        self.session = requests.Session()
        self.session.auth = _auth()
        # ITK Documents.php getDocumentsByCaseId asks SharePoint for JSON; GO's own API
        # answers JSON anyway.
        self.session.headers["Accept"] = "application/json"

    def file(self, request: FilingRequest) -> str:
        self._check_setup()
        case = self._personnel_case(request.cpr)
        document = self._filed_document(case, request.reference)
        if document is None:
            document = self._upload(request, case)
        if self.finalize and not document.finalized:
            self._finalize(document.id)
        reference = _reference(case, document)
        logger.info("Filed %s in GetOrganized as %s", request.reference, reference)
        return reference

    def find(self, request: FilingRequest) -> str | None:
        """The document filed for this request, if it is in the case (and journalised, when
        the portal journalises); None sends the job on to `file`, which finishes the job."""
        self._check_setup()
        case = self._personnel_case(request.cpr)
        document = self._filed_document(case, request.reference)
        if document is None or (self.finalize and not document.finalized):
            return None
        return _reference(case, document)

    def check_connection(self, test_cpr: str) -> str:
        self._check_setup()
        case = self._personnel_case(test_cpr)
        documents = self._documents(case)
        return _(
            "Signed in to GetOrganized as %(user)s. The test person %(person)s has one open "
            "personnel case, %(case)s, with %(count)s documents in “%(library)s”. "
            "Nothing was filed."
        ) % {
            "user": settings.GETORGANIZED_USERNAME,
            "person": mask_cpr(normalise_cpr(test_cpr)),
            "case": case.id,
            "count": len(documents),
            "library": "/".join(filter(None, [LIST_NAME, self.folder_path])),
        }

    def _check_setup(self) -> None:
        if not self.url:
            raise ManualFilingError(_("GetOrganized is not set up (GETORGANIZED_URL is missing)."))
        if not (settings.GETORGANIZED_USERNAME and settings.GETORGANIZED_PASSWORD):
            raise ManualFilingError(
                _(
                    "GetOrganized is not set up (GETORGANIZED_USERNAME or "
                    "GETORGANIZED_PASSWORD is missing)."
                )
            )

    # The steps

    def _personnel_case(self, cpr: str) -> PersonnelCase:
        try:
            digits = normalise_cpr(cpr)
        except InvalidCpr:
            raise ManualFilingError(_("The CPR number is not valid.")) from None
        # The body is MBU discovery.py case_lookup_by_cpr's, field for field: the CPR
        # number without a dash as the phrase, open cases only, top-level cases of the
        # personnel case type only (its query filter leaves out the sub-cases, the
        # personnel case's folders, whose parent is a P…, B… or E… case).
        body = {
            "QueryPageIndex": 1,
            "PageSize": 0,
            "QueryPhrase": digits,
            "QueryType": "Cases",
            "TrimToOpenedCases": True,
            "ResultTypeInternalName": "6376435f-d715-48ad-8e0c-0a35d85f0d5e",
            "ResultTypeName": "Oversager",
            "SearchContentDefinitionEntryType": 2,
            "ResultViewInternalName": "4b82f943-e2bb-48aa-b2b3-6ab8e7d948d6",
            "AdditionalSelectColumns": [
                "CCMTitle",
                "CCMContactData",
                "CCMContactDataCPR",
                "CCMParentCase",
                "CCMCaseID",
            ],
            "ResultTypeListNameOrType": None,
            "ResultTypeSearchOnlyItems": True,
            "ResultTypeQueryFilter": (
                'AND -ccmparentcase:"P*" -ccmparentcase:"B*" -ccmparentcase:"E*"'
            ),
            "CaseQueryFieldCollection": [],
            "QueryFieldCollection": [],
            "CaseTypePrefixes": [self.case_type_prefix],
            "SortDirection1": 1,
            "ResultViewSortField1": None,
            "ResultViewSortField2": None,
            "ResultViewSortOrder1": 2,
            "ResultViewSortOrder2": 2,
            "QueryScope": 0,
        }
        answer = self._json("POST", self.url + SEARCH_PATH, step=SEARCH, json=body)
        dashed = format_cpr(digits)
        with _answer(SEARCH):
            # `results.Results`, each with `title` and `caseurl` ("cases/<site>/<CaseID>"):
            # MBU discovery.py case_lookup_by_cpr and tests/test_discovery.py. A free-text
            # search may hit the number elsewhere, so, as there, only a case whose title
            # carries the person's CPR number is the person's.
            rows = answer["results"]["Results"] or []
            if not isinstance(rows, list):
                raise TypeError("Results is not a list")
            found = {}
            for row in rows:
                title = str(row.get("title") or "")
                if dashed in title or digits in title:
                    url = str(row["caseurl"]).strip("/")
                    parts = url.split("/")
                    if len(parts) < 3 or parts[0] != "cases":
                        raise ValueError("not a case URL")
                    found[parts[-1]] = PersonnelCase(id=parts[-1], url=url)
        # MBU takes the first match; a new hire with two open personnel cases is exactly
        # the case a person must look at.
        if not found:
            raise ManualFilingError(_("No open personnel case found in GetOrganized."))
        if len(found) > 1:
            raise ManualFilingError(
                _(
                    "Several open personnel cases found in GetOrganized (%(count)s); "
                    "choose the right one."
                )
                % {"count": len(found)}
            )
        return next(iter(found.values()))

    def _documents(self, case: PersonnelCase) -> list[dict]:
        # ITK Documents.php getDocumentsByCaseId: SharePoint's REST API on the case's own
        # site (MBU discovery.py addresses it the same way, `{base}/{caseurl}/_api/...`),
        # answering `{"value": [{"ListItemAllFields": {...}}, ...]}`.
        folder = "/".join(filter(None, [f"/{case.url}/{LIST_NAME}", self.folder_path])) + "/"
        folder = folder.replace("'", "''")  # OData string literal
        url = (
            f"{self.url}/{case.url}/_api/web/getFolderByServerRelativeUrl('{folder}')/Files"
            "?$select=ListItemAllFields/*&$expand=ListItemAllFields"
        )
        answer = self._json("GET", url, step=LISTING)
        with _answer(LISTING):
            files = answer["value"]
            if not isinstance(files, list):
                raise TypeError("value is not a list")
            return [file["ListItemAllFields"] or {} for file in files]

    def _filed_document(self, case: PersonnelCase, reference: str) -> FiledDocument | None:
        marker = f"[{reference}]"
        with _answer(LISTING):
            # The fields a document's metadata has in GO: `ows_Title`, `ows_DocID` and
            # `ows_Finalized` ("0" or "1") in ITK Mock/.../Documents/Metadata.yaml; the same
            # fields without the `ows_` prefix in SharePoint's REST answer.
            matching = [
                FiledDocument(id=fields["DocID"], finalized=_true(fields.get("Finalized")))
                for fields in self._documents(case)
                if marker in str(fields.get("Title") or "")
                or marker in str(fields.get("FileLeafRef") or "")
            ]
        if not matching:
            return None
        return next((document for document in matching if document.finalized), matching[0])

    def _upload(self, request: FilingRequest, case: PersonnelCase) -> FiledDocument:
        title = f"{request.document_name} [{request.reference}]"
        # ITK Documents.php AddToDocumentLibrary: the file as a list of byte values, the
        # metadata as a `<z:row>` (Service.php buildMetadata). Overwrite as ITK's default:
        # should a document with this name be there unfinalised after all, it is replaced
        # rather than doubled. `ows_CCMMustBeOnPostList="0"` (ITK's own example) keeps the
        # certificate off the municipality's public post list.
        filename = " ".join(UNSAFE_FILENAME.sub("_", f"{title}.pdf").split())
        metadata = (
            f'<z:row xmlns:z="#RowsetSchema" ows_Title={quoteattr(title)} '
            'ows_CCMMustBeOnPostList="0"/>'
        )
        body = {
            "bytes": list(request.content),
            "CaseId": case.id,
            "ListName": LIST_NAME,
            "FolderPath": self.folder_path,
            "FileName": filename,
            "Metadata": metadata,
            "Overwrite": True,
        }
        response = self._call("POST", self.url + UPLOAD_PATH, step=UPLOAD, filing=True, json=body)
        # `{"DocId": 215820}`: ITK Mock/.../Documents/AddToDocumentLibrary.yaml (MBU
        # documents.py upload_document reads `DocId` too). ITK takes an empty answer
        # without complaint; then the case says which document it became.
        try:
            document_id = response.json()["DocId"]
        except (ValueError, KeyError, TypeError):
            document_id = None
        if document_id is None:
            found = self._filed_document(case, request.reference)
            if found is None:
                raise temporary(
                    _("Unexpected answer from GetOrganized (%(step)s).") % {"step": UPLOAD},
                    uncertain=True,
                )
            return found
        return FiledDocument(id=document_id, finalized=False)

    def _finalize(self, document_id: Any) -> None:
        # ITK Documents.php Finalize: `{"DocID": ..., "ShouldCloseOpenTasks": false}`; the
        # answer's body is not read (ITK Service.php getData takes an empty one).
        body = {"DocID": document_id, "ShouldCloseOpenTasks": False}
        self._call("POST", self.url + FINALIZE_PATH, step=FINALIZE, filing=True, json=body)

    # HTTP

    def _json(self, method: str, url: str, *, step: str, **kwargs: Any) -> Any:
        response = self._call(method, url, step=step, **kwargs)
        with _answer(step):
            return response.json()

    def _call(
        self, method: str, url: str, *, step: str, filing: bool = False, **kwargs: Any
    ) -> requests.Response:
        self.throttle()
        try:
            # No redirects: IIS redirecting an API call means a login page or a wrong URL,
            # and a POST must not silently turn into a GET elsewhere.
            response = self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            raise request_failure(
                error, system="GetOrganized", step=step, timeout=self.timeout, filing=filing
            ) from error
        _check(response, step=step, filing=filing)
        return response


def _auth() -> requests.auth.AuthBase:
    username, password = settings.GETORGANIZED_USERNAME, settings.GETORGANIZED_PASSWORD
    if settings.GETORGANIZED_AUTH == "basic":
        return HTTPBasicAuth(username, password)
    # Both Aarhus clients authenticate with NTLM: MBU _http.py session (requests_ntlm's
    # HttpNtlmAuth), ITK Client.php createHttpClient (`auth_ntlm`). The user name is
    # DOMAIN\user.
    return HttpNtlmAuth(username, password)


def _check(response: requests.Response, *, step: str, filing: bool = False) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 401:
        # The NTLM handshake has already been tried: the account or its password is wrong,
        # locked or expired. Retrying would only lock the account.
        raise ManualFilingError(
            _(
                "GetOrganized did not accept the portal's user (HTTP 401, %(step)s); check "
                "GETORGANIZED_USERNAME (DOMAIN\\user) and GETORGANIZED_PASSWORD."
            )
            % {"step": step}
        )
    if status == 403:
        raise ManualFilingError(
            _(
                "The portal's user may not do this in GetOrganized (HTTP 403, %(step)s); it "
                "needs access to the personnel cases."
            )
            % {"step": step}
        )
    if status == 429:
        # Neither Aarhus client handles a 429 apart from other errors (MBU _http.py calls
        # raise_for_status); its form is HTTP's (RFC 6585, Retry-After).
        raise TemporaryFilingError(
            _("GetOrganized asks us to wait (HTTP 429, %(step)s).") % {"step": step},
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        # 503 means the request was turned away; any other 5xx on a change may come after
        # GO stored it.
        raise temporary(
            _("GetOrganized answered with an error (HTTP %(status)s, %(step)s).")
            % {"status": status, "step": step},
            uncertain=filing and status != 503,
        )
    # The body is not quoted: GO's error texts may echo the request, CPR number included.
    raise ManualFilingError(
        _("GetOrganized refused the call (HTTP %(status)s, %(step)s).")
        % {"status": status, "step": step}
    )


@contextmanager
def _answer(step: str) -> Iterator[None]:
    """Turn an answer of an unexpected shape into a temporary error."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise temporary(
            _("Unexpected answer from GetOrganized (%(step)s).") % {"step": step},
            uncertain=False,
        ) from error


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"1", "true", "ja", "yes"}


def _reference(case: PersonnelCase, document: FiledDocument) -> str:
    return f"{case.id} / {document.id}"[:REFERENCE_LENGTH]
