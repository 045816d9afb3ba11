"""Reading the tables HR systems export: CSV (semicolon or comma; UTF-8 or Windows-1252)
and XLSX (openpyxl, read-only). Rows carry the number a spreadsheet shows, for error
messages.

Every file is hostile until read: its size, the unpacked size of an XLSX's parts, the
number of rows and columns and the length of a cell are checked against the IMPORT_MAX_*
settings, the sizes before anything is unpacked, the rest while rows stream past, so that
no file can make an import take more memory or time than the limits allow.
"""

import csv
import io
import unicodedata
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _

from .cpr import redact_cprs

MB = 1024 * 1024


class TableError(Exception):
    """The file could not be read at all; the message is fit for the user."""


def read_table(
    data: bytes, filename: str, *, sheet: int = 0
) -> list[tuple[int, dict[str, object]]]:
    """(row number as the spreadsheet shows it, {header: value}) for every non-empty row."""
    check_file_size(len(data))
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(data, sheet)
    elif filename.lower().endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise TableError(_("Upload a CSV or XLSX file."))
    rows = _limited(rows)
    try:
        _number, header = next(rows)
    except StopIteration:
        raise TableError(_("The file is empty.")) from None
    names = [str(h or "").strip() for h in header]
    table = []
    for number, values in rows:
        if not any(str(v or "").strip() for v in values):
            continue
        values = list(values)
        # Every row has every column: a spreadsheet or CSV row whose last cells are empty
        # is shorter than the header, and a missing key would read as a missing column.
        values += [None] * (len(names) - len(values))
        table.append((number, dict(zip(names, values, strict=False))))
    return table


def check_file_size(size: int) -> None:
    limit = settings.IMPORT_MAX_FILE_MB
    if size > limit * MB:
        raise TableError(
            _("The file is larger than %(limit)s MB; it has not been read.") % {"limit": limit}
        )


def shown(value: object, limit: int = 50) -> str:
    """A value from a file as an error message may quote it: no control characters (a NUL
    cannot even be stored), no CPR number, and short."""
    text = "".join(" " if is_control(ch) else ch for ch in str(value))
    text = redact_cprs(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def has_control_chars(value: str) -> bool:
    return any(is_control(ch) for ch in value)


def _limited(rows):
    """Number the rows and stop at the first that breaks a limit: the rest is never read."""
    max_rows, max_columns = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS
    max_chars = settings.IMPORT_MAX_CELL_CHARS
    # The header is row 1; a spreadsheet's missing rows count, so a row far down the
    # sheet stops the read as soon as it is reached.
    for number, values in enumerate(rows, start=1):
        if number > max_rows + 1:
            raise TableError(
                _("The file has more than %(limit)s rows; it has not been read.")
                % {"limit": max_rows}
            )
        # Trailing empty cells are padding (openpyxl, a trailing delimiter), not columns.
        width = len(values)
        while width and (values[width - 1] is None or values[width - 1] == ""):
            width -= 1
        if width > max_columns:
            raise TableError(
                _("Row %(row)s has more than %(limit)s columns; the file has not been read.")
                % {"row": number, "limit": max_columns}
            )
        for value in values[:width]:
            if isinstance(value, str) and len(value) > max_chars:
                raise TableError(
                    _(
                        "Row %(row)s has a cell of more than %(limit)s characters; "
                        "the file has not been read."
                    )
                    % {"row": number, "limit": max_chars}
                )
        yield number, values[:width]


def _csv_rows(data: bytes):
    text = _decode(data)
    first = text[:4096].split("\n", 1)[0]  # not the whole text: that would copy it
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        # A NUL byte (before Python 3.11), an over-long field, a stray quote.
        raise TableError(_("The file could not be read as CSV.")) from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined: the file is neither text we know.
        raise TableError(
            _("The file is not text in UTF-8 or Windows-1252; save it as CSV (UTF-8) again.")
        ) from None


def check_xlsx_archive(data: bytes) -> None:
    """The zip's directory says how large each part unpacks to, and zipfile refuses to
    unpack more than that (a part that lies fails its CRC check): so the unpacked size is
    checked here, before openpyxl unpacks anything. The shared strings are held in memory
    whole by openpyxl, so they have a tighter limit of their own."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TableError(_("The file could not be read as an XLSX workbook.")) from None
    total_limit = settings.IMPORT_MAX_UNPACKED_MB
    strings_limit = settings.IMPORT_MAX_SHARED_STRINGS_MB
    if len(members) > 1000 or sum(m.file_size for m in members) > total_limit * MB:
        raise TableError(
            _("The workbook unpacks to more than %(limit)s MB; it has not been read.")
            % {"limit": total_limit}
        )
    strings = _shared_strings_parts(data, members)
    for member in members:
        if member.filename in strings and member.file_size > strings_limit * MB:
            raise TableError(
                _("The workbook's texts take more than %(limit)s MB; it has not been read.")
                % {"limit": strings_limit}
            )


def _shared_strings_parts(data: bytes, members: list[zipfile.ZipInfo]) -> set[str]:
    """The parts openpyxl reads as shared strings: found, as openpyxl finds them, by their
    content type, since a workbook may give the part any name."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    parts = {m.filename for m in members if m.filename.lower().endswith("sharedstrings.xml")}
    types = next((m for m in members if m.filename == "[Content_Types].xml"), None)
    if types is None or types.file_size > MB:
        return parts
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = fromstring(archive.read(types), forbid_dtd=True)
    except (zipfile.BadZipFile, DefusedXmlException, ValueError, OSError, SyntaxError):
        return parts  # openpyxl will not read it either
    for override in root:
        if override.get("ContentType", "").endswith("sharedStrings+xml"):
            parts.add(override.get("PartName", "").lstrip("/"))
    return parts


def _xlsx_rows(data: bytes, sheet: int):
    from openpyxl import load_workbook

    check_xlsx_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise TableError(_("The file could not be read as an XLSX workbook.")) from None
    try:
        if sheet >= len(workbook.worksheets):
            return
        worksheet = workbook.worksheets[sheet]
        # The sheet's declared size (which may claim 16,384 columns) would pad every row.
        worksheet.reset_dimensions()
        rows = worksheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception:  # a broken sheet: bad references, bad XML, a lying part
                raise TableError(_("The file could not be read as an XLSX workbook.")) from None
            yield row
    finally:
        workbook.close()
