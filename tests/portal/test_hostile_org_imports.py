"""Hostile and broken organisation files: each is refused with a Danish reason (the row
when a row is to blame), nothing is applied, the run is recorded, the file moves to
fejlet/ and the administrators are told. The audit log holds only real changes."""

import io
import zipfile

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import translation

from bench.hostile_imports import (
    sd_answer_with_late_dtd,
    xlsx_with_far_row,
    xlsx_with_rows,
    xlsx_with_shared_strings,
)
from orders.models import Notification
from portal import org_import, tasks
from portal.models import OrgImport, Unit

from ..factories import AreaFactory, UnitFactory, UserFactory

HEADER = "Enheds-id;Navn;Overordnet;Forvaltning"


@pytest.fixture(autouse=True)
def danish():
    """What an administrator reads: the portal speaks Danish."""
    with translation.override("da"):
        yield


@pytest.fixture
def folder(settings, tmp_path, db):
    AreaFactory(name="Børn og Unge")
    UserFactory(username="admin", is_staff=True, is_superuser=True, email="admin@kommune.dk")
    settings.ORG_IMPORT_SOURCE = "folder"
    settings.ORG_DROP_FOLDER = str(tmp_path)
    settings.IMPORT_MAX_ROWS = 100
    settings.IMPORT_MAX_COLUMNS = 10
    settings.IMPORT_MAX_CELL_CHARS = 300
    settings.IMPORT_MAX_FILE_MB = 1
    settings.IMPORT_MAX_UNPACKED_MB = 20
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 1
    return tmp_path


def run_scheduled(folder, name: str, data: bytes) -> OrgImport:
    (folder / name).write_bytes(data)
    assert tasks.import_organisation() == OrgImport.State.FAILED
    return OrgImport.objects.get()


def assert_refused_and_reported(folder, record: OrgImport) -> None:
    assert record.state == OrgImport.State.FAILED and record.error
    assert not Unit.objects.exists()
    assert [p.is_file() for p in folder.iterdir()] == [False]  # only fejlet/ is left
    assert len(list((folder / "fejlet").iterdir())) == 1
    email = Notification.objects.get(template="org_import_failed")
    assert email.to == "admin@kommune.dk"
    assert "Importen af organisationen fejlede" in email.subject
    assert record.error in email.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "enheder.xlsx",
            xlsx_with_shared_strings(0.01),
            "Regnearkets tekster fylder mere end 1 MB; det er ikke læst.",
        ),
        (
            "enheder.xlsx",
            xlsx_with_rows(1_000),
            "Filen har mere end 100 rækker; den er ikke læst.",
        ),
        (
            "enheder.xlsx",
            xlsx_with_far_row(1_048_576),
            "Filen har mere end 100 rækker; den er ikke læst.",
        ),
        (
            "enheder.csv",
            f"{HEADER}\n1;Skole;;Børn og Unge\n".encode() + b"\x81\n",
            "Filen er ikke tekst i UTF-8 eller Windows-1252; gem den igen som CSV (UTF-8).",
        ),
        (
            "enheder.csv",
            f"{HEADER}\n1;Skole;;Børn og Unge;{';x' * 20}\n".encode(),
            "Række 2 har mere end 10 kolonner; filen er ikke læst.",
        ),
        (
            "enheder.csv",
            f"{HEADER}\n1;Skole;;Børn og Unge\n2;{'x' * 301};;Børn og Unge\n".encode(),
            "Række 3 har en celle med mere end 300 tegn; filen er ikke læst.",
        ),
        (
            "enheder.csv",
            f"{HEADER}\n".encode() + b"1;Skole;;B\xc3\xb8rn og Unge\n" * 60_000,
            "Filen er større end 1 MB; den er ikke læst.",
        ),
    ],
    ids=[
        "shared-strings",
        "too-many-rows",
        "row-far-down",
        "not-text",
        "too-many-columns",
        "long-cell",
        "too-large",
    ],
)
def test_a_hostile_file_is_refused_with_its_reason_moved_aside_and_reported(
    folder, name, data, reason
):
    record = run_scheduled(folder, name, data)

    assert record.error == reason
    assert_refused_and_reported(folder, record)


def test_a_nul_byte_and_an_over_long_name_are_row_errors_not_a_crash(folder):
    record = run_scheduled(
        folder,
        "enheder.csv",
        f"{HEADER}\n1;Sko\x00len;;Børn og Unge\n2;{'N' * 250};;Børn og Unge\n"
        "3;Nordskolen;;Børn og Unge\n".encode(),
    )

    assert record.error == "2 rækker har fejl; intet er ændret."
    assert [e["message"] for e in record.summary["errors"]] == [
        "enheder.csv, række 2: Værdien i feltet “enhedens navn” indeholder styretegn (f.eks. NUL).",
        "enheder.csv, række 3: Værdien i feltet “enhedens navn” er længere end 200 tegn.",
    ]
    assert_refused_and_reported(folder, record)


def test_an_over_long_id_is_a_row_error(folder):
    record = run_scheduled(
        folder, "enheder.csv", f"{HEADER}\n{'7' * 60};Skole;;Børn og Unge\n".encode()
    )

    assert [e["message"] for e in record.summary["errors"]] == [
        "enheder.csv, række 2: Værdien i feltet “enheds-id” er længere end 50 tegn."
    ]
    assert_refused_and_reported(folder, record)


