"""What every case-system adapter promises the filing job, run against each one's fake.

One suite over the archive (a local folder), SBSYS, GetOrganized and Acadre. Where an adapter
cannot do something by its nature (a folder has no personnel cases, no rate limit, no
tokens; SBSYS cannot look up a document), the backend's capability flags say so and the
test checks what the adapter does instead, so the difference stays visible here.
"""
# ruff: noqa: F811 (the imported fixtures are, by pytest's design, redefined as arguments)

import datetime
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from robot.esdh import (
    CaseSystem,
    FilingRequest,
    ManualFilingError,
    TemporaryFilingError,
    case_system,
)

from .fake_acadre import FakeAcadre, fake_acadre  # noqa: F401
from .fake_getorganized import FakeGetOrganized, fake_getorganized  # noqa: F401
from .fake_sbsys import FakeSbsys

CPR = "0101904321"
CPR_FORMS = (CPR, "010190-4321", "010190")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


@dataclass
class Backend:
    name: str
    add_personnel_case: Callable[[str], object]
    add_other_cases: Callable[[str], None]  # closed or other kinds of case: never chosen
    filed: Callable[[], list[bytes]]  # every document stored, in order
    stored_text: Callable[[], str]  # everything stored beside the documents, as text
    fail_next: Callable[..., None] | None  # (status, headers) on the next request
    lose_next_answer: Callable[[], None] | None  # store the next document, answer too late
    requests_seen: Callable[[], int]  # requests the system answered (for the throttle)
    keep_one_case: Callable[[], None]  # a person merged the person's personnel cases
    fake: Any = None
    # Capabilities
    personnel_cases: bool = True  # False: files per person, there is no case to choose
    remote: bool = True  # False: no time-outs, 5xx or 429 to meet
    tokens: bool = False  # True: signs in once and renews a rejected token once
    can_find: bool = True  # False: an uncertain failure goes to a person


@pytest.fixture(params=["archive", "sbsys", "getorganized", "acadre"])
def backend(request, settings, tmp_path) -> Backend:
    if request.param == "archive":
        settings.ESDH_BACKEND = "archive"
        settings.ESDH_ARCHIVE_DIR = str(tmp_path / "archive")
        root = Path(settings.ESDH_ARCHIVE_DIR)
        return Backend(
            name="archive",
            add_personnel_case=lambda cpr: None,
            add_other_cases=lambda cpr: None,
            filed=lambda: [p.read_bytes() for p in sorted(root.rglob("*.pdf"))],
            stored_text=lambda: "".join(
                str(p.relative_to(root)) + p.read_text() for p in sorted(root.rglob("*.json"))
            ),
            fail_next=None,
            lose_next_answer=None,
            requests_seen=lambda: 0,
            keep_one_case=lambda: None,
            personnel_cases=False,
            remote=False,
        )
    if request.param == "sbsys":
        sbsys: FakeSbsys = request.getfixturevalue("fake_sbsys")
        return Backend(
            name="sbsys",
            add_personnel_case=lambda cpr: sbsys.add_case(cpr),
            add_other_cases=lambda cpr: (
                (
                    sbsys.add_case(cpr, status="Afsluttet"),
                    sbsys.add_case(cpr, kind="BorgerSag"),
                )
                and None
            ),
            filed=lambda: [filing.content for filing in sbsys.filings],
            stored_text=lambda: json.dumps(
                [[f.metadata, f.filename] for f in sbsys.filings], ensure_ascii=False
            ),
            fail_next=lambda status, headers=None: sbsys.fail_next(status=status, headers=headers),
            lose_next_answer=sbsys.lose_next_answer,
            requests_seen=lambda: len(sbsys.api_requests) + sbsys.token_requests,
            keep_one_case=lambda: [sbsys.cases.pop(i) for i in list(sbsys.cases)[1:]] and None,
            fake=sbsys,
            tokens=True,
            can_find=False,
        )
    if request.param == "acadre":
        acadre: FakeAcadre = request.getfixturevalue("fake_acadre")
        return Backend(
            name="acadre",
            add_personnel_case=lambda cpr: acadre.add_case(cpr),
            add_other_cases=lambda cpr: (
                (acadre.add_case(cpr, status="A"), acadre.add_case(cpr, type_code="BGSAG")) and None
            ),
            filed=lambda: [doc.content for doc in acadre.documents.values()],
            stored_text=lambda: json.dumps(
                [[d.filename, d.title, d.record] for d in acadre.documents.values()],
                ensure_ascii=False,
            ),
            fail_next=lambda status, headers=None: acadre.fail_next(status=status, headers=headers),
            lose_next_answer=acadre.lose_next_answer,
            requests_seen=lambda: len(acadre.calls),
            keep_one_case=lambda: [acadre.cases.pop(i) for i in list(acadre.cases)[1:]] and None,
            fake=acadre,
        )
    go: FakeGetOrganized = request.getfixturevalue("fake_getorganized")
    return Backend(
        name="getorganized",
        add_personnel_case=lambda cpr: go.add_case(cpr),
        add_other_cases=lambda cpr: (
            (
                go.add_case(cpr, is_open=False),
                go.add_case(cpr, prefix="BOR"),
            )
            and None
        ),
        filed=lambda: [doc.content for doc in go.documents.values()],
        stored_text=lambda: json.dumps(
            [[d.filename, d.title, d.metadata] for d in go.documents.values()], ensure_ascii=False
        ),
        fail_next=lambda status, headers=None: go.fail_next(status=status, headers=headers),
        lose_next_answer=go.lose_next_answer,
        requests_seen=lambda: len(go.api_requests),
        keep_one_case=lambda: [go.cases.pop(i) for i in list(go.cases)[1:]] and None,
        fake=go,
    )


