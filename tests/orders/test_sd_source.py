"""SD Løn's web service, against a fake SD on loopback that answers like SD, times out
and errs."""

import datetime
import time

import pytest
from django.utils import translation
from werkzeug import Response

from orders import hires
from orders.hr_sources import SDLoenSource, parse_sd_employments
from orders.models import Hire, HireImport, JobCode

from ..factories import make_cpr


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language, whatever translation is shipped."""
    with translation.override("en"):
        yield


SD_XML = """<?xml version="1.0" encoding="UTF-8"?>
<GetEmploymentChangedAtDate20111201 creationDateTime="2026-11-29T10:00:00">
  <RequestStructure><InstitutionIdentifier>XY</InstitutionIdentifier></RequestStructure>
  <Person>
    <PersonCivilRegistrationIdentifier>{cpr}</PersonCivilRegistrationIdentifier>
    <PersonGivenName>Anna</PersonGivenName><PersonSurnameName>Hansen</PersonSurnameName>
    <Employment>
      <EmploymentIdentifier>00123</EmploymentIdentifier>
      <EmploymentDate>{start}</EmploymentDate>
      <EmploymentDepartment>
        <ActivationDate>2026-01-01</ActivationDate><DeactivationDate>9999-12-31</DeactivationDate>
        <DepartmentIdentifier>SKOLE1</DepartmentIdentifier>
      </EmploymentDepartment>
      <Profession>
        <ActivationDate>2026-01-01</ActivationDate><DeactivationDate>9999-12-31</DeactivationDate>
        <JobPositionIdentifier>1234</JobPositionIdentifier><EmploymentName>Lærer</EmploymentName>
      </Profession>
      <EmploymentStatus>
        <ActivationDate>2026-01-01</ActivationDate><DeactivationDate>9999-12-31</DeactivationDate>
        <EmploymentStatusCode>{status}</EmploymentStatusCode>
      </EmploymentStatus>
    </Employment>
  </Person>