def test_no_cpr_number_is_kept_in_the_summary_or_the_failed_files_name(folder):
    record = run_scheduled(
        folder, "enheder 251296-1236.csv", f"{HEADER}\n1;Skole;2512961236;Børn og Unge\n".encode()
    )

    assert [e["message"] for e in record.summary["errors"]] == [
        "enheder 251296-xxxx.csv, række 2: Den overordnede enhed 251296-xxxx er ikke i filen."
    ]
    assert [p.name.split("-", 2)[-1] for p in (folder / "fejlet").iterdir()] == [
        "enheder 251296-xxxx.csv"
    ]


def test_a_source_that_fails_to_read_is_recorded_and_the_file_moved(folder):
    (folder / "enheder.xlsx").write_bytes(b"PK\x03\x04 not a workbook")

    tasks.import_organisation()

    record = OrgImport.objects.get()
    assert record.error == "Filen kunne ikke læses som en XLSX-projektmappe."
    assert_refused_and_reported(folder, record)


def test_the_upload_answers_a_hostile_file_with_its_reason_not_an_error_page(
    client, admin_user, settings
):
    settings.IMPORT_MAX_ROWS = 100
    client.force_login(admin_user)
    for data, reason in [
        (b"Enheds-id;Navn\n1;\x81\n", "Filen er ikke tekst i UTF-8 eller Windows-1252"),
        (xlsx_with_rows(500), "Filen har mere end 100 rækker"),
    ]:
        upload = io.BytesIO(data)
        upload.name = "enheder.xlsx" if data.startswith(b"PK") else "enheder.csv"
        response = client.post(reverse("org_import"), {"units": upload})
        assert response.status_code == 200
        assert reason in response.content.decode()
    assert not Unit.objects.exists()


# --- The audit log -------------------------------------------------------------------


def units_csv(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows, ""]).encode()


def unit_entries():
    return LogEntry.objects.filter(content_type__model="unit").order_by("pk")


def apply(data: bytes):
    org_import.apply_org_import(
        org_import.plan_org_import(org_import.read_units(data, "enheder.csv"))
    )


def test_an_import_that_changes_nothing_writes_nothing_to_the_audit_log(db):
    AreaFactory(name="Børn og Unge")
    apply(units_csv("1;Skolerne;;Børn og Unge", "2;Nordskolen;1;Børn og Unge"))
    created = list(unit_entries().values_list("action", flat=True))

    apply(units_csv("1;Skolerne;;Børn og Unge", "2;Nordskolen;1;Børn og Unge"))

    assert created == [LogEntry.Action.CREATE, LogEntry.Action.CREATE]
    assert unit_entries().count() == 2


def test_a_unit_made_by_hand_that_the_import_takes_over_is_changed_not_created(db):
    area = AreaFactory(name="Børn og Unge")
    school = UnitFactory(area=area, name="Nordskolen")

    apply(units_csv("2;Nordskolen;;Børn og Unge"))

    (entry,) = unit_entries().filter(
        object_pk=str(school.pk), additional_data__import="organisation"
    )
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict == {"external_id": ["None", "2"]}


def test_every_audited_value_is_text_the_audit_list_can_show(db):
    AreaFactory(name="Børn og Unge")
    apply(units_csv("1;Skolerne;;Børn og Unge", "2;Nordskolen;1;Børn og Unge"))
    apply(units_csv("1;Skolerne;;Børn og Unge"))  # Nordskolen closes

    values = [v for e in unit_entries() for pair in e.changes_dict.values() for v in pair]
    assert all(isinstance(v, str) for v in values)
    closed = unit_entries().last()
    assert closed.action == LogEntry.Action.UPDATE
    assert closed.changes_dict == {"is_active": ["True", "False"]}


def test_administrators_are_told_once_while_sd_keeps_failing_for_the_same_reason(
    settings, httpserver, db
):
    UserFactory(username="admin", is_staff=True, email="admin@kommune.dk")
    settings.ORG_IMPORT_SOURCE, settings.SD_URL = "sd", httpserver.url_for("/sdws")
    settings.SD_MAX_RESPONSE_MB = 1
    for _ in range(3):
        httpserver.expect_oneshot_request("/sdws/GetOrganization20111201").respond_with_data(
            sd_answer_with_late_dtd(3000), content_type="text/xml"
        )
        assert tasks.import_organisation() == OrgImport.State.FAILED

    assert set(OrgImport.objects.values_list("error", flat=True)) == {
        "SD Løns svar indeholder en DTD eller entiteter og er ikke læst."
    }
    assert Notification.objects.filter(template="org_import_failed").count() == 1


def test_shared_strings_under_another_name_are_measured_too(folder):
    """openpyxl finds the shared strings by their content type, whatever the part's name."""
    packed = zipfile.ZipFile(io.BytesIO(xlsx_with_shared_strings(0.01)))
    renamed = io.BytesIO()
    with zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in packed.infolist():
            archive.writestr(
                part.filename.replace("sharedStrings.xml", "tekster.xml"),
                packed.read(part).replace(b"sharedStrings.xml", b"tekster.xml"),
            )

    record = run_scheduled(folder, "enheder.xlsx", renamed.getvalue())

    assert record.error == "Regnearkets tekster fylder mere end 1 MB; det er ikke læst."
    assert_refused_and_reported(folder, record)


def test_a_row_whose_last_cells_are_empty_still_has_every_column():
    from portal.tabular import read_table

    table = read_table(b"id;navn;overordnet\n1;Skolen\n", "enheder.csv")

    assert table == [(2, {"id": "1", "navn": "Skolen", "overordnet": None})]
