"""Reading the tables HR systems export: CSV (semicolon or comma; UTF-8 or Windows-1252)
and XLSX (openpyxl). Rows carry the number a spreadsheet shows, for error messages."""

import csv
import io

from django.utils.translation import gettext as _


class TableError(Exception):
    """The file could not be read at all; the message is fit for the user."""


def read_table(
    data: bytes, filename: str, *, sheet: int = 0
) -> list[tuple[int, dict[str, object]]]:
    """(row number as the spreadsheet shows it, {header: value}) for every non-empty row."""
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(data, sheet)
    elif filename.lower().endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise TableError(_("Upload a CSV or XLSX file."))
    try:
        header = next(rows)
    except StopIteration:
        raise TableError(_("The file is empty.")) from None
    names = [str(h or "").strip() for h in header]
    table = []
    for number, values in enumerate(rows, start=2):
        if not any(str(v or "").strip() for v in values):
            continue
        table.append((number, dict(zip(names, values, strict=False))))
    return table


def sheet_count(data: bytes) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return len(workbook.worksheets)
    finally:
        workbook.close()


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes, sheet: int):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise TableError(_("The file could not be read as an XLSX workbook.")) from None
    try:
        if sheet >= len(workbook.worksheets):
            return
        yield from workbook.worksheets[sheet].iter_rows(values_only=True)
    finally:
        workbook.close()
