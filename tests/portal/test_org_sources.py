"""The organisation imported on schedule from SD Løn (a fake SD on loopback that answers
with SD's XML, times out and errs) and from the drop folder."""

import datetime
import time

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from werkzeug import Response

from orders import hires
from portal import org_import, tasks
from portal.models import OrgImport, Unit
from portal.org_sources import DropFolderSource, SDOrgSource
from portal.sd import SDClient

from ..factories import MembershipFactory, UnitFactory, UserFactory, order_for


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language, whatever translation is shipped."""
    with translation.override("en"):
        yield


TODAY = datetime.date(2026, 11, 29)


def organization_xml(*leaves: tuple) -> str:
    """GetOrganization20111201: each department with its parents nested inside it, as SD
    lists them (the lowest level outermost). A leaf is (id, level, parent leaf or None)."""

    def ref(item):
        dep_id, level, parent = item
        inner = ref(parent) if parent else ""
        return (
            f"<DepartmentReference><DepartmentIdentifier>{dep_id}</DepartmentIdentifier>"
            f"<DepartmentLevelIdentifier>{level}</DepartmentLevelIdentifier>{inner}"
            "</DepartmentReference>"
        )

    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<GetOrganization20111201 creationDateTime="2026-11-29T06:00:00">'
        "<RequestStructure><InstitutionIdentifier>XY</InstitutionIdentifier>"
        "<ActivationDate>2026-11-29</ActivationDate><DeactivationDate>2026-11-29"
        "</DeactivationDate><UUIDIndicator>false</UUIDIndicator></RequestStructure>"
        "<RegionIdentifier>RX</RegionIdentifier><InstitutionIdentifier>XY</InstitutionIdentifier>"
        "<DepartmentStructureName>XY-Basis</DepartmentStructureName>"
        "<Organization><ActivationDate>2026-11-01</ActivationDate>"
        "<DeactivationDate>2026-11-29</DeactivationDate>"
        + "".join(ref(leaf) for leaf in leaves)
        + "</Organization></GetOrganization20111201>"
    )


def department_xml(*departments: tuple) -> str:
    """GetDepartment20111201: (id, level, name[, activation, deactivation])."""
    body = ""
    for dep_id, level, name, *dates in departments:
        start, end = dates or ("2010-01-01", "9999-12-31")
        body += (
            f"<Department><ActivationDate>{start}</ActivationDate>"
            f"<DeactivationDate>{end}</DeactivationDate>"
            f"<DepartmentIdentifier>{dep_id}</DepartmentIdentifier>"
            f"<DepartmentLevelIdentifier>{level}</DepartmentLevelIdentifier>"
            f"<DepartmentName>{name}</DepartmentName></Department>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<GetDepartment20111201 creationDateTime="2026-11-29T06:00:00">'
        "<RequestStructure><InstitutionIdentifier>XY</InstitutionIdentifier>"
        "</RequestStructure><RegionIdentifier>RX</RegionIdentifier>"
        f"<InstitutionIdentifier>XY</InstitutionIdentifier>{body}</GetDepartment20111201>"
    )


AREA = ("BU", "NY3-niveau", None)
SCHOOLS = ("SKO", "NY2-niveau", AREA)
NORTH = ("NORD", "Afdelings-niveau", SCHOOLS)
SOUTH = ("SYD", "Afdelings-niveau", SCHOOLS)
NAMES = [
    ("BU", "NY3-niveau", "Børn og Unge"),
    ("SKO", "NY2-niveau", "Skoleområdet"),
    ("NORD", "Afdelings-niveau", "Nordskolen"),
    ("SYD", "Afdelings-niveau", "Sydskolen"),
]


@pytest.fixture
def sd(settings, httpserver, school_area):
    settings.SD_URL = httpserver.url_for("/sdws")
    settings.SD_USERNAME, settings.SD_PASSWORD = "sduser", "sdpass"
    settings.SD_INSTITUTION = "XY"
    settings.SD_TIMEOUT = 0.5
    settings.SD_AREA_LEVEL = "NY3-niveau"
    settings.ORG_IMPORT_SOURCE = "sd"
    return httpserver


def answer(sd, organization: str, departments: str) -> None:
    sd.expect_oneshot_request(
        "/sdws/GetOrganization20111201",
        query_string={
            "InstitutionIdentifier": "XY",
            "ActivationDate": "29.11.2026",
            "DeactivationDate": "29.11.2026",
            "UUIDIndicator": "false",
        },
        headers={"Authorization": "Basic c2R1c2VyOnNkcGFzcw=="},
    ).respond_with_data(organization, content_type="text/xml")
    sd.expect_oneshot_request("/sdws/GetDepartment20111201").respond_with_data(
        departments, content_type="text/xml"
    )


def source():
    return SDOrgSource(SDClient.from_settings(), area_level="NY3-niveau", today=TODAY)


def test_sd_departments_become_units_under_their_area_with_their_parents(sd):
    answer(sd, organization_xml(NORTH, SOUTH), department_xml(*NAMES))

    record = org_import.run_import(source())

    sd.check_assertions()
    assert record.state == OrgImport.State.APPLIED
    units = {u.external_id: u for u in Unit.objects.select_related("parent", "area")}
    assert set(units) == {"SKO", "NORD", "SYD"}  # the area itself is not a unit
    assert units["NORD"].parent.external_id == "SKO" and units["SKO"].parent is None
    assert {u.area.name for u in units.values()} == {"Børn og Unge"}
    assert sorted(record.summary["new"]) == ["Nordskolen", "Skoleområdet", "Sydskolen"]


def test_a_department_gone_from_sd_is_closed_not_deleted_and_its_open_lines_show(
    sd, client, payroll, teacher, school_manager
):
    answer(sd, organization_xml(NORTH, SOUTH), department_xml(*NAMES))
    org_import.run_import(source())
    south = Unit.objects.get(external_id="SYD")
    MembershipFactory(user=school_manager, unit=south)
    order_for(unit=south, profile=teacher, by=school_manager)

    answer(sd, organization_xml(NORTH), department_xml(*NAMES[:3]))
    record = org_import.run_import(source())

    south.refresh_from_db()
    assert record.summary["closed"] == ["Sydskolen"]
    assert not south.is_active and south.closed_at is not None
    assert hires.open_lines_in_closed_units().filter(order__unit=south).exists()
    client.force_login(payroll)
    page = client.get(reverse("payroll:hire_compliance")).content.decode()
    assert "Sydskolen" in page


def test_the_scheduled_import_is_in_the_audit_log_without_an_actor(sd):
    answer(sd, organization_xml(NORTH), department_xml(*NAMES[:3]))
    org_import.run_import(source())
    answer(
        sd,
        organization_xml(NORTH),
        department_xml(*NAMES[:2], ("NORD", "Afdelings-niveau", "Nordskolen Afd. Nord")),
    )

    org_import.run_import(source())

    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Unit), action=LogEntry.Action.UPDATE
    ).get()
    assert entry.actor is None and entry.additional_data["source"] == "sd"
    assert entry.changes_dict["name"] == ["Nordskolen", "Nordskolen Afd. Nord"]


def test_a_department_whose_validity_ended_is_no_longer_a_unit(sd):
    answer(sd, organization_xml(NORTH, SOUTH), department_xml(*NAMES))
    org_import.run_import(source())
    ended = ("SYD", "Afdelings-niveau", "Sydskolen", "2010-01-01", "2026-11-28")
    answer(sd, organization_xml(NORTH, SOUTH), department_xml(*NAMES[:3], ended))

    record = org_import.run_import(source())

    assert record.summary["closed"] == ["Sydskolen"]
    assert not Unit.objects.get(external_id="SYD").is_active


def test_bad_rows_are_listed_by_row_number_and_nothing_is_half_applied(sd):
    other_area = ("AE", "NY3-niveau", None)
    care = ("PLEJE", "Afdelings-niveau", other_area)
    answer(
        sd,
        organization_xml(NORTH, care),
        department_xml(
            *NAMES[:3],
            ("AE", "NY3-niveau", "Ukendt forvaltning"),
            ("PLEJE", "Afdelings-niveau", "Plejehjemmet"),
        ),
    )

    record = org_import.run_import(source())

    assert record.state == OrgImport.State.FAILED
    assert record.summary["errors"] == [
        {"row": 5, "message": "Row 5: The area “Ukendt forvaltning” is not known."}
    ]
    assert not Unit.objects.exists()


def test_a_timeout_changes_nothing_and_is_recorded(sd):
    UnitFactory(name="Gammel skole", external_id="GAMMEL")

    def slow(request):
        time.sleep(1.0)
        return Response("late")

    sd.expect_oneshot_request("/sdws/GetOrganization20111201").respond_with_handler(slow)

    record = org_import.run_import(source())

    assert (record.state, record.error) == (
        OrgImport.State.FAILED,
        "SD Løn did not answer in time.",
    )
    assert Unit.objects.get().is_active


@pytest.mark.parametrize("status", [401, 500, 503])
def test_an_http_error_changes_nothing_and_is_shown_to_administrators(sd, client, status):
    UnitFactory(name="Gammel skole", external_id="GAMMEL")
    answer(sd, organization_xml(NORTH), "")
    sd.clear()
    sd.expect_oneshot_request("/sdws/GetOrganization20111201").respond_with_data(
        "error", status=status
    )

    assert tasks.import_organisation() == OrgImport.State.FAILED

    assert Unit.objects.get().is_active
    client.force_login(UserFactory(username="adm", is_staff=True, is_superuser=True))
    page = client.get(reverse("org_import")).content.decode()
    assert f"SD Løn answered with HTTP status {status}." in page


def test_beat_runs_the_import_and_it_is_off_without_a_source(settings):
    assert settings.CELERY_BEAT_SCHEDULE["org-import"]["task"] == "portal.tasks.import_organisation"
    settings.ORG_IMPORT_SOURCE = "off"
    assert tasks.import_organisation() == "off"


# --- The drop folder ------------------------------------------------------------------


@pytest.fixture
def folder(settings, tmp_path, school_area):
    settings.ORG_IMPORT_SOURCE = "folder"
    settings.ORG_DROP_FOLDER = str(tmp_path)
    return tmp_path


def test_a_file_dropped_in_the_folder_is_applied_on_schedule_and_moved_aside(folder):
    (folder / "enheder.csv").write_text(
        "Enheds-id;Navn;Overordnet;Forvaltning\n100;Skoleområdet;;Børn og Unge\n"
        "101;Nordskolen;100;Børn og Unge\n",
        encoding="utf-8",
    )

    assert tasks.import_organisation() == OrgImport.State.APPLIED

    assert Unit.objects.get(external_id="101").parent.external_id == "100"
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert len(list((folder / "behandlet").iterdir())) == 1
    assert tasks.import_organisation() == "off"  # nothing waiting


def test_a_dropped_file_with_bad_rows_applies_nothing_and_goes_to_failed(folder):
    (folder / "enheder.csv").write_text(
        "Enheds-id;Navn;Overordnet;Forvaltning\n100;Skoleområdet;;Børn og Unge\n"
        "101;Nordskolen;101;Børn og Unge\n102;Sydskolen;;Ingen forvaltning\n",
        encoding="utf-8",
    )

    record = org_import.run_import(DropFolderSource(folder))

    assert record.state == OrgImport.State.FAILED
    assert [e["row"] for e in record.summary["errors"]] == [4, 3]
    assert not Unit.objects.exists()
    assert len(list((folder / "fejlet").iterdir())) == 1


def test_the_command_shows_sds_difference_without_applying_it(sd, capsys, settings):
    from django.core.management import call_command

    answer(sd, organization_xml(NORTH), department_xml(*NAMES[:3]))
    sd.clear()  # the command asks for today's organisation, whatever the date
    sd.expect_oneshot_request("/sdws/GetOrganization20111201").respond_with_data(
        organization_xml(NORTH)
    )
    sd.expect_oneshot_request("/sdws/GetDepartment20111201").respond_with_data(
        department_xml(*NAMES[:3])
    )

    call_command("import_organisation", "--from-sd")

    assert "new: Nordskolen" in capsys.readouterr().out
    assert not Unit.objects.exists()


def test_a_scheduled_import_that_would_close_most_units_changes_nothing(sd, school_area):
    for i in range(12):
        UnitFactory(area=school_area, name=f"Skole {i}", external_id=f"S{i}")
    answer(sd, organization_xml(NORTH), department_xml(*NAMES[:3]))  # SD cut short

    record = org_import.run_import(source())

    assert record.state == OrgImport.State.FAILED
    assert "would close 12 of 12 units" in record.error
    assert Unit.objects.filter(is_active=True).count() == 12
    assert not Unit.objects.filter(external_id="NORD").exists()


def test_a_run_returns_its_own_import_even_when_another_run_recorded_one_after(folder):
    """Two runs of the same source at once: each reports what it did, not the newest."""
    from django.db import connection

    (folder / "enheder.csv").write_text(
        "Enheds-id;Navn;Overordnet;Forvaltning\n100;Skoleområdet;;Børn og Unge\n",
        encoding="utf-8",
    )
    other_run = []

    def another_run_records_right_after(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not other_run and sql.startswith('INSERT INTO "portal_orgimport"'):
            other_run.append(None)
            other_run[0] = OrgImport.objects.create(
                source="folder", state=OrgImport.State.FAILED, error="the other run"
            )
        return result

    with connection.execute_wrapper(another_run_records_right_after):
        record = org_import.run_import(DropFolderSource(folder))

    assert other_run  # the other run did record in between
    assert record.state == OrgImport.State.APPLIED and record.summary["new"] == ["Skoleområdet"]
    assert record != other_run[0]
    assert len(list((folder / "behandlet").iterdir())) == 1  # moved as applied


def managed_schools(area, count: int) -> list[str]:
    """`count` units from the HR system, each with its manager."""
    rows = []
    for i in range(count):
        unit = UnitFactory(area=area, name=f"Skole {i}", external_id=f"S{i}")
        MembershipFactory(unit=unit, user=UserFactory(username=f"leder{i}"))
        rows.append(f"S{i};Skole {i};;Børn og Unge")
    return rows


def test_a_truncated_managers_file_takes_nobodys_access_and_goes_to_failed(folder, school_area):
    from portal.models import Membership

    units = managed_schools(school_area, 10)
    (folder / "enheder.csv").write_text(
        "Enheds-id;Navn;Overordnet;Forvaltning\n" + "\n".join(units) + "\n", encoding="utf-8"
    )
    (folder / "ledere.csv").write_text(  # cut off after the second row
        "Enheds-id;Bruger;Rolle\nS0;leder0;leder\nS1;leder1;leder\n", encoding="utf-8"
    )

    record = org_import.run_import(DropFolderSource(folder))

    assert record.state == OrgImport.State.FAILED
    assert "would remove 8 of 10" in record.error
    assert Membership.objects.count() == 10
    assert not LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Membership),
        action=LogEntry.Action.DELETE,
    ).exists()
    assert len(list((folder / "fejlet").iterdir())) == 2


def test_a_few_managers_leaving_are_applied_on_schedule_and_audited(folder, school_area):
    from portal.models import Membership

    units = managed_schools(school_area, 10)
    (folder / "enheder.csv").write_text(
        "Enheds-id;Navn;Overordnet;Forvaltning\n" + "\n".join(units) + "\n", encoding="utf-8"
    )
    (folder / "ledere.csv").write_text(
        "Enheds-id;Bruger;Rolle\n" + "\n".join(f"S{i};leder{i};leder" for i in range(1, 10)),
        encoding="utf-8",
    )

    record = org_import.run_import(DropFolderSource(folder))

    assert record.state == OrgImport.State.APPLIED
    assert not Membership.objects.filter(user__username="leder0").exists()
    entry = LogEntry.objects.get(  # one entry per removal, from the import
        content_type=ContentType.objects.get_for_model(Membership), action=LogEntry.Action.DELETE
    )
    assert entry.action == LogEntry.Action.DELETE and entry.actor is None
    assert entry.changes_dict["user"] == ["leder0", "None"]
    assert entry.additional_data["source"] == "folder"
