"""Hostile imports through the real import code: every one must end refused, with its
Danish reason, recorded, nothing half-applied, within the memory and time targets.

Builds the files an attacker used (an XLSX whose shared strings are 5 MB packed, a
workbook of 2 million rows, one row far down a sheet, an SD Løn answer with its DTD after
the first 2,000 bytes, an SD answer of 600 MB that never ends early, text that is neither
UTF-8 nor Windows-1252, a NUL byte and a 510-character name) and runs each through the
scheduled organisation import (portal.tasks.import_organisation), the new-hire upload
(orders.hires.start_file_import) or the SD poll (orders.tasks.poll_sd) in a fresh
process with its own test database, so that the peak memory printed is that case's alone.
The SD answers come from an HTTP server on loopback in this process.

    .venv/bin/python bench/hostile_imports.py            # full size
    .venv/bin/python bench/hostile_imports.py --smoke    # small files, small limits

Target: every process < 600 MB, every answer < 60 s with its reason, nothing applied.
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("EMAIL_URL", "dummymail://")

LIMIT_MB = 600
LIMIT_SECONDS = 60
MB = 1024 * 1024

# Small files need small limits to be refused: the smoke run (and its test) uses these.
SMOKE_LIMITS = {
    "IMPORT_MAX_FILE_MB": 1,
    "IMPORT_MAX_UNPACKED_MB": 20,
    "IMPORT_MAX_SHARED_STRINGS_MB": 1,
    "IMPORT_MAX_ROWS": 500,
    "SD_MAX_RESPONSE_MB": 1,
}

HEADER = ("Enheds-id", "Navn", "Overordnet", "Forvaltning")
AREA = "Børn og Unge"


# --- Builders ---------------------------------------------------------------------------


def _xlsx(sheet_rows, shared_strings=None) -> bytes:
    """A minimal workbook, written with zipfile so that the sizes in its directory are
    true; `sheet_rows` and `shared_strings` are iterables of XML pieces, packed as they
    come so that building a bomb does not take the memory reading it would."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Enheder" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main">'
            )
            for name in HEADER:
                part.write(f"<si><t>{name}</t></si>".encode())
            for piece in shared_strings or ():
                part.write(piece)
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                + b"".join(
                    f'<c r="{c}1" t="s"><v>{i}</v></c>'.encode() for i, c in enumerate("ABCD")
                )
                + b"</row>"
            )
            for piece in sheet_rows:
                part.write(piece)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def xlsx_with_shared_strings(packed_mb: float) -> bytes:
    """Shared strings that take `packed_mb` in the file and a few hundred times more
    unpacked (openpyxl holds every shared string in memory)."""
    piece = b"<si><t>" + b"Skole" * 6 + b"</t></si>"
    batch = piece * 25_000
    compressor, packed = zlib.compressobj(9), 0

    def pieces():
        nonlocal packed
        while packed < packed_mb * MB:
            packed += len(compressor.compress(batch))
            yield batch

    return _xlsx([b'<row r="2"><c r="A2"><v>1</v></c></row>'], pieces())


def xlsx_with_rows(rows: int) -> bytes:
    """`rows` rows of one cell, without the optional row and cell references, so that
    they pack a thousandfold (2 million rows: a file of a few hundred KB)."""
    row = b'<row><c t="s"><v>1</v></c></row>'

    def pieces():
        for start in range(0, rows, 10_000):
            yield row * min(10_000, rows - start)

    return _xlsx(pieces())


