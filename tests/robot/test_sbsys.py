"""The SBSYS adapter against a fake SBSYS and SBSIP speaking real HTTP on loopback."""
# ruff: noqa: F811 (the imported fixture is, by pytest's design, redefined as an argument)

import datetime
import logging
import re
import socket
from collections.abc import Callable
from email.utils import format_datetime

import pytest

from robot import filing
from robot.esdh import (
    FilingRequest,
    ManualFilingError,
    TemporaryFilingError,
    case_system,
    sbsys,
)
from robot.esdh.sbsys import SbsysCaseSystem
from robot.models import FilingJob

from .fake_sbsys import FakeSbsys
from .test_pipeline import receive

CPR = "0101904321"
CPR_FORMS = (CPR, "010190-4321", "010190")
FOLDER = "08 Straffeattester"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Said when the document may have been filed although SBSYS gave no answer.
MAYBE_FILED = re.escape("Dokumentet kan være journaliseret; tjek sagen før det journaliseres igen.")

# Every request takes a slot from the shared rate limit, which lives in the database.
pytestmark = pytest.mark.django_db


def filing_request(*, reference: str = "AP-00000042") -> FilingRequest:
    return FilingRequest(
        reference=reference,
        cpr=CPR,
        person_key="a1b2c3d4e5f6a1b2c3d4e5f6",
        document_name="Børneattest 27.11.2026",
        content=PDF,
        filename=f"{reference}.pdf",
        metadata={"kind": "child"},
    )


def test_certificate_is_filed_in_the_folder_of_the_one_active_personnel_case(fake_sbsys):
    fake_sbsys.add_case(CPR, status="Afsluttet")
    fake_sbsys.add_case(CPR, kind="BorgerSag")
    fake_sbsys.add_case("0202902222")
    case = fake_sbsys.add_case(CPR, folders=("01 Ansættelse", "08 Straffeattester"))

    reference = case_system().file(filing_request())

    [filing] = fake_sbsys.filings
    # SBSYS names no document in its answer: the case number and our reference find it.
    assert reference == f"{case.number} / AP-00000042"
    assert case.number.startswith("81.03.00-G01-")
    assert fake_sbsys.searches == [
        {"PrimaerPerson": {"CprNummer": "010190-4321"}, "SagsTyper": [{"Navn": "PersonaleSag"}]}
    ]
    assert filing.case_id == case.id
    assert case.folders[filing.folder_id] == "08 Straffeattester"
    assert filing.metadata == {
        "SagID": case.id,
        "DokumentNavn": "Børneattest 27.11.2026 [AP-00000042]",
        "OmfattetAfAktindsigt": True,
        "DokumentArt": {"Id": 1},
    }
    assert (filing.filename, filing.content_type, filing.content) == (
        "AP-00000042.pdf",
        "application/pdf",
        PDF,
    )


def test_folder_title_matches_regardless_of_case_and_spacing(fake_sbsys, settings):
    settings.SBSYS_FOLDER_TITLE = "08 straffeattester"
    case = fake_sbsys.add_case(CPR, folders=("01 Ansættelse", "  08 STRAFFEATTESTER "))

    SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings[0].folder_id in case.folders


def test_one_token_serves_two_filings(fake_sbsys):
    fake_sbsys.add_case(CPR)
    adapter = SbsysCaseSystem()

    adapter.file(filing_request(reference="AP-00000001"))
    adapter.file(filing_request(reference="AP-00000002"))

    assert fake_sbsys.token_requests == 1
    assert len(fake_sbsys.filings) == 2


def test_second_filing_within_the_tokens_life_costs_three_requests(fake_sbsys, settings, tmp_path):
    # A cache outside the process's memory, as Redis is in production: each job (and each
    # worker process) makes its own adapter, and only the cache carries the token across.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    fake_sbsys.add_case(CPR)
    SbsysCaseSystem().file(filing_request(reference="AP-00000001"))
    assert fake_sbsys.token_requests + len(fake_sbsys.api_requests) == 4
    before = fake_sbsys.token_requests + len(fake_sbsys.api_requests)

    SbsysCaseSystem().file(filing_request(reference="AP-00000002"))

    assert fake_sbsys.token_requests + len(fake_sbsys.api_requests) - before == 3
    assert fake_sbsys.token_requests == 1
    assert len(fake_sbsys.filings) == 2


