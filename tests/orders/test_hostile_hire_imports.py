"""Hostile and broken new-hire input, from SD Løn's web service and from an uploaded
report: each is refused with a Danish reason (the row when a row is to blame), nothing is
applied from a refused delivery, the run is recorded with its reason, and payroll is told
by e-mail when a poll fails. No CPR number is kept in a summary or a file name."""

import datetime
import gzip
import re
import time

import pytest
from django.urls import reverse
from django.utils import translation
from werkzeug import Response

from bench.hostile_imports import sd_answer_chunks, sd_answer_with_late_dtd, xlsx_with_rows
from orders import hires
from orders.hires import SourceError
from orders.models import Hire, HireImport, Notification, UnreadHire

from ..factories import make_cpr
from .test_sd_source import PATH, answer, sd  # noqa: F401  (sd is a fixture)

HEADER = "Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode;Status"


@pytest.fixture(autouse=True)
def danish():
    """What payroll reads: the portal speaks Danish."""
    with translation.override("da"):
        yield


@pytest.fixture
def polled(sd, settings, payroll):  # noqa: F811
    settings.PAYROLL_EMAIL = "loen@kommune.dk"
    settings.SD_MAX_RESPONSE_MB = 1
    return sd


def assert_failed_and_payroll_told(record: HireImport, reason: str) -> None:
    assert record.state == HireImport.State.FAILED
    assert record.error == reason
    assert not Hire.objects.exists()
    assert hires.failed_polls() == record
    email = Notification.objects.get(template="sd_poll_failed")
    assert email.to == "loen@kommune.dk"
    assert email.subject == "Nyansatte kunne ikke hentes fra SD Løn"
    assert reason in email.body


def test_an_sd_answer_with_its_dtd_after_the_first_bytes_is_refused(polled):
    polled.expect_oneshot_request(PATH).respond_with_data(sd_answer_with_late_dtd(3000))

    record = hires.poll_sd()

    assert_failed_and_payroll_told(
        record, "SD Løns svar indeholder en DTD eller entiteter og er ikke læst."
    )


def test_an_sd_answer_larger_than_the_limit_is_cut_off_while_it_streams(polled):
    # No Content-Length to refuse it by: only reading it tells its size.
    polled.expect_oneshot_request(PATH).respond_with_response(
        Response(sd_answer_chunks(5), content_type="text/xml", direct_passthrough=True)
    )

    record = hires.poll_sd()

    assert_failed_and_payroll_told(record, "SD Løns svar er større end 1 MB; det er ikke læst.")


def test_an_sd_answer_that_drips_ends_at_the_deadline(polled, settings):
    settings.SD_MAX_RESPONSE_SECONDS = 0.5

    def drip():
        yield b"<GetEmploymentChangedAtDate20111201>"
        for _ in range(50):
            time.sleep(0.1)  # each piece well inside SD_TIMEOUT: only the total is late
            yield b" "

    polled.expect_oneshot_request(PATH).respond_with_response(
        Response(drip(), content_type="text/xml", direct_passthrough=True)
    )
    started = time.monotonic()

    record = hires.poll_sd()

    assert time.monotonic() - started < 2
    assert_failed_and_payroll_told(record, "SD Løn svarede ikke i tide.")


def test_an_sd_answer_that_declares_its_size_is_refused_before_reading(polled):
    polled.expect_oneshot_request(PATH).respond_with_data(b"<x>" + b" " * (2 * 1024 * 1024))

    assert_failed_and_payroll_told(
        hires.poll_sd(), "SD Løns svar er større end 1 MB; det er ikke læst."
    )


def test_a_compressed_sd_answer_is_measured_unpacked(polled):
    bomb = gzip.compress(b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>")  # 5 MB in 5 KB
    polled.expect_oneshot_request(PATH).respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="text/xml"
    )

    assert_failed_and_payroll_told(
        hires.poll_sd(), "SD Løns svar er større end 1 MB; det er ikke læst."
    )


def test_a_compressed_sd_answer_of_honest_size_is_read(polled):
    polled.expect_oneshot_request(PATH).respond_with_data(
        gzip.compress(answer(make_cpr()).encode()),
        headers={"Content-Encoding": "gzip"},
        content_type="text/xml",
    )

    assert hires.poll_sd().state == HireImport.State.APPLIED
    assert Hire.objects.get().source_key == "emp:00123"


def test_payroll_is_told_once_while_sd_keeps_failing_for_the_same_reason(polled):
    for _ in range(3):
        polled.expect_oneshot_request(PATH).respond_with_data("Internal error", status=500)
        hires.poll_sd()

    assert HireImport.objects.filter(state=HireImport.State.FAILED).count() == 3
    assert Notification.objects.filter(template="sd_poll_failed").count() == 1