def csv_at_the_limits(rows: int, columns: int, file_mb: int) -> bytes:
    """As many rows and columns as the limits allow, in as many cells as fit the file
    size: the most an import may have to hold, every row of it an error to report."""
    width = max(1, (file_mb * MB // rows) // columns - 1)
    cell = "x" * width
    line = ";".join([f"{cell}"] * columns)
    header = ";".join([*HEADER, *(f"k{i}" for i in range(columns - len(HEADER)))])
    return "\n".join([header, *([line] * (rows - 1)), ""]).encode()[: file_mb * MB]


def xlsx_with_far_row(row: int) -> bytes:
    """One cell at row `row`: a few hundred bytes that are a million empty rows to read."""
    return _xlsx([f'<row r="{row}"><c r="A{row}"><v>1</v></c></row>'.encode()])


def sd_answer_with_late_dtd(offset: int = 2000) -> bytes:
    """An answer whose DTD (a billion laughs) comes after `offset` bytes of comment."""
    laughs = "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "ha">' for i in range(10)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><!--{"x" * offset}-->'
        f"<!DOCTYPE GetEmploymentChangedAtDate20111201 [{laughs}]>"
        "<GetEmploymentChangedAtDate20111201><Person><PersonGivenName>&l9;</PersonGivenName>"
        "</Person></GetEmploymentChangedAtDate20111201>"
    ).encode()


def sd_answer_chunks(total_mb: int):
    """An answer of `total_mb` in pieces: persons without end, as a hostile or broken
    SD might send, with no Content-Length to refuse it by."""
    yield b'<?xml version="1.0" encoding="UTF-8"?><GetEmploymentChangedAtDate20111201>'
    person = b"<Person><PersonGivenName>Anna</PersonGivenName></Person>" * 1000
    sent = 0
    while sent < total_mb * MB:
        yield person
        sent += len(person)
    yield b"</GetEmploymentChangedAtDate20111201>"


def csv_file(*rows: str, encoding: str = "utf-8") -> bytes:
    return "\n".join([";".join(HEADER), *rows, ""]).encode(encoding)


# --- The cases ----------------------------------------------------------------------------

# name: (label, how it is imported, builder of the full-size file, of the smoke-size file)
CASES = {
    "xlsx_shared_strings": (
        "XLSX, 5 MB of shared strings",
        "org",
        lambda: xlsx_with_shared_strings(5),
        lambda: xlsx_with_shared_strings(0.02),
    ),
    "xlsx_2m_rows": (
        "XLSX, 2 million rows",
        "org",
        lambda: xlsx_with_rows(2_000_000),
        lambda: xlsx_with_rows(5_000),
    ),
    "xlsx_far_row": (
        "XLSX, one cell in row 1,048,576",
        "org",
        lambda: xlsx_with_far_row(1_048_576),
        lambda: xlsx_with_far_row(5_000),
    ),
    "xlsx_rows_no_dimension": (
        # Just inside the unpacked limit, and no declared size: openpyxl reads it all once
        # to look for one before the rows are read; the slowest XLSX the limits allow.
        "XLSX, 900,000 rows, no size declared",
        "org",
        lambda: xlsx_with_rows(900_000),
        lambda: xlsx_with_rows(2_000),
    ),
    "csv_at_the_limits": (
        "CSV just inside every limit",
        "org",
        lambda: csv_at_the_limits(20_000, 100, 10),
        lambda: csv_at_the_limits(500, 100, 1),
    ),
    "hire_xlsx_2m_rows": (
        "new-hire XLSX, 2 million rows",
        "hire",
        lambda: xlsx_with_rows(2_000_000),
        lambda: xlsx_with_rows(5_000),
    ),
    "csv_not_text": (
        "CSV, neither UTF-8 nor cp1252",
        "org",
        lambda: csv_file("1;Skole;;Børn og Unge", encoding="utf-8")[:-1] + b"\x81\n",
        lambda: csv_file("1;Skole;;Børn og Unge", encoding="utf-8")[:-1] + b"\x81\n",
    ),
    "csv_nul_and_long_name": (
        "CSV, a NUL byte and a 510-character name",
        "org",
        lambda: csv_file(f"1;Sko\x00le;;{AREA}", f"2;{'N' * 510};;{AREA}"),
        lambda: csv_file(f"1;Sko\x00le;;{AREA}", f"2;{'N' * 510};;{AREA}"),
    ),
    "sd_late_dtd": (
        "SD answer, DTD after 2,000 bytes",
        "sd",
        lambda: sd_answer_with_late_dtd(2000),
        lambda: sd_answer_with_late_dtd(2000),
    ),
    "sd_600mb": (
        "SD answer of 600 MB, streamed",
        "sd",
        lambda: 600,
        lambda: 3,
    ),
}


def run_case(name: str, path: Path | None, sd_url: str = "") -> dict:
    """One case through the real code, on the database configured (a test database).
    Returns what a person would see: the state, the reason, whether anything was applied,
    whether the file moved to fejlet/ and whether an e-mail was queued."""
    from django.conf import settings
    from django.utils import translation

    from orders import hires
    from orders import tasks as order_tasks
    from orders.hires import SourceError
    from orders.models import Hire, HireImport, Notification
    from portal import tasks as portal_tasks
    from portal.models import Area, OrgImport, Unit, User

    _label, kind, _full, _smoke = CASES[name]
    Area.objects.get_or_create(name=AREA)
    User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "a@k.dk"}
    )
    payroll, _ = User.objects.get_or_create(
        username="loen", defaults={"is_payroll": True, "email": "loen@k.dk"}
    )
    started = time.perf_counter()
    with translation.override("da"):
        if kind == "org":
            settings.ORG_IMPORT_SOURCE, settings.ORG_DROP_FOLDER = "folder", str(path.parent)
            portal_tasks.import_organisation()
            record = OrgImport.objects.first()
            state, reason = record.state, record.error
            applied = Unit.objects.exists()
            moved = (path.parent / "fejlet").is_dir() and not path.exists()
            emailed = Notification.objects.filter(template="org_import_failed").exists()
        elif kind == "hire":
            try:
                hires.start_file_import(data=path.read_bytes(), filename=path.name, by=payroll)
            except SourceError as error:
                reason = str(error)
            record = HireImport.objects.first()
            state = record.state
            reason = record.error or reason
            applied, moved, emailed = Hire.objects.exists(), None, None
        else:
            settings.SD_URL, settings.SD_INSTITUTION = sd_url, "XY"
            order_tasks.poll_sd()
            record = HireImport.objects.first()
            state, reason = record.state, record.error
            applied, moved = Hire.objects.exists(), None
            emailed = Notification.objects.filter(template="sd_poll_failed").exists()
    return {
        "case": name,
        "state": state,
        "reason": reason,
        "applied": applied,
        "moved": moved,
        "emailed": emailed,
        "seconds": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- The loopback SD ------------------------------------------------------------------


def serve_sd(answers: dict[str, object]) -> tuple[ThreadingHTTPServer, str]:
    """SD Løn on loopback: each case's path answers its bytes, or its size in MB of an
    answer streamed without a Content-Length (so only reading it can tell its size)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection does

        def do_GET(self):
            case = self.path.split("/")[1]
            answer = answers.get(case)
            self.send_response(200 if answer is not None else 404)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            try:
                if isinstance(answer, bytes):
                    self.wfile.write(answer)
                elif isinstance(answer, int):
                    for chunk in sd_answer_chunks(answer):
                        self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the portal stopped reading: what it should do

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


# --- Running ----------------------------------------------------------------------------


def _child(name: str, path: str, sd_url: str, smoke: bool) -> None:
    """One case in this fresh process, on a test database of its own."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    if smoke:
        for setting, value in SMOKE_LIMITS.items():
            setattr(settings, setting, value)
    setup_test_environment()
    # Tables straight from the models (the bench needs no data migrations), in a
    # database file of its own when it is SQLite.
    connection.settings_dict["TEST"]["MIGRATE"] = False
    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="hostile-imports-db-")
        connection.settings_dict["TEST"]["NAME"] = f"{folder}/test.sqlite3"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = run_case(name, Path(path) if path else None, sd_url)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(result))