def test_token_rejected_by_sbsys_is_renewed_once(fake_sbsys):
    fake_sbsys.add_case(CPR)
    SbsysCaseSystem().file(filing_request(reference="AP-00000001"))
    fake_sbsys.expire_tokens()  # revoked long before its 300 seconds are up

    SbsysCaseSystem().file(filing_request(reference="AP-00000002"))

    assert fake_sbsys.token_requests == 2
    assert len(fake_sbsys.filings) == 2
    # The rejected token is gone for every job: the next one uses the new token.
    SbsysCaseSystem().file(filing_request(reference="AP-00000003"))
    assert fake_sbsys.token_requests == 2
    assert len({f.metadata["DokumentNavn"] for f in fake_sbsys.filings}) == 3


def test_still_rejected_after_a_new_token_the_job_goes_to_a_person(ordered_for, fake_sbsys, caplog):
    caplog.set_level(logging.DEBUG)
    fake_sbsys.add_case("0101904321")
    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    SbsysCaseSystem().file(filing_request(reference="AP-00000001"))
    fake_sbsys.reject_every_token = True

    assert filing.file_due() == 1

    job = FilingJob.objects.get(document=document)
    assert job.state == "manual"
    assert job.last_error == "SBSYS afviste kaldet (HTTP 401, søgning efter personalesag)."
    assert "0101904321" not in job.last_error and "010190-4321" not in job.last_error
    assert fake_sbsys.token_requests == 2  # one new token, one retry, no loop
    assert fake_sbsys.api_requests[-2:] == ["POST /api/sag/search"] * 2
    assert fake_sbsys.filings[1:] == []
    for token in fake_sbsys.issued_tokens:
        assert token not in caplog.text


