"""SD Løn's web service, against a fake SD on loopback that answers like SD, times out
and errs."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from werkzeug import Response

from orders import hires
from orders.hires.sources import SDLoenSource, parse_sd_employments
from orders.models import Hire, HireImport, JobCode, UnreadHire
from portal.models import Unit

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


def several(*people: dict) -> str:
    """An SD answer with one person per dict (cpr, start, department, employment)."""
    head, rest = SD_XML.split("<Person>", 1)
    person, tail = rest.split("</Person>", 1)
    body = ""
    for item in people:
        body += (
            "<Person>"
            + person.format(cpr=item["cpr"], status="1", start=item["start"])
            .replace("SKOLE1", item.get("department", "SKOLE1"))
            .replace("00123", item["employment"])
            + "</Person>"
        )
    return head + body + tail


def test_bad_employments_are_kept_aside_and_the_good_ones_applied(sd, client, payroll):
    start = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    good_cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(
        several(
            {"cpr": good_cpr, "start": start, "employment": "1"},
            {"cpr": make_cpr(), "start": "31.02.2026x", "employment": "2"},
            {"cpr": make_cpr(), "start": start, "employment": "3", "department": "UKENDT"},
            {"cpr": "", "start": start, "employment": "4"},
        )
    )

    # The worker records the reasons in the portal's language, Danish.
    with translation.override("da"):
        record = hires.poll_sd()
        expected = {
            "2": gettext("The start date is not a date (use dd.mm.yyyy)."),
            "3": gettext("The unit “%(unit)s” is not known or is closed.") % {"unit": "UKENDT"},
            "4": gettext("The CPR number is not valid."),
        }
        heading = gettext("Employments from SD Løn that could not be read")

    assert record.state == HireImport.State.APPLIED
    assert Hire.objects.get().source_key == "emp:1"
    assert dict(UnreadHire.objects.values_list("employment_id", "reason")) == expected
    assert "Enheden" in expected["3"]
    client.force_login(payroll)
    html = client.get(reverse("payroll:hire_imports")).content.decode()
    assert heading in html and all(escape(reason) in html for reason in expected.values())
    assert good_cpr not in html and good_cpr[:6] not in html
    assert "UKENDT" in client.get(reverse("payroll:hire_compliance")).content.decode()


def test_an_unread_employment_is_tried_at_every_poll_until_it_reads(sd, school_area, teacher):
    start = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    bad = {"cpr": make_cpr(), "start": start, "employment": "7", "department": "NYSKOLE"}
    sd.expect_oneshot_request(PATH).respond_with_data(several(bad))
    hires.poll_sd()
    sd.expect_oneshot_request(PATH).respond_with_data(several())  # nothing new
    hires.poll_sd()
    assert UnreadHire.objects.get().attempts == 2
    assert Hire.objects.count() == 0

    # The department arrives in the portal (e.g. from the organisation import).
    Unit.objects.create(area=school_area, name="Nyskolen", external_id="NYSKOLE")
    sd.expect_oneshot_request(PATH).respond_with_data(several())
    hires.poll_sd()

    hire = Hire.objects.get()
    assert (hire.source_key, hire.unit.external_id) == ("emp:7", "NYSKOLE")
    assert not UnreadHire.objects.exists()


def test_a_newer_version_from_sd_replaces_the_unread_one(sd):
    start = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(
        several({"cpr": cpr, "start": start, "employment": "8", "department": "UKENDT"})
    )
    hires.poll_sd()
    sd.expect_oneshot_request(PATH).respond_with_data(
        several({"cpr": cpr, "start": start, "employment": "8"})
    )

    hires.poll_sd()

    assert Hire.objects.get().unit.external_id == "SKOLE1"
    assert not UnreadHire.objects.exists()


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
    assert source.client.auth == ("sduser", "sdpass") and source.client.institution == "XY"


def test_beat_polls_sd_through_the_task(settings, sd):
    from orders import tasks

    assert settings.CELERY_BEAT_SCHEDULE["sd-poll"]["task"] == "orders.tasks.poll_sd"
    sd.expect_oneshot_request(PATH).respond_with_data("boom", status=503)
    assert tasks.poll_sd() == HireImport.State.FAILED
    settings.SD_URL = ""
    assert tasks.poll_sd() == "off"


PERSON_XML = """<?xml version="1.0" encoding="UTF-8"?>
<GetPerson20111201 creationDateTime="2026-11-29T10:00:00">
  <RequestStructure><InstitutionIdentifier>XY</InstitutionIdentifier></RequestStructure>
  <Person>
    <PersonCivilRegistrationIdentifier>{cpr}</PersonCivilRegistrationIdentifier>
    <PersonGivenName>{given}</PersonGivenName><PersonSurnameName>{surname}</PersonSurnameName>
    <Employment><EmploymentIdentifier>00123</EmploymentIdentifier></Employment>
  </Person>
</GetPerson20111201>"""


def without_names(xml: str) -> str:
    """SD's employment feed as it usually comes: no names, only the CPR number."""
    return xml.replace("<PersonGivenName>Anna</PersonGivenName>", "").replace(
        "<PersonSurnameName>Hansen</PersonSurnameName>", ""
    )


