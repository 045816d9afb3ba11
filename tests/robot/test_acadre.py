"""Filing in Formpipe Acadre, against a fake PWS that checks every request against
Acadre's published schemas (tests/robot/fake_acadre.py)."""
# ruff: noqa: F811 (the imported fixture is, by pytest's design, redefined as an argument)

import logging

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from robot.esdh import FilingRequest, ManualFilingError, TemporaryFilingError, case_system

from .fake_acadre import ACTING_USER, PASSWORD, USERNAME, FakeAcadre, fake_acadre  # noqa: F401

CPR = "0101904321"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def filing_request(reference: str = "AP-00000042", cpr: str = CPR) -> FilingRequest:
    return FilingRequest(
        reference=reference,
        cpr=cpr,
        person_key="a1b2c3d4e5f6a1b2c3d4e5f6",
        document_name="Børneattest 27.11.2026",
        content=PDF,
        filename=f"{reference}.pdf",
        metadata={"kind": "child"},
    )


def test_files_the_pdf_in_the_one_open_personnel_case(fake_acadre: FakeAcadre):
    fake_acadre.add_case(CPR, status="A")  # closed
    fake_acadre.add_case(CPR, type_code="BGSAG")  # a citizen case
    fake_acadre.add_case("0101904322")  # another person whose number shares the start
    case = fake_acadre.add_case(CPR)

    reference = case_system().file(filing_request())

    [document] = fake_acadre.in_case(case)
    assert document.content == PDF
    assert document.filename == "AP-00000042.pdf"
    assert document.title == "Børneattest 27.11.2026 [AP-00000042]"
    assert document.record["CaseFileReference"] == str(case.id)
    assert reference == f"{case.number} / {document.id}"
    assert fake_acadre.searches == [{"title": CPR + "*", "type": "PERSAG"}]
    assert set(fake_acadre.acting_users) == {ACTING_USER}


def test_the_cpr_number_is_searched_without_its_dash(fake_acadre):
    case = fake_acadre.add_case(CPR, title=CPR)  # Syddjurs CreateCase: the title is the number

    case_system().file(filing_request(cpr="010190-4321"))

    assert len(fake_acadre.in_case(case)) == 1
    assert fake_acadre.searches[0]["title"] == CPR + "*"


def test_filing_again_finds_the_document_and_files_nothing(fake_acadre):
    fake_acadre.add_case(CPR)
    first = case_system().file(filing_request())

    assert case_system().find(filing_request()) == first
    assert case_system().file(filing_request()) == first
    assert len(fake_acadre.documents) == 1
    assert case_system().find(filing_request("AP-1")) is None


def test_no_open_personnel_case_goes_to_a_person(fake_acadre):
    fake_acadre.add_case(CPR, status="A")

    with pytest.raises(ManualFilingError, match="Ingen åben personalesag"):
        case_system().file(filing_request())
    assert fake_acadre.documents == {}