def _clock(monkeypatch):
    class Clock:
        now = 1_800_000_000.0

        def time(self) -> float:
            return self.now

        def monotonic(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(sbsys, "time", clock)
    return clock


def test_token_is_renewed_shortly_before_it_expires(fake_sbsys, monkeypatch):
    clock = _clock(monkeypatch)
    fake_sbsys.add_case(CPR)
    SbsysCaseSystem().file(filing_request(reference="AP-00000001"))

    clock.now += 300 - 31
    SbsysCaseSystem().file(filing_request(reference="AP-00000002"))
    assert fake_sbsys.token_requests == 1

    clock.now += 2  # within the last 30 seconds of the token's 300
    adapter = SbsysCaseSystem()
    adapter.file(filing_request(reference="AP-00000003"))
    assert fake_sbsys.token_requests == 2

    clock.now += 300  # long expired, also for an adapter that held it
    adapter.file(filing_request(reference="AP-00000004"))
    assert fake_sbsys.token_requests == 3
    assert len(fake_sbsys.filings) == 4


def test_the_token_is_never_logged(fake_sbsys, caplog):
    caplog.set_level(logging.DEBUG)
    fake_sbsys.add_case(CPR)
    adapter = SbsysCaseSystem()
    adapter.file(filing_request(reference="AP-00000001"))
    fake_sbsys.expire_tokens()
    adapter.file(filing_request(reference="AP-00000002"))

    assert len(fake_sbsys.issued_tokens) == 2
    for token in fake_sbsys.issued_tokens:
        assert token not in caplog.text


def test_wrong_credentials_need_a_person(fake_sbsys, settings):
    settings.SBSYS_PASSWORD = "forkert"
    fake_sbsys.add_case(CPR)

    with pytest.raises(ManualFilingError, match="HTTP 401"):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.api_requests == []


@pytest.mark.parametrize("statuses", [[], ["Afsluttet"]])
def test_no_active_personnel_case_needs_a_person(fake_sbsys, statuses):
    for status in statuses:
        fake_sbsys.add_case(CPR, status=status)

    with pytest.raises(ManualFilingError, match="Ingen aktiv personalesag"):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings == []


def test_several_active_personnel_cases_need_a_person(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.add_case(CPR)
    fake_sbsys.add_case(CPR, status="Afsluttet")

    with pytest.raises(ManualFilingError, match=re.escape("personalesager fundet i SBSYS (2)")):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings == []
    assert fake_sbsys.api_requests == ["POST /api/sag/search"]


def test_only_closed_personnel_cases_need_a_person(fake_sbsys):
    fake_sbsys.add_case(CPR, status="Afsluttet")
    fake_sbsys.add_case(CPR, status="Afsluttet")

    with pytest.raises(ManualFilingError, match="Ingen aktiv personalesag"):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings == []


def test_case_type_given_by_id_is_searched_by_id(fake_sbsys, settings):
    settings.SBSYS_CASE_TYPE = "5"  # as sbsys-ekstern searches: {"Id": 5}
    fake_sbsys.add_case(CPR, kind="BorgerSag")
    case = fake_sbsys.add_case(CPR)

    SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.searches[0]["SagsTyper"] == [{"Id": 5}]
    assert [f.case_id for f in fake_sbsys.filings] == [case.id]


def test_case_type_given_by_name_is_searched_by_name(fake_sbsys, settings):
    settings.SBSYS_CASE_TYPE = "BorgerSag"
    fake_sbsys.add_case(CPR)
    case = fake_sbsys.add_case(CPR, kind="BorgerSag")

    SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.searches[0]["SagsTyper"] == [{"Navn": "BorgerSag"}]
    assert [f.case_id for f in fake_sbsys.filings] == [case.id]


def test_wrong_case_type_id_finds_no_personnel_case(fake_sbsys, settings):
    settings.SBSYS_CASE_TYPE = "2"
    fake_sbsys.add_case(CPR)

    with pytest.raises(ManualFilingError, match="Ingen aktiv personalesag"):
        SbsysCaseSystem().file(filing_request())


def test_number_prefix_alone_picks_the_personnel_case_among_all_cases(fake_sbsys, settings):
    # As sbsys-ekstern does: no case type in the search, the KLE number decides.
    settings.SBSYS_CASE_TYPE = ""
    settings.SBSYS_CASE_NUMBER_PREFIX = "81.03.00-G01"
    fake_sbsys.add_case(CPR, kind="BorgerSag")  # active too, but a social case
    case = fake_sbsys.add_case(CPR)

    SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.searches == [{"PrimaerPerson": {"CprNummer": "010190-4321"}}]
    assert [f.case_id for f in fake_sbsys.filings] == [case.id]


def test_number_prefix_narrows_the_case_type_too(fake_sbsys, settings):
    settings.SBSYS_CASE_NUMBER_PREFIX = "81.03.00-G01-7"
    fake_sbsys.add_case(CPR, number="81.03.00-G01-12-25")
    case = fake_sbsys.add_case(CPR, number="81.03.00-G01-7-25")

    SbsysCaseSystem().file(filing_request())

    assert [f.case_id for f in fake_sbsys.filings] == [case.id]


def test_number_prefix_matching_no_active_case_needs_a_person(fake_sbsys, settings):
    settings.SBSYS_CASE_TYPE = ""
    settings.SBSYS_CASE_NUMBER_PREFIX = "81.03.00-G01"
    fake_sbsys.add_case(CPR, kind="BorgerSag")

    with pytest.raises(ManualFilingError, match="Ingen aktiv personalesag"):
        SbsysCaseSystem().file(filing_request())


def test_neither_case_type_nor_prefix_set_needs_a_person_before_any_request(fake_sbsys, settings):
    settings.SBSYS_CASE_TYPE = ""
    settings.SBSYS_CASE_NUMBER_PREFIX = " "
    fake_sbsys.add_case(CPR)

    with pytest.raises(ManualFilingError, match="SBSYS_CASE_TYPE"):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.api_requests == []
    assert fake_sbsys.token_requests == 0


def test_folder_is_found_by_title_and_its_upper_case_id(fake_sbsys, settings):
    settings.SBSYS_FOLDER_TITLE = "07 Løn"
    case = fake_sbsys.add_case(CPR, folders=("01 Ansættelse", "07 Løn", "08 Straffeattester"))

    SbsysCaseSystem().file(filing_request())

    [filing] = fake_sbsys.filings
    assert case.folders[filing.folder_id] == "07 Løn"
    assert fake_sbsys.api_requests[-1] == f"POST /api/dokument/journaliser/{filing.folder_id}"


def test_two_folders_with_the_title_need_a_person(fake_sbsys):
    fake_sbsys.add_case(CPR, folders=("08 Straffeattester", "08 Straffeattester"))

    with pytest.raises(ManualFilingError, match=re.escape("har 2 delforløb med titlen »")):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings == []


def test_empty_answer_to_the_filing_counts_as_filed(fake_sbsys):
    case = fake_sbsys.add_case(CPR)
    fake_sbsys.empty_filing_answers = True

    reference = SbsysCaseSystem().file(filing_request())

    assert reference == f"{case.number} / AP-00000042"
    assert len(fake_sbsys.filings) == 1


def test_document_art_is_configurable_and_can_be_left_out(fake_sbsys, settings):
    fake_sbsys.add_case(CPR)
    settings.SBSYS_DOCUMENT_ART_ID = 3
    SbsysCaseSystem().file(filing_request(reference="AP-00000001"))
    settings.SBSYS_DOCUMENT_ART_ID = 0  # as the Node-RED flow files: no DokumentArt
    SbsysCaseSystem().file(filing_request(reference="AP-00000002"))

    assert fake_sbsys.filings[0].metadata["DokumentArt"] == {"Id": 3}
    assert "DokumentArt" not in fake_sbsys.filings[1].metadata


def test_filing_logs_no_cpr(fake_sbsys, caplog):
    caplog.set_level(logging.DEBUG)
    fake_sbsys.add_case(CPR)  # its title in the search answer carries the CPR number

    SbsysCaseSystem().file(filing_request())

    assert "AP-00000042" in caplog.text
    for cpr in CPR_FORMS:
        assert cpr not in caplog.text


def test_case_without_the_certificate_folder_needs_a_person(fake_sbsys):
    fake_sbsys.add_case(CPR, folders=("01 Ansættelse", "07 Løn"))

    with pytest.raises(ManualFilingError, match="»08 Straffeattester«"):
        SbsysCaseSystem().file(filing_request())

    assert fake_sbsys.filings == []


def test_rate_limit_asks_to_wait_one_second(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.rate_limit = 2  # the filing's third call in the same second is refused

    with pytest.raises(
        TemporaryFilingError, match=re.escape("SBSYS beder os vente (HTTP 429, journalisering).")
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert caught.value.retry_after == datetime.timedelta(seconds=1)
    assert not caught.value.uncertain
    assert not re.search(MAYBE_FILED, str(caught.value))
    assert fake_sbsys.filings == []


def test_retry_after_given_as_a_date_is_honoured(fake_sbsys):
    fake_sbsys.add_case(CPR)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)
    fake_sbsys.fail_next(status=429, headers={"Retry-After": format_datetime(later, usegmt=True)})

    with pytest.raises(
        TemporaryFilingError, match=re.escape("(HTTP 429, søgning efter personalesag)")
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert not caught.value.uncertain
    wait = caught.value.retry_after
    assert datetime.timedelta(minutes=9) < wait <= datetime.timedelta(minutes=10)


def test_server_error_before_filing_is_temporary_and_certain(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.fail_next(status=500)
    adapter = SbsysCaseSystem()

    with pytest.raises(
        TemporaryFilingError,
        match=re.escape("SBSYS svarede med en fejl (HTTP 500, søgning efter personalesag)."),
    ) as caught:
        adapter.file(filing_request())

    assert not caught.value.uncertain
    assert not re.search(MAYBE_FILED, str(caught.value))
    assert caught.value.retry_after is None
    assert fake_sbsys.filings == []
    adapter.file(filing_request())
    assert len(fake_sbsys.filings) == 1


def test_gateway_error_on_the_filing_itself_is_uncertain(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.fail_next(status=502, path_prefix="/api/dokument/journaliser/")

    with pytest.raises(
        TemporaryFilingError,
        match=re.escape("SBSYS svarede med en fejl (HTTP 502, journalisering). ") + MAYBE_FILED,
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert caught.value.uncertain
    assert caught.value.retry_after is None


def test_client_error_needs_a_person_without_quoting_sbsys(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.fail_next(status=400)  # its body echoes the search, CPR included

    with pytest.raises(ManualFilingError, match="HTTP 400") as caught:
        SbsysCaseSystem().file(filing_request())

    assert "4321" not in str(caught.value)


def test_timeout_on_the_filing_is_uncertain(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.stall_next_filing()

    with pytest.raises(
        TemporaryFilingError,
        match=r"SBSYS svarede ikke inden for \S+ sekunder "
        r"\(journalisering\)\. " + MAYBE_FILED,
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert caught.value.uncertain
    assert fake_sbsys.filings == []  # not yet: SBSYS may still file it


def test_lost_answer_after_filing_is_uncertain(fake_sbsys):
    fake_sbsys.add_case(CPR)
    fake_sbsys.lose_next_answer()

    with pytest.raises(
        TemporaryFilingError,
        match=r"SBSYS svarede ikke inden for \S+ sekunder "
        r"\(journalisering\)\. " + MAYBE_FILED,
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert caught.value.uncertain
    assert len(fake_sbsys.filings) == 1


def test_sbsys_unreachable_before_filing_is_certain(fake_sbsys, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.SBSYS_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nobody listens

    with pytest.raises(
        TemporaryFilingError,
        match=re.escape("Ingen forbindelse til SBSYS (søgning efter personalesag)."),
    ) as caught:
        SbsysCaseSystem().file(filing_request())

    assert not caught.value.uncertain
    assert not re.search(MAYBE_FILED, str(caught.value))


def test_find_cannot_look_up_and_says_so(fake_sbsys):
    assert SbsysCaseSystem().find(filing_request()) is None


FAILURES: dict[str, Callable[[FakeSbsys], None]] = {
    "no case": lambda fake: None,
    "several cases": lambda fake: [fake.add_case(CPR), fake.add_case(CPR)],
    "no folder": lambda fake: fake.add_case(CPR, folders=("01 Ansættelse",)),
    "two folders": lambda fake: fake.add_case(CPR, folders=(FOLDER, FOLDER)),
    "rate limit": lambda fake: [fake.add_case(CPR), fake.fail_next(status=429)],
    "server error": lambda fake: [fake.add_case(CPR), fake.fail_next(status=500)],
    "bad request": lambda fake: [fake.add_case(CPR), fake.fail_next(status=400)],
    "bad filing": lambda fake: [
        fake.add_case(CPR),
        fake.fail_next(status=422, path_prefix="/api/dokument/"),
    ],
    "timeout": lambda fake: [fake.add_case(CPR), fake.stall_next_filing()],
    "lost answer": lambda fake: [fake.add_case(CPR), fake.lose_next_answer()],
}
# What each failure above must raise: the error class and the start of its message.
EXPECTED: dict[str, tuple[type[Exception], str]] = {
    "no case": (ManualFilingError, "Ingen aktiv personalesag fundet i SBSYS."),
    "several cases": (ManualFilingError, "Flere aktive personalesager fundet i SBSYS (2)"),
    "no folder": (ManualFilingError, "Personalesagen har intet delforløb med titlen »"),
    "two folders": (ManualFilingError, "Personalesagen har 2 delforløb med titlen »"),
    "rate limit": (TemporaryFilingError, "SBSYS beder os vente (HTTP 429, søgning"),
    "server error": (TemporaryFilingError, "SBSYS svarede med en fejl (HTTP 500, søgning"),
    "bad request": (ManualFilingError, "SBSYS afviste kaldet (HTTP 400, søgning"),
    "bad filing": (ManualFilingError, "SBSYS afviste kaldet (HTTP 422, journalisering)."),
    "timeout": (TemporaryFilingError, "SBSYS svarede ikke inden for"),
    "lost answer": (TemporaryFilingError, "SBSYS svarede ikke inden for"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_no_cpr_in_error_messages_or_logs(fake_sbsys, caplog, failure):
    caplog.set_level(logging.DEBUG)
    FAILURES[failure](fake_sbsys)

    error, message = EXPECTED[failure]
    with pytest.raises(error, match="^" + re.escape(message)) as caught:
        SbsysCaseSystem().file(filing_request())

    for cpr in CPR_FORMS:
        assert cpr not in str(caught.value)
        assert cpr not in caplog.text
