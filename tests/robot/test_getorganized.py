"""The GetOrganized adapter against a fake GetOrganized speaking real HTTP (and NTLM)."""
# ruff: noqa: F811 (the imported fixture is, by pytest's design, redefined as an argument)

import pytest
from django.urls import reverse
from django.utils import timezone

from robot import filing
from robot.esdh import FilingRequest, ManualFilingError, TemporaryFilingError, case_system
from robot.models import FilingJob

from ..factories import UserFactory
from .fake_getorganized import FakeGetOrganized, fake_getorganized  # noqa: F401
from .fake_sbsys import FakeSbsys
from .test_pipeline import receive

CPR = "0101904321"
CPR_FORMS = (CPR, "010190-4321")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def filing_request(reference: str = "AP-00000042") -> FilingRequest:
    return FilingRequest(
        reference=reference,
        cpr=CPR,
        person_key="a1b2c3d4e5f6a1b2c3d4e5f6",
        document_name="Børneattest 27.11.2026",
        content=PDF,
        filename=f"{reference}.pdf",
    )


def test_certificate_is_filed_and_journalised_in_the_one_open_personnel_case(
    fake_getorganized: FakeGetOrganized,
):
    fake_getorganized.add_case(CPR, is_open=False)
    fake_getorganized.add_case(CPR, prefix="BOR")
    fake_getorganized.add_case("0202902222")
    case = fake_getorganized.add_case(CPR)
    fake_getorganized.add_folder_case(case, "Ansættelse")  # a sub-case is never chosen

    reference = case_system().file(filing_request())

    [document] = fake_getorganized.documents.values()
    assert reference == f"{case.id} / {document.id}"
    assert document.case_id == case.id and document.folder == ""
    assert document.filename == "Børneattest 27.11.2026 [AP-00000042].pdf"
    assert document.title == "Børneattest 27.11.2026 [AP-00000042]"
    # Never on the municipality's public post list.
    assert document.metadata["ows_CCMMustBeOnPostList"] == "0"
    assert document.content == PDF
    assert document.finalized
    [search] = fake_getorganized.searches
    assert (search["QueryPhrase"], search["CaseTypePrefixes"], search["TrimToOpenedCases"]) == (
        CPR,
        ["PER"],
        True,
    )
    # Search, look in the case, upload, journalise: each authenticated with NTLM.
    assert len(fake_getorganized.api_requests) == 4
    assert fake_getorganized.handshakes == 4


def test_a_configured_folder_is_used_and_a_missing_one_goes_to_a_person(
    fake_getorganized: FakeGetOrganized, settings
):
    settings.GETORGANIZED_FOLDER_PATH = "Straffeattester"
    case = fake_getorganized.add_case(CPR, folders=("Straffeattester",))
    case_system().file(filing_request())
    [document] = fake_getorganized.documents.values()
    assert document.folder == "Straffeattester"

    settings.GETORGANIZED_FOLDER_PATH = "Findes ikke"
    with pytest.raises(ManualFilingError, match="404"):
        case_system().file(filing_request("AP-2"))
    assert case.id and len(fake_getorganized.documents) == 1


def test_without_journalising_the_document_is_left_open(
    fake_getorganized: FakeGetOrganized, settings
):
    settings.GETORGANIZED_FINALIZE = False
    fake_getorganized.add_case(CPR)

    reference = case_system().file(filing_request())

    [document] = fake_getorganized.documents.values()
    assert not document.finalized
    assert case_system().find(filing_request()) == reference


def test_a_failed_journalising_is_finished_without_a_second_upload(
    fake_getorganized: FakeGetOrganized,
):
    fake_getorganized.add_case(CPR)
    fake_getorganized.fail_next(status=503, path_prefix="/_goapi/Documents/Finalize")

    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is False
    [document] = fake_getorganized.documents.values()
    assert not document.finalized

    case_system().file(filing_request())

    assert list(fake_getorganized.documents.values()) == [document]
    assert document.finalized and document.versions == 1


def test_an_empty_upload_answer_is_settled_by_looking_in_the_case(
    fake_getorganized: FakeGetOrganized,
):
    case = fake_getorganized.add_case(CPR)
    fake_getorganized.empty_upload_answers = True

    reference = case_system().file(filing_request())

    [document] = fake_getorganized.documents.values()
    assert reference == f"{case.id} / {document.id}"
    assert document.finalized


