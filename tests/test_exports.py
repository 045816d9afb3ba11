"""Spreadsheets the portal hands out never run what a name contains.

A unit imported as =HYPERLINK(...) must reach the person who opens an export as text
(OWASP, "CSV Injection"). portal.exports writes every CSV and XLSX file; the first test
fails if a module writes one another way.
"""

import ast
import csv
import io
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from orders import batching
from portal import exports
from robot.tasks import refresh_statistics

from .factories import order_for

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "orders", "robot")
HYPERLINK = '=HYPERLINK("http://x","y")'
WRITERS = {("csv", "writer"), ("csv", "DictWriter"), ("openpyxl", "Workbook")}


def spreadsheet_writers(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in WRITERS:
                found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            package = node.module.split(".")[0]
            found += [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if (package, alias.name) in WRITERS
            ]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("xlsxwriter")]
    return found


def test_only_portal_exports_writes_csv_or_xlsx():
    offenders = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "portal" / "exports.py":
                continue
            if writers := spreadsheet_writers(path):
                offenders[str(path.relative_to(ROOT))] = writers
    assert offenders == {}


def test_the_architecture_check_sees_a_writer():
    module = ROOT / "portal" / "exports.py"
    assert "csv.writer" in spreadsheet_writers(module)
    assert "openpyxl.Workbook" in spreadsheet_writers(module)


def _csv(text: str, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


def _xlsx(content: bytes) -> list[list]:
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows()]


@pytest.mark.parametrize(
    "text", [HYPERLINK, "+45 1234", "-Hansen", "@SUM(A1)", "\tTab", "\rCR", "\nLF", "\uff1d1+1"]
)
def test_a_cell_that_would_start_a_formula_is_written_as_text(text):
    rows = _csv(exports.csv_text(["Navn"], [[text, 42, -3, None]]))
    assert rows[1] == ["'" + text, "42", "-3", ""]

    header, row = _xlsx(exports.xlsx_bytes(title="t", headers=["Navn"], rows=[[text, 42, -3]]))
    cell = row[0]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    assert [(c.value, c.data_type) for c in row[1:]] == [(42, "n"), (-3, "n")]


def test_ordinary_text_is_left_as_it_is():
    assert _csv(exports.csv_text(["Navn"], [["Åse Ødegård", "Bo-Ek"]]))[1] == [
        "Åse Ødegård",
        "Bo-Ek",
    ]
    _header, row = _xlsx(exports.xlsx_bytes(title="t", headers=["Navn"], rows=[["Åse"]]))
    assert (row[0].value, row[0].data_type, row[0].quotePrefix) == ("Åse", "s", False)


def test_a_character_xlsx_cannot_hold_does_not_break_the_file():
    _header, row = _xlsx(exports.xlsx_bytes(title="a/b", headers=["x"], rows=[["Bo\x00 Ek"]]))
    assert row[0].value == "Bo Ek"


@pytest.fixture
def hyperlink_unit(school, teacher, school_manager):
    """A unit whose name came in through an organisation import unchecked."""
    school.name = HYPERLINK
    school.save()
    order_for(unit=school, profile=teacher, by=school_manager, name="-Hansen")
    refresh_statistics()  # beat's round: the statistics exports read its summary
    return school


def test_a_unit_named_like_a_formula_is_text_in_the_statistics_exports(
    hyperlink_unit, payroll, client
):
    client.force_login(payroll)

    xlsx = client.get(reverse("statistics:export", args=["volumes", "xlsx"]))
    rows = _csv(
        client.get(reverse("statistics:export", args=["volumes", "csv"])).content.decode(),
        delimiter=";",
    )

    unit_cells = [row[1] for row in _xlsx(xlsx.content)[1:]]
    assert len(unit_cells) == 2  # a child and a criminal-record certificate
    assert {(c.value, c.data_type, c.quotePrefix) for c in unit_cells} == {(HYPERLINK, "s", True)}
    assert [row[1] for row in rows[1:]] == ["'" + HYPERLINK] * 2


def test_the_police_batch_csv_keeps_names_readable_and_inert(hyperlink_unit, payroll, client):
    batch = batching.prepare_batches(by=payroll)[0]
    client.force_login(payroll)

    rows = _csv(
        client.get(reverse("payroll:batch_csv", args=[batch.pk])).content.decode(), delimiter=";"
    )

    assert rows[1][1:3] == ["'-Hansen", "'" + HYPERLINK]


def test_a_unit_named_like_a_formula_is_text_in_the_audit_log_export(
    hyperlink_unit, admin_user, client
):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(LogEntry.objects.values_list("pk", flat=True)),
        },
    )

    rows = _csv(response.content.decode())
    assert "'" + HYPERLINK in [row[5] for row in rows[1:]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