def test_several_open_personnel_cases_go_to_a_person(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.add_case(CPR)

    with pytest.raises(ManualFilingError, match="2"):
        case_system().file(filing_request())
    assert fake_acadre.documents == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_temporary_and_a_retry_files(fake_acadre, status):
    fake_acadre.add_case(CPR)
    fake_acadre.fail_next(status=status)

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is False  # it failed in the search, before any filing

    case_system().file(filing_request())
    assert len(fake_acadre.documents) == 1


def test_a_server_fault_on_the_filing_is_uncertain(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.fault_next("Server", operation="CreateMainDocument")

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())

    assert caught.value.uncertain is True


def test_a_lost_answer_is_uncertain_and_find_settles_it(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.lose_next_answer()

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is True
    assert len(fake_acadre.documents) == 1  # stored, though the answer came too late

    reference = case_system().find(filing_request())
    assert reference is not None
    assert case_system().file(filing_request()) == reference
    assert len(fake_acadre.documents) == 1


def test_a_client_fault_goes_to_a_person_without_quoting_acadre(fake_acadre, caplog):
    caplog.set_level(logging.DEBUG)
    fake_acadre.add_case(CPR)
    fake_acadre.fault_next("Client")

    with pytest.raises(ManualFilingError, match="SOAP-fejl Client") as caught:
        case_system().file(filing_request())

    seen = str(caught.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert CPR not in seen and "010190" not in seen


def test_a_server_fault_is_temporary(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.fault_next("Server")

    with pytest.raises(TemporaryFilingError, match="SOAP-fejl Server"):
        case_system().file(filing_request())


def test_a_429_is_honoured_with_retry_after(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.fail_next(status=429, headers={"Retry-After": "7"})

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())

    assert caught.value.retry_after is not None
    assert caught.value.retry_after.total_seconds() == 7
    assert fake_acadre.documents == {}


def test_a_bad_request_goes_to_a_person_without_echoing_it(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.fail_next(status=400)

    with pytest.raises(ManualFilingError, match="HTTP 400") as caught:
        case_system().file(filing_request())
    assert "010190" not in str(caught.value)


def test_a_filing_that_times_out_before_storing_is_uncertain_then_filed_once(fake_acadre):
    fake_acadre.add_case(CPR)
    fake_acadre.stall_next_filing()

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is True
    assert fake_acadre.documents == {}

    assert case_system().find(filing_request()) is None
    case_system().file(filing_request())
    assert len(fake_acadre.documents) == 1


def test_wrong_credentials_are_a_clear_manual_error(fake_acadre, settings):
    fake_acadre.add_case(CPR)
    settings.ACADRE_PASSWORD = "forkert"

    with pytest.raises(ManualFilingError, match="401"):
        case_system().file(filing_request())
    assert fake_acadre.failed_logins >= 1
    assert fake_acadre.documents == {}


def test_no_connection_is_temporary_and_certain(settings):
    settings.ESDH_BACKEND = "acadre"
    settings.ACADRE_URL = "http://127.0.0.1:9/AcadreServiceV7.asmx"
    settings.ACADRE_USERNAME, settings.ACADRE_PASSWORD = "K\\u", "p"
    settings.ACADRE_ACTING_USER = "ATTEST"
    settings.ACADRE_TIMEOUT = 1.0

    with pytest.raises(TemporaryFilingError, match="Ingen forbindelse") as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is False


def test_missing_settings_say_which(settings):
    settings.ESDH_BACKEND = "acadre"
    settings.ACADRE_URL = ""

    with pytest.raises(ManualFilingError, match="ACADRE_URL"):
        case_system().file(filing_request())


def test_every_request_takes_a_slot_of_the_shared_rate_limit_first(fake_acadre):
    fake_acadre.add_case(CPR)
    calls = []

    case_system(throttle=lambda: calls.append(len(fake_acadre.calls))).file(filing_request())

    assert fake_acadre.calls == ["SearchCases", "GetCase", "GetAllDocuments", "CreateMainDocument"]
    # Each slot is taken before its request reaches Acadre.
    assert calls == [0, 1, 2, 3]


def test_the_connection_test_files_nothing_and_masks_the_number(fake_acadre):
    case = fake_acadre.add_case(CPR)

    summary = case_system().check_connection(CPR)

    assert case.number in summary
    assert CPR not in summary
    assert fake_acadre.documents == {}


def test_the_fake_refuses_a_request_outside_the_schema(fake_acadre):
    # The fake is only worth its tests if it holds requests to Acadre's schema.
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<AdvancedSearchCaseCriterion2 xmlns="http://www.traen.com/2010/06/01"><Nonsense/>'
        "</AdvancedSearchCaseCriterion2></soap:Body></soap:Envelope>"
    )
    answer = requests.post(
        fake_acadre.url,
        data=envelope,
        headers={"SOAPAction": '"http://www.traen.com/2010/06/01/schema/SearchCases"'},
        auth=HttpNtlmAuth(USERNAME, PASSWORD),
        timeout=5,
    )
    assert answer.status_code == 500
    assert b"soap:Client" in answer.content