def test_a_slow_upload_is_uncertain_and_a_slow_search_is_not(
    fake_getorganized: FakeGetOrganized,
):
    fake_getorganized.add_case(CPR)
    fake_getorganized.stall_next_upload()
    with pytest.raises(TemporaryFilingError, match="inden for 1 sekunder") as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is True

    fake_getorganized.fail_next(status=504, path_prefix="/_goapi/search")
    with pytest.raises(TemporaryFilingError) as caught:
        case_system().file(filing_request())
    assert caught.value.uncertain is False


def test_basic_authentication_where_go_is_set_up_for_it(
    fake_getorganized: FakeGetOrganized, settings
):
    fake_getorganized.auth = "basic"
    settings.GETORGANIZED_AUTH = "basic"
    fake_getorganized.add_case(CPR)

    case_system().file(filing_request())

    assert len(fake_getorganized.documents) == 1
    assert fake_getorganized.handshakes == 0


def test_not_set_up_goes_to_a_person(fake_getorganized: FakeGetOrganized, settings):
    settings.GETORGANIZED_URL = ""
    with pytest.raises(ManualFilingError, match="GETORGANIZED_URL"):
        case_system().file(filing_request())
    settings.GETORGANIZED_URL = fake_getorganized.url
    settings.GETORGANIZED_PASSWORD = ""
    with pytest.raises(ManualFilingError, match="GETORGANIZED_PASSWORD"):
        case_system().file(filing_request())
    assert fake_getorganized.api_requests == []


# The administrator's connection test


def test_connection_test_finds_the_test_case_and_files_nothing(
    fake_getorganized: FakeGetOrganized, settings
):
    case = fake_getorganized.add_case(CPR)
    settings.ESDH_TEST_CPR = CPR

    summary = case_system().check_connection(CPR)

    assert case.id in summary and "010190-xxxx" in summary
    assert "4321" not in summary
    assert fake_getorganized.documents == {}
    assert all(not r.startswith("POST /_goapi/Documents") for r in fake_getorganized.api_requests)


def test_connection_test_for_sbsys(fake_sbsys: FakeSbsys, settings):
    case = fake_sbsys.add_case(CPR)
    settings.ESDH_TEST_CPR = CPR

    summary = case_system().check_connection(CPR)

    assert case.number in summary and "010190-xxxx" in summary
    assert "4321" not in summary
    assert fake_sbsys.filings == []


def admin_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_administrator_page_shows_what_the_test_found(
    client, fake_getorganized: FakeGetOrganized, settings
):
    case = fake_getorganized.add_case(CPR)
    settings.ESDH_TEST_CPR = CPR
    admin_client(client)

    page = client.post(reverse("robot:esdh_connection")).content.decode()

    assert case.id in page and "010190-xxxx" in page
    assert not any(form in page for form in CPR_FORMS)


@pytest.mark.parametrize("backend", ["sbsys", "getorganized"])
def test_administrator_page_shows_the_error(
    client, fake_getorganized: FakeGetOrganized, fake_sbsys: FakeSbsys, settings, backend
):
    settings.ESDH_BACKEND = backend
    settings.ESDH_TEST_CPR = CPR
    settings.SBSYS_PASSWORD = settings.GETORGANIZED_PASSWORD = "forkert"
    admin_client(client)

    page = client.post(reverse("robot:esdh_connection")).content.decode()

    assert "401" in page and 'role="alert"' in page
    assert not any(form in page for form in CPR_FORMS)


def test_administrator_page_asks_for_a_test_person(client, settings):
    settings.ESDH_TEST_CPR = ""
    admin_client(client)

    page = client.post(reverse("robot:esdh_connection")).content.decode()

    assert "ESDH_TEST_CPR" in page


def test_a_job_whose_answer_was_lost_is_finished_without_a_second_copy(
    ordered_for, fake_getorganized: FakeGetOrganized
):
    case = fake_getorganized.add_case(CPR)
    ordered_for(CPR)
    document = receive("boerneattest_ren.pdf")
    fake_getorganized.lose_next_answer()

    assert filing.file_due() == 1
    job = FilingJob.objects.get(document=document)
    assert job.uncertain and job.state != FilingJob.State.FILED
    assert not any(form in job.last_error for form in CPR_FORMS)

    FilingJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    assert filing.file_due() == 1

    job.refresh_from_db()
    [stored] = fake_getorganized.documents.values()
    assert job.state == FilingJob.State.FILED
    assert job.esdh_reference == f"{case.id} / {stored.id}"
    assert stored.finalized and stored.versions == 1
