"""The organisation from the HR system: dry run, apply, closing, bad rows."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from orders import hires
from portal import org_import
from portal.models import Membership, Unit

from ..factories import AreaFactory, UnitFactory, UserFactory, order_for


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language, whatever translation is shipped."""
    with translation.override("en"):
        yield


def units_csv(*rows: str) -> bytes:
    return ("\n".join(["Enheds-id;Navn;Overordnet;Forvaltning", *rows]) + "\n").encode()


def managers_csv(*rows: str) -> bytes:
    return ("\n".join(["Enheds-id;Bruger;Rolle", *rows]) + "\n").encode()


@pytest.fixture
def areas(db):
    return AreaFactory(name="Børn og Unge"), AreaFactory(name="Ældre og Handicap")


def plan(units: bytes, managers: bytes | None = None):
    unit_rows = org_import.read_units(units, "enheder.csv")
    manager_rows = org_import.read_managers(managers, "ledere.csv") if managers else None
    return org_import.plan_org_import(unit_rows, manager_rows)


def test_dry_run_shows_new_units_and_changes_nothing(areas):
    result = plan(units_csv("100;Skoleområdet;;Børn og Unge", "101;Nordskolen;100;Børn og Unge"))
    assert result.new == ["Skoleområdet", "Nordskolen"] and not result.errors
    assert Unit.objects.count() == 0


def test_apply_creates_renames_moves_and_closes_without_deleting(areas):
    org_import.apply_org_import(
        plan(
            units_csv(
                "100;Skoleområdet;;Børn og Unge",
                "101;Nordskolen;100;Børn og Unge",
                "102;Sydskolen;100;Børn og Unge",
            )
        )
    )
    assert Unit.objects.get(external_id="101").parent.external_id == "100"

    second = plan(
        units_csv("100;Skoleområdet;;Børn og Unge", "101;Nordskolen og Vestskolen;;Børn og Unge")
    )
    assert second.renamed == [("101", "Nordskolen", "Nordskolen og Vestskolen")]
    assert [name for name, _ in second.moved] == ["Nordskolen og Vestskolen"]
    assert second.closed == ["Sydskolen"]
    org_import.apply_org_import(second)

    closed = Unit.objects.get(external_id="102")
    assert (closed.name, closed.is_active) == ("Sydskolen", False) and closed.closed_at
    assert Unit.objects.get(external_id="101").parent is None
    assert Unit.objects.count() == 3


def test_units_may_swap_names(areas):
    org_import.apply_org_import(plan(units_csv("1;A;;Børn og Unge", "2;B;;Børn og Unge")))
    org_import.apply_org_import(plan(units_csv("1;B;;Børn og Unge", "2;A;;Børn og Unge")))
    assert Unit.objects.get(external_id="1").name == "B"


def test_a_hand_made_unit_is_linked_by_name_not_duplicated(areas):
    UnitFactory(area=areas[0], name="Nordskolen")
    result = plan(units_csv("101;Nordskolen;;Børn og Unge"))
    assert result.new == []
    org_import.apply_org_import(result)
    assert Unit.objects.get().external_id == "101"


def test_bad_rows_are_listed_by_row_and_nothing_is_applied(areas):
    result = plan(
        units_csv(
            "1;A;;Børn og Unge",
            "1;A igen;;Børn og Unge",
            "2;B;;Teknik og Miljø",
            "3;C;4;Børn og Unge",
            "4;D;3;Børn og Unge",
            "5;E;99;Børn og Unge",
        )
    )
    messages = [m for _, m in result.errors]
    assert [row for row, _ in result.errors] == [3, 4, 7, 5, 6]
    assert "Teknik og Miljø" in messages[1]
    with pytest.raises(org_import.OrgImportError):
        org_import.apply_org_import(result)
    assert Unit.objects.count() == 0


