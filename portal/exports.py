"""Every spreadsheet the portal hands out, CSV or XLSX, is written here.

A cell that starts with = + - @ or a control character is a formula to Excel and
LibreOffice (OWASP, "CSV Injection"): a unit imported as =HYPERLINK(...) would run on the
desk of whoever opens the export. Text is therefore always written as text: in CSV with a
leading apostrophe, which spreadsheets hide and never evaluate; in XLSX as a string cell
with the quote-prefix style, so Excel shows the value unchanged and keeps it text when
someone edits it. Numbers stay numbers. tests/test_exports.py fails if a module writes a
spreadsheet any other way.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

# The full-width forms too: spreadsheets in East Asian locales read them as the ASCII ones.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
NUMBERS = bool | int | float | Decimal
# XML 1.0 cannot hold these; openpyxl refuses the whole file if a cell has one.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SHEET_TITLE_ILLEGAL = re.compile(r"[\[\]:*?/\\]")


def looks_like_formula(text: str) -> bool:
    first = text[:1]
    return first != "" and (first in FORMULA_STARTS or first < " " or first == "\x7f")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet shows and never runs."""
    if value is None:
        return ""
    if isinstance(value, NUMBERS):
        return value
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


class SafeCsvWriter:
    """csv.writer's writerow and writerows, with every cell through csv_cell."""

    def __init__(self, stream, *, delimiter: str = ","):
        self._writer = csv.writer(stream, delimiter=delimiter)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, *, delimiter: str = ",") -> SafeCsvWriter:
    return SafeCsvWriter(stream, delimiter=delimiter)


def csv_text(headers: Sequence[Any], rows: Iterable[Iterable[Any]], *, delimiter=",") -> str:
    out = io.StringIO()
    writer = csv_writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def _xlsx_cell(sheet, value: Any):
    from openpyxl.cell import WriteOnlyCell

    if value is None or isinstance(value, NUMBERS | datetime.date):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)  # xlsx has no time zones
        return value
    text = XML_ILLEGAL.sub("", str(value))
    cell = WriteOnlyCell(sheet, value=text)
    if looks_like_formula(text):
        cell.data_type = "s"  # openpyxl made it a formula ("f") if it starts with =
        cell.quotePrefix = True
    return cell


def xlsx_bytes(*, title: str, headers: Sequence[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """One sheet: a header row, then the rows; text is text, numbers are numbers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=SHEET_TITLE_ILLEGAL.sub("", str(title))[:31] or "Sheet")
    sheet.append([_xlsx_cell(sheet, header) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