def filing_request(reference: str = "AP-00000042") -> FilingRequest:
    return FilingRequest(
        reference=reference,
        cpr=CPR,
        person_key="a1b2c3d4e5f6a1b2c3d4e5f6",
        document_name="Børneattest 27.11.2026",
        content=PDF,
        filename=f"{reference}.pdf",
        metadata={"kind": "child"},
    )


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def adapter(throttle: Callable[[], object] | None = None) -> CaseSystem:
    return case_system(throttle=throttle)


def test_a_certificate_is_filed_once(backend):
    backend.add_other_cases(CPR)
    backend.add_personnel_case(CPR)
    request = filing_request()

    reference = adapter().file(request)

    assert reference and len(reference) <= 100
    assert backend.filed() == [PDF]
    if backend.can_find:
        # Filing again, as a job retried after a lost answer would, files nothing new.
        assert adapter().find(request) == reference
        assert adapter().file(request) == reference
        assert backend.filed() == [PDF]
    else:
        # It cannot tell, so the filing job sends an uncertain job to a person.
        assert adapter().can_find is False
        assert adapter().find(request) is None


def test_no_personnel_case_goes_to_a_person(backend):
    backend.add_other_cases(CPR)

    if backend.personnel_cases:
        with pytest.raises(ManualFilingError):
            adapter().file(filing_request())
        assert backend.filed() == []
    else:
        # The archive keeps one folder per person and needs no case.
        adapter().file(filing_request())
        assert backend.filed() == [PDF]


def test_several_personnel_cases_go_to_a_person(backend):
    backend.add_personnel_case(CPR)
    backend.add_personnel_case(CPR)

    if backend.personnel_cases:
        with pytest.raises(ManualFilingError, match="2"):
            adapter().file(filing_request())
        assert backend.filed() == []
    else:
        adapter().file(filing_request())
        assert backend.filed() == [PDF]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_temporary_and_a_retry_files(backend, status, tmp_path, settings):
    backend.add_personnel_case(CPR)
    if backend.remote:
        backend.fail_next(status)
    else:
        # A folder's failure: the archive cannot be written (a file where a folder belongs).
        Path(settings.ESDH_ARCHIVE_DIR).parent.mkdir(parents=True, exist_ok=True)
        Path(settings.ESDH_ARCHIVE_DIR).write_text("")

    with pytest.raises(TemporaryFilingError) as caught:
        adapter().file(filing_request())
    assert backend.filed() == []
    assert caught.value.retry_after is None

    if not backend.remote:
        Path(settings.ESDH_ARCHIVE_DIR).unlink()
    adapter().file(filing_request())
    assert backend.filed() == [PDF]