def test_managers_added_and_removed_but_single_sign_on_left_alone(areas):
    UserFactory(username="leder.a")
    UserFactory(username="leder.b")
    org_import.apply_org_import(
        plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;leder.a;leder"))
    )
    unit = Unit.objects.get()
    assert unit.memberships.get().user.username == "leder.a"

    result = plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;leder.b;sekretær"))
    assert result.managers_added == [("1", "leder.b", Membership.Role.SECRETARY)]
    assert result.managers_removed == [("1", "leder.a", Membership.Role.MANAGER)]
    org_import.apply_org_import(result)
    assert list(unit.memberships.values_list("user__username", flat=True)) == ["leder.b"]

    unknown = plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;ukendt;leder"))
    assert "ukendt" in unknown.errors[0][1]


def test_open_lines_in_a_closed_unit_are_shown_to_payroll(school, teacher, school_manager):
    school.external_id = "101"
    school.save()
    order_for(unit=school, profile=teacher, by=school_manager)
    org_import.apply_org_import(plan(units_csv("200;Ny skole;;Børn og Unge")))
    school.refresh_from_db()
    assert not school.is_active
    assert hires.open_lines_in_closed_units().count() == 2


def test_xlsx_with_managers_on_the_second_sheet_through_the_command(areas, tmp_path, capsys):
    UserFactory(username="leder.a")
    workbook = Workbook()
    workbook.active.append(["Id", "Navn", "Overordnet", "Forvaltning"])
    workbook.active.append([1, "A", None, "Børn og Unge"])
    sheet = workbook.create_sheet()
    sheet.append(["Enheds-id", "Bruger", "Rolle"])
    sheet.append([1, "leder.a", "Leder"])
    path = tmp_path / "org.xlsx"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())

    call_command("import_organisation", str(path))
    assert Unit.objects.count() == 0
    call_command("import_organisation", str(path), "--apply")
    assert Unit.objects.get().memberships.get().user.username == "leder.a"


def test_administrator_uploads_sees_the_dry_run_and_applies(client, areas, admin_user):
    client.force_login(admin_user)
    upload = io.BytesIO(units_csv("100;Skoleområdet;;Børn og Unge"))
    upload.name = "enheder.csv"
    page = client.post(reverse("org_import"), {"units": upload})
    assert "Skoleområdet" in page.content.decode() and Unit.objects.count() == 0
    payload = page.context["payload"]

    client.post(reverse("org_import"), {"apply": "1", "payload_units": payload["units"]})

    assert Unit.objects.get().external_id == "100"


def test_the_page_lists_bad_rows_and_offers_no_apply(client, areas, admin_user):
    client.force_login(admin_user)
    upload = io.BytesIO(units_csv("1;A;;Ukendt"))
    upload.name = "enheder.csv"
    content = client.post(reverse("org_import"), {"units": upload}).content.decode()
    assert "Ukendt" in content and 'name="apply"' not in content


def test_managers_removed_are_in_the_audit_log_beside_those_added(areas):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    UserFactory(username="leder.a")
    UserFactory(username="leder.b")
    org_import.apply_org_import(
        plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;leder.a;leder"))
    )
    org_import.apply_org_import(
        plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;leder.b;leder"))
    )

    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Membership)
    ).order_by("pk")
    assert [(e.action, e.changes_dict["user"]) for e in entries] == [
        (LogEntry.Action.CREATE, ["None", "leder.a"]),
        (LogEntry.Action.CREATE, ["None", "leder.b"]),
        (LogEntry.Action.DELETE, ["leder.a", "None"]),
    ]
    removed = entries.last()
    assert removed.changes_dict["unit"] == ["1", "None"]
    assert removed.changes_dict["role"] == [Membership.Role.MANAGER, "None"]


def test_apply_returns_the_import_it_recorded(areas):
    from portal.models import OrgImport

    record = org_import.apply_org_import(plan(units_csv("1;A;;Børn og Unge")))

    assert record == OrgImport.objects.get()
    assert record.state == OrgImport.State.APPLIED and record.summary["new"] == ["A"]