def test_an_over_long_employment_id_is_a_row_error_and_the_others_are_applied(polled):
    bad = re.search(r"<Person>.*</Person>", answer(make_cpr()), re.S).group(0)
    end = "</GetEmploymentChangedAtDate20111201>"
    body = answer(make_cpr()).replace(end, bad.replace("00123", "7" * 300) + end)
    polled.expect_oneshot_request(PATH).respond_with_data(body, content_type="text/xml")

    record = hires.poll_sd()

    assert record.state == HireImport.State.APPLIED
    assert Hire.objects.get().source_key == "emp:00123"
    assert [e["message"] for e in record.summary["errors"]] == [
        "Række 2: Værdien i feltet “ansættelsesnummer” er længere end 100 tegn."
    ]
    unread = UnreadHire.objects.get()
    assert len(unread.employment_id) == 100 and not unread.key.startswith("emp:")
    # Polled again, the same bad employment is the same unread one, not a new row or a crash.
    polled.expect_oneshot_request(PATH).respond_with_data(body, content_type="text/xml")
    assert hires.poll_sd().state == HireImport.State.APPLIED
    assert UnreadHire.objects.get().attempts == 2


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def in_days(days: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=days)).strftime("%d.%m.%Y")


@pytest.fixture
def hr_setup(school, teacher, school_area):
    from orders.models import JobCode

    school.external_id = "SKOLE1"
    school.save()
    JobCode.objects.create(area=school_area, code="1234", title="Lærer", profile=teacher)
    return school


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (
            csv_file(f"E1;Anna Hansen;0101901234;SKOLE1;{in_days(20)};1234;").replace(
                b"Anna", b"Anna \x81"
            ),
            "nyansatte.csv",
            "Filen er ikke tekst i UTF-8 eller Windows-1252; gem den igen som CSV (UTF-8).",
        ),
        (xlsx_with_rows(300), "nyansatte.xlsx", "Filen har mere end 100 rækker; den er ikke læst."),
    ],
    ids=["not-text", "too-many-rows"],
)
def test_a_hostile_upload_is_refused_and_recorded_with_its_reason(
    hr_setup, payroll, client, settings, data, filename, reason
):
    settings.IMPORT_MAX_ROWS = 100

    with pytest.raises(SourceError, match=re.escape(reason)):
        hires.start_file_import(data=data, filename=filename, by=payroll)

    record = HireImport.objects.get()
    assert (record.state, record.error) == (HireImport.State.FAILED, reason)
    assert not Hire.objects.exists()
    client.force_login(payroll)
    assert reason in client.get(reverse("payroll:hire_imports")).content.decode()


def test_a_bad_value_in_an_upload_is_a_row_error_not_a_server_error(hr_setup, payroll, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_file(
        f"{'9' * 300};Anna Hansen;0101901234;SKOLE1;{in_days(20)};1234;",
        f"E2;Bo Berg;0101901235;SKOLE1;{in_days(20)};12\x0034;",
    )
    client.force_login(payroll)

    response = client.post(
        reverse("payroll:hire_imports"),
        {"file": SimpleUploadedFile("nyansatte.csv", data)},
        follow=True,
    )

    assert response.status_code == 200
    record = HireImport.objects.get()
    assert [e["message"] for e in record.summary["errors"]] == [
        "Række 2: Værdien i feltet “ansættelsesnummer” er længere end 100 tegn.",
        "Række 3: Værdien i feltet “stillingskode” indeholder styretegn (f.eks. NUL).",
    ]


def test_no_cpr_number_is_kept_in_a_summary_or_a_file_name(hr_setup, payroll):
    record = hires.start_file_import(
        data=csv_file(f"E1;Anna Hansen;0101901234;251296-1236;{in_days(20)};1234;"),
        filename="nyansat 251296-1236.csv",
        by=payroll,
    )

    assert record.filename == "nyansat 251296-xxxx.csv"
    assert [e["message"] for e in record.summary["errors"]] == [
        "Række 2: Enheden “251296-xxxx” kendes ikke eller er lukket."
    ]


def test_the_e_mail_about_a_failed_poll_carries_no_cpr_number(polled):
    polled.expect_oneshot_request(PATH).respond_with_data(
        '<?xml version="1.0"?><Envelope><Body><Fault><faultstring>'
        "Person 2512961236 findes ikke</faultstring></Fault></Body></Envelope>"
    )

    hires.poll_sd()

    email = Notification.objects.get(template="sd_poll_failed")
    assert "2512961236" not in email.body and "251296-xxxx" in email.body