</GetEmploymentChangedAtDate20111201>"""

PATH = "/sdws/GetEmploymentChangedAtDate20111201"


@pytest.fixture
def sd(settings, httpserver, school, school_area, teacher):
    school.external_id = "SKOLE1"
    school.save()
    JobCode.objects.create(area=school_area, code="1234", profile=teacher)
    settings.SD_URL = httpserver.url_for("/sdws")
    settings.SD_USERNAME, settings.SD_PASSWORD = "sduser", "sdpass"
    settings.SD_INSTITUTION = "XY"
    settings.SD_TIMEOUT = 0.5
    return httpserver


def answer(cpr: str, status: str = "1", start: datetime.date | None = None) -> str:
    start = start or datetime.date.today() + datetime.timedelta(days=20)
    return SD_XML.format(cpr=cpr, status=status, start=start.isoformat())


def test_poll_asks_sd_with_its_parameters_and_creates_the_hire(sd):
    cpr = make_cpr()
    sd.expect_oneshot_request(
        PATH,
        method="GET",
        query_string={
            "InstitutionIdentifier": "XY",
            "ActivationDate": "30.10.2026",
            "DeactivationDate": "29.11.2026",
            "StatusActiveIndicator": "true",
            "StatusPassiveIndicator": "true",
            "EmploymentStatusIndicator": "true",
            "DepartmentIndicator": "true",
            "ProfessionIndicator": "true",
            "FutureInformationIndicator": "true",
        },
        headers={"Authorization": "Basic c2R1c2VyOnNkcGFzcw=="},
    ).respond_with_data(answer(cpr), content_type="text/xml")

    record = hires.poll_sd(today=datetime.date(2026, 11, 29))

    sd.check_assertions()
    assert record.state == HireImport.State.APPLIED
    hire = Hire.objects.get()
    assert (hire.full_name, hire.source_key, hire.status) == (
        "Anna Hansen",
        "emp:00123",
        Hire.Status.AWAITING_ORDER,
    )


def test_the_same_employment_polled_twice_is_one_hire_and_a_leaver_is_withdrawn(sd):
    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(answer(cpr))
    sd.expect_oneshot_request(PATH).respond_with_data(answer(cpr))
    sd.expect_oneshot_request(PATH).respond_with_data(answer(cpr, status="8"))
    for _ in range(3):
        hires.poll_sd()
    assert Hire.objects.get().status == Hire.Status.WITHDRAWN


def test_a_timeout_is_recorded_visible_and_the_period_asked_again(sd):
    def slow(request):
        time.sleep(1.0)
        return Response("late")

    sd.expect_oneshot_request(PATH).respond_with_handler(slow)
    today = datetime.date(2026, 11, 29)
    failed = hires.poll_sd(today=today)
    assert failed.state == HireImport.State.FAILED
    assert failed.error == "SD Løn did not answer in time." or "SD" in failed.error
    assert hires.failed_polls() == failed

    sd.expect_oneshot_request(PATH).respond_with_data(answer(make_cpr()))
    retried = hires.poll_sd(today=today + datetime.timedelta(days=1))
    assert retried.state == HireImport.State.APPLIED
    assert retried.period_start == failed.period_start  # nothing skipped
    assert hires.failed_polls() is None


@pytest.mark.parametrize(
    "respond",
    [
        lambda r: r.respond_with_data("Internal error", status=500),
        lambda r: r.respond_with_data("<html>not xml", content_type="text/html"),
        lambda r: r.respond_with_data(
            '<?xml version="1.0"?><Envelope><Body><Fault><faultstring>'
            "Access denied</faultstring></Fault></Body></Envelope>"
        ),
        lambda r: r.respond_with_data(
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
        ),
    ],
)
def test_sd_errors_are_failed_polls_that_apply_nothing(sd, respond, client, payroll):
    respond(sd.expect_oneshot_request(PATH))
    record = hires.poll_sd()
    assert record.state == HireImport.State.FAILED and record.error
    assert Hire.objects.count() == 0
    client.force_login(payroll)
    from django.urls import reverse
    from django.utils.html import escape

    assert escape(record.error) in client.get(reverse("payroll:hire_imports")).content.decode()


def test_an_unknown_department_fails_the_poll_without_half_applying(sd):
    xml = answer(make_cpr()).replace("SKOLE1", "UKENDT")
    sd.expect_oneshot_request(PATH).respond_with_data(xml)
    record = hires.poll_sd()
    assert record.state == HireImport.State.FAILED
    assert "UKENDT" in record.summary["errors"][0]["message"]
    assert Hire.objects.count() == 0


def test_polling_is_off_without_an_address(settings):
    settings.SD_URL = ""
    assert hires.poll_sd() is None


def test_cpr_never_reaches_the_log_of_a_failed_poll(sd, caplog):
    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(answer(cpr).replace("1234", ""))
    hires.poll_sd()
    assert cpr not in caplog.text


def test_parse_takes_the_newest_department():
    xml = answer("0101901234").replace(
        "<EmploymentDepartment>",
        "<EmploymentDepartment><ActivationDate>2027-01-01"
        "</ActivationDate><DepartmentIdentifier>NY</DepartmentIdentifier>"
        "</EmploymentDepartment><EmploymentDepartment>",
        1,
    )
    assert parse_sd_employments(xml.encode())[0].unit == "NY"


def test_source_builds_from_settings(sd):
    source = SDLoenSource.from_settings()
    assert source.auth == ("sduser", "sdpass") and source.institution == "XY"


def test_beat_polls_sd_through_the_task(settings, sd):
    from orders import tasks

    assert settings.CELERY_BEAT_SCHEDULE["sd-poll"]["task"] == "orders.tasks.poll_sd"
    sd.expect_oneshot_request(PATH).respond_with_data("boom", status=503)
    assert tasks.poll_sd() == HireImport.State.FAILED
    settings.SD_URL = ""
    assert tasks.poll_sd() == "off"