def test_a_missing_column_is_named_as_the_page_names_it_with_the_file(areas):
    with pytest.raises(org_import.OrgImportError) as error:
        org_import.read_units("Nummer;Navn;Forvaltning\n1;A;Børn og Unge\n".encode(), "enheder.csv")

    message = str(error.value)
    assert message == ("enheder.csv has no column “enheds-id” (the unit's id in the HR system).")
    assert "external_id" not in message


def test_a_bad_row_names_the_file_it_is_in(areas):
    UserFactory(username="leder.a")

    units = plan(units_csv("1;A;;Børn og Unge", "2;B;;Ukendt"))
    managers = plan(units_csv("1;A;;Børn og Unge"), managers_csv("1;leder.a;", "9;leder.a;"))

    assert units.errors[0][1].startswith("enheder.csv, row 3: ")
    assert managers.errors[0][1].startswith("ledere.csv, row 3: ")


def test_managers_and_moves_are_shown_by_unit_name_and_role_in_words(areas):
    UserFactory(username="leder.a")
    org_import.apply_org_import(
        plan(units_csv("1;Skoleområdet;;Børn og Unge", "2;Nordskolen;;Børn og Unge"))
    )

    result = plan(
        units_csv("1;Skoleområdet;;Børn og Unge", "2;Nordskolen;1;Børn og Unge"),
        managers_csv("2;leder.a;leder"),
    )

    assert result.managers_added_shown == [("leder.a", "Nordskolen", "Manager")]
    assert result.moved == [("Nordskolen", "Børn og Unge / Skoleområdet")]


def test_people_a_unit_already_has_are_not_shown_as_added(areas):
    from portal.models import Membership

    school_area, _ = areas
    leader, sso_leader = UserFactory(username="leder.a"), UserFactory(username="leder.b")
    # A unit made by hand, which the import takes over by its name, with its leader.
    by_hand = UnitFactory(area=school_area, name="Nordskolen", external_id=None)
    Membership.objects.create(unit=by_hand, user=leader, role=Membership.Role.MANAGER)
    org_import.apply_org_import(plan(units_csv("2;Sydskolen;;Børn og Unge")))
    south = Unit.objects.get(external_id="2")
    Membership.objects.create(
        unit=south, user=sso_leader, role=Membership.Role.MANAGER, source=Membership.Source.SSO
    )

    result = plan(
        units_csv("1;Nordskolen;;Børn og Unge", "2;Sydskolen;;Børn og Unge"),
        managers_csv("1;leder.a;leder", "2;leder.b;leder"),
    )

    assert result.managers_added == []
    assert result.managers_removed == []


def test_a_new_role_in_the_file_replaces_the_old_one(areas):
    UserFactory(username="leder.a")
    units = units_csv("1;A;;Børn og Unge")
    org_import.apply_org_import(plan(units, managers_csv("1;leder.a;leder")))

    org_import.apply_org_import(plan(units, managers_csv("1;leder.a;sekretær")))

    membership = Membership.objects.get(user__username="leder.a")
    assert membership.role == Membership.Role.SECRETARY


def upload(client, content: bytes):
    file = io.BytesIO(content)
    file.name = "enheder.csv"
    return client.post(reverse("org_import"), {"units": file}).content.decode()


def test_the_dry_run_warns_that_new_units_have_no_unit_type(client, areas, admin_user):
    client.force_login(admin_user)

    page = upload(client, units_csv("1;Nordskolen;;Børn og Unge", "2;Sydskolen;;Børn og Unge"))

    assert (
        "2 nye enheder har ingen enhedstype; sæt den i administrationen, ellers tilbydes de "
        "alle stillinger i området." in page
    )
    assert "/admin/portal/unit/?unit_type__isnull=True" in page


def test_the_import_page_names_the_columns_the_files_must_have(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("org_import")).content.decode()

    for column in ("enheds-id", "navn", "overordnet", "forvaltning", "bruger", "rolle"):
        assert f"<code>{column}</code>" in page
    assert "Det skal filerne indeholde" in page