def test_names_missing_from_the_feed_are_asked_from_getperson_with_the_cpr_in_no_url(sd):
    from urllib.parse import parse_qs

    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(without_names(answer(cpr)))
    asked = []

    def person(request):
        asked.append((request.query_string, parse_qs(request.get_data(as_text=True))))
        return Response(PERSON_XML.format(cpr=cpr, given="Birte", surname="Kjær"))

    sd.expect_oneshot_request("/sdws/GetPerson20111201", method="POST").respond_with_handler(person)

    record = hires.poll_sd()

    assert record.state == HireImport.State.APPLIED
    assert Hire.objects.get().full_name == "Birte Kjær"
    query, form = asked[0]
    assert cpr.encode() not in query
    assert form["PersonCivilRegistrationIdentifier"] == [cpr]
    assert form["InstitutionIdentifier"] == ["XY"]


def test_when_getperson_fails_the_hire_waits_for_the_next_poll_and_then_gets_its_name(sd):
    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(without_names(answer(cpr)))
    sd.expect_oneshot_request("/sdws/GetPerson20111201").respond_with_data("down", status=503)
    hires.poll_sd()
    assert Hire.objects.count() == 0
    assert UnreadHire.objects.get().reason == "The name is missing."

    sd.expect_oneshot_request(PATH).respond_with_data(several())
    sd.expect_oneshot_request("/sdws/GetPerson20111201").respond_with_data(
        PERSON_XML.format(cpr=cpr, given="Anna", surname="Hansen")
    )
    hires.poll_sd()

    assert Hire.objects.get().full_name == "Anna Hansen"
    assert not UnreadHire.objects.exists()


def test_getperson_is_not_asked_when_the_feed_has_the_name(sd):
    sd.expect_oneshot_request(PATH).respond_with_data(answer(make_cpr()))
    hires.poll_sd()
    sd.check_assertions()
    assert all("GetPerson" not in str(request.url) for request, _response in sd.log)


def test_an_employment_that_never_reads_is_forgotten_after_the_keep_days(sd, settings):
    from django.utils import timezone

    start = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    sd.expect_oneshot_request(PATH).respond_with_data(
        several({"cpr": make_cpr(), "start": start, "employment": "9", "department": "UKENDT"})
    )
    hires.poll_sd()
    settings.HIRE_UNREAD_KEEP_DAYS = 60

    hires.send_hire_reminders(now=timezone.now() + datetime.timedelta(days=59))
    assert UnreadHire.objects.exists()
    hires.send_hire_reminders(now=timezone.now() + datetime.timedelta(days=61))
    assert not UnreadHire.objects.exists()


def fault(text: str) -> str:
    return (
        '<?xml version="1.0"?><Envelope><Body><Fault><faultstring>'
        f"{text}</faultstring></Fault></Body></Envelope>"
    )


def test_a_getperson_fault_echoing_the_cpr_puts_it_in_no_log_and_no_stored_text(sd, caplog):
    cpr = make_cpr()
    dashed = f"{cpr[:6]}-{cpr[6:]}"
    sd.expect_oneshot_request(PATH).respond_with_data(without_names(answer(cpr)))
    sd.expect_oneshot_request("/sdws/GetPerson20111201", method="POST").respond_with_data(
        fault(f"Person {cpr} ({dashed}) not found in institution XY"), status=200
    )

    with caplog.at_level("DEBUG"):
        record = hires.poll_sd()

    assert "GetPerson20111201 failed" in caplog.text  # the failure itself is logged
    assert cpr not in caplog.text and dashed not in caplog.text
    stored = [record.error, str(record.summary)] + [
        f"{u.reason} {u.full_name} {u.unit}" for u in UnreadHire.objects.all()
    ]
    assert all(cpr not in text and dashed not in text for text in stored)


def test_an_employment_fault_echoing_a_cpr_is_stored_and_shown_masked(sd, caplog):
    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(fault(f"Bad request for {cpr}"))

    record = hires.poll_sd()

    assert record.state == HireImport.State.FAILED
    assert record.error == f"SD Løn reported an error: Bad request for {cpr[:6]}-xxxx"
    assert cpr not in caplog.text


def test_the_source_takes_the_client_it_is_given(sd):
    from portal.sd import SDClient

    cpr = make_cpr()
    sd.expect_oneshot_request(PATH).respond_with_data(answer(cpr))
    source = SDLoenSource(SDClient.from_settings())

    assert hires.poll_sd(source=source).state == HireImport.State.APPLIED
    assert Hire.objects.get().full_name == "Anna Hansen"


def test_a_key_another_poll_wrote_meanwhile_does_not_fail_the_poll(sd):
    """Two polls overlapping: both find the same unreadable employment new, and the
    other one writes its row first. This poll takes that row over instead of failing."""
    from django.db import connection
    from django.utils import timezone

    start = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    sd.expect_oneshot_request(PATH).respond_with_data(
        several(
            {"cpr": make_cpr(), "start": start, "employment": "1"},
            {"cpr": make_cpr(), "start": start, "employment": "9", "department": "UKENDT"},
        )
    )
    other_poll = []

    def other_poll_inserts_first(execute, sql, params, many, context):
        # The poll reads the unread employments once, then writes: the other poll's
        # row lands in between.
        if "orders_unreadhire" in sql:
            other_poll.append(sql)
        if len(other_poll) == 2:
            other_poll.append("the other poll")
            UnreadHire.objects.create(
                source=HireImport.Source.SD,
                key="emp:9",
                reason="Written by the other poll",
                first_seen_at=timezone.now(),
                last_seen_at=timezone.now(),
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(other_poll_inserts_first):
        record = hires.poll_sd()

    assert "the other poll" in other_poll  # the race did happen
    assert record.state == HireImport.State.APPLIED
    assert Hire.objects.count() == 1
    unread = UnreadHire.objects.get()
    assert unread.key == "emp:9" and unread.unit == "UKENDT"
    assert unread.reason != "Written by the other poll"