def test_a_lost_answer_is_temporary_and_resolved_by_find_where_possible(backend):
    backend.add_personnel_case(CPR)
    request = filing_request()
    if not backend.remote:
        # A local write either happens or raises: it cannot lose its answer.
        assert backend.lose_next_answer is None
        return

    backend.lose_next_answer()
    with pytest.raises(TemporaryFilingError) as caught:
        adapter().file(request)

    assert caught.value.uncertain is True
    assert backend.filed() == [PDF]  # stored, though the answer came too late
    if backend.can_find:
        # As robot.filing does: ask first, file only if it is not (entirely) there. An
        # adapter that journalises may find the document unjournalised and finish it.
        reference = adapter().find(request) or adapter().file(request)
        assert backend.filed() == [PDF]
        assert adapter().find(request) == reference
    else:
        assert adapter().find(request) is None  # robot.filing hands it to a person


def test_a_429_is_honoured_with_retry_after(backend):
    backend.add_personnel_case(CPR)
    if not backend.remote:
        # No rate limit to meet: the archive never even takes a slot of the shared one.
        throttle = Counter()
        adapter(throttle).file(filing_request())
        assert throttle.calls == 0
        return

    backend.fail_next(429, {"Retry-After": "7"})
    with pytest.raises(TemporaryFilingError) as caught:
        adapter().file(filing_request())

    assert caught.value.retry_after == datetime.timedelta(seconds=7)
    assert caught.value.uncertain is False
    assert backend.filed() == []


def test_every_request_takes_a_slot_of_the_shared_rate_limit_first(backend):
    backend.add_personnel_case(CPR)
    throttle = Counter()

    adapter(throttle).file(filing_request())

    assert throttle.calls == backend.requests_seen()
    assert (throttle.calls > 0) is backend.remote


def test_a_rejected_token_is_renewed_once(backend):
    backend.add_personnel_case(CPR)
    if not backend.tokens:
        # No token: the archive has no sign-in, and GetOrganized authenticates every
        # request afresh (NTLM), so there is nothing to renew.
        adapter().file(filing_request())
        assert backend.filed() == [PDF]
        return

    system = adapter()
    system.file(filing_request("AP-1"))
    before = backend.fake.token_requests
    backend.fake.expire_tokens()

    system.file(filing_request("AP-2"))

    assert backend.fake.token_requests == before + 1
    assert len(backend.filed()) == 2


def test_wrong_credentials_are_a_clear_manual_error(backend, settings):
    backend.add_personnel_case(CPR)
    if backend.name == "archive":
        assert not backend.remote  # a local folder has no credentials
        return
    if backend.name == "sbsys":
        settings.SBSYS_PASSWORD = "forkert"
    elif backend.name == "acadre":
        settings.ACADRE_PASSWORD = "forkert"
    else:
        settings.GETORGANIZED_PASSWORD = "forkert"

    with pytest.raises(ManualFilingError, match="401"):
        adapter().file(filing_request())
    assert backend.filed() == []


def test_no_cpr_number_in_logs_errors_or_what_is_stored(backend, caplog):
    caplog.set_level(logging.DEBUG)
    messages = []
    for setup in (
        lambda: None,  # no case
        lambda: (backend.add_personnel_case(CPR), backend.add_personnel_case(CPR)),  # two
    ):
        setup()
        try:
            adapter().file(filing_request())
        except (ManualFilingError, TemporaryFilingError) as error:
            messages.append(str(error))
    if backend.remote:
        backend.fail_next(400)  # the fakes echo the request, CPR number and all
        try:
            adapter().file(filing_request())
        except ManualFilingError as error:
            messages.append(str(error))
    # A successful filing too.
    backend.keep_one_case()
    adapter().file(filing_request("AP-2"))

    seen = "\n".join(messages + [r.getMessage() for r in caplog.records] + [backend.stored_text()])
    assert messages or not backend.personnel_cases
    for form in CPR_FORMS:
        assert form not in seen