def build(folder: Path, smoke: bool) -> tuple[dict[str, Path | None], dict[str, object]]:
    """Each case's file in a folder of its own (the drop folder), and the SD answers."""
    paths, answers = {}, {}
    for name, (_label, kind, full, small) in CASES.items():
        made = (small if smoke else full)()
        if kind == "sd":
            answers[name], paths[name] = made, None
            continue
        case_folder = folder / name
        case_folder.mkdir()
        suffix = ".csv" if name.startswith("csv") else ".xlsx"
        paths[name] = case_folder / f"enheder{suffix}"
        paths[name].write_bytes(made)
    return paths, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small files and small limits")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--path", default="", help=argparse.SUPPRESS)
    parser.add_argument("--sd-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        _child(args.case, args.path, args.sd_url, args.smoke)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="hostile-imports-"))
    started = time.perf_counter()
    paths, answers = build(folder, args.smoke)
    sizes = {n: p.stat().st_size for n, p in paths.items() if p is not None}
    print(f"{len(CASES)} cases built in {folder} ({time.perf_counter() - started:.1f} s)")
    server, url = serve_sd(answers)
    header = f"{'case':42} {'KB':>7} {'state':8} {'s':>6} {'peak MB':>7}  reason"
    print(header)
    print("-" * len(header))
    rows = []
    try:
        for name, (label, _kind, _full, _small) in CASES.items():
            command = [sys.executable, __file__, "--case", name]
            command += ["--path", str(paths[name] or ""), "--sd-url", f"{url}/{name}"]
            command += ["--smoke"] if args.smoke else []
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            try:
                row = json.loads(done.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                row = {"case": name, "state": "CRASHED", "reason": done.stderr[-300:]}
                row.update(seconds=0, peak_mb=0, applied=None, moved=None, emailed=None)
            row["ok"] = (
                row["state"] == "failed"
                and bool(row["reason"])
                and not row["applied"]
                and row["moved"] is not False
                and row["emailed"] is not False
                and row["seconds"] < LIMIT_SECONDS
                and row["peak_mb"] < LIMIT_MB
            )
            rows.append(row)
            size = sizes.get(name, 0) // 1024 if name in sizes else "-"
            print(
                f"{label:42} {size:>7} {row['state']:8} {row['seconds']:>6.1f} "
                f"{row['peak_mb']:>7.0f}  {row['reason'][:150]}"
                + ("" if row["ok"] else "   <-- NOT CONTAINED")
            )
    finally:
        server.shutdown()
        for path in folder.rglob("*"):
            if path.is_file():
                path.unlink()
    ok = all(row["ok"] for row in rows)
    worst = max(row["peak_mb"] for row in rows)
    print(
        f"\nall refused with a reason, nothing applied, moved and e-mailed: "
        f"{'yes' if ok else 'NO'}; largest process {worst:.0f} MB (target < {LIMIT_MB} MB), "
        f"slowest {max(row['seconds'] for row in rows):.1f} s (target < {LIMIT_SECONDS} s)"
    )
    return 0 if ok else 1


def smoke() -> int:
    """The whole bench on small files with small limits (a minute, not several)."""
    return main(["--smoke"])


if __name__ == "__main__":
    sys.exit(main())
