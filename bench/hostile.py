"""Hostile PDFs through the real intake: every one must end contained, with a reason.

Builds CPU bombs, memory bombs, deep nesting, thousands of pages and active content in a
temporary folder, receives each through robot.intake.ingest_bytes and the pipeline on a
fresh test database (whatever DATABASE_URL points at), and prints per file the outcome,
the reason, the wall time and the peak memory of the process that read it (the sandbox's
reader) and of this process. Then the sandbox's cost per ordinary certificate.
    .venv/bin/python bench/hostile.py [--keep]
Target: every file contained, no process above 600 MB.
"""

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("EMAIL_URL", "dummymail://")

LIMIT_MB = 600
MB = 1024 * 1024


# --- Builders (pypdf only) ---------------------------------------------------------------


def _write(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(writer, *pieces: tuple[bytes, int], compress: bool = True):
    """A stream of the given pieces, each (bytes, times), compressed as it is made so that
    building a bomb does not take the memory reading it would."""
    from pypdf.generic import NameObject, StreamObject

    stream = StreamObject()
    if compress:
        compressor, out = zlib.compressobj(9), []
        for piece, times in pieces:
            batch = max(1, MB // max(1, len(piece)))
            for start in range(0, times, batch):
                out.append(compressor.compress(piece * min(batch, times - start)))
        stream._data = b"".join(out) + compressor.flush()
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    else:
        stream._data = b"".join(piece * times for piece, times in pieces)
    return writer._add_object(stream)


def _page_with_font(writer):
    from pypdf.generic import DictionaryObject, NameObject

    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    return page


def cpu_bomb_text_operators(count: int = 390_000) -> bytes:
    """One page of hundreds of thousands of text operators (just under pypdf's budget of
    2 million tokens a stream): about 30 s of CPU, from 11 KB."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    page = _page_with_font(writer)
    page[NameObject("/Contents")] = _stream(
        writer, (b"BT /F1 1 Tf ", 1), (b"1 0 Td (a) Tj ", count), (b"ET", 1)
    )
    return _write(writer)


def cpu_bomb_nested_arrays(depth: int = 200, count: int = 4900) -> bytes:
    """Operands that are arrays nested hundreds deep, thousands of times over."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    page = _page_with_font(writer)
    operand = b"[" * depth + b"(a)" + b"]" * depth
    page[NameObject("/Contents")] = _stream(
        writer, (b"BT /F1 1 Tf ", 1), (operand + b" TJ\n", count), (b"ET", 1)
    )
    return _write(writer)


def memory_bomb_one_stream(mb: int = 400) -> bytes:
    """One content stream that inflates to hundreds of MB (pypdf's own cap catches it)."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    page = _page_with_font(writer)
    page[NameObject("/Contents")] = _stream(writer, (b" ", mb * MB))
    return _write(writer)


def memory_bomb_long_string(mb: int = 70) -> bytes:
    """One string of 70 MB (under every cap of pypdf's): text extraction takes it to about
    a gigabyte, from 70 KB."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    page = _page_with_font(writer)
    page[NameObject("/Contents")] = _stream(
        writer, (b"BT /F1 1 Tf (", 1), (b"\xe6", mb * MB), (b") Tj ET", 1)
    )
    return _write(writer)


def xref_bomb(entries: int = 1_000_000) -> bytes:
    """A cross-reference stream of a million entries, from 8 KB."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    rows = b"\x00\x00\x00\x00\x00\xff" + b"".join(
        b"\x01" + offset.to_bytes(4, "big") + b"\x00" for offset in offsets
    )
    rows += (b"\x01" + offsets[0].to_bytes(4, "big") + b"\x00") * entries
    data = zlib.compress(rows, 9)
    start = len(out)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 1] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % (len(objects) + 1, len(objects) + 1 + entries, len(data))
    )
    out += data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def memory_bomb_many_streams(streams: int = 12, mb_each: int = 60) -> bytes:
    """Many content streams each below pypdf's cap, hundreds of MB together on one page."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    writer = PdfWriter()
    page = _page_with_font(writer)
    # Text operators, not spaces: pypdf must keep what it parses.
    operator = b"(" + b"a" * 46 + b") Tj "
    one = _stream(writer, (operator, mb_each * MB // len(operator)))
    page[NameObject("/Contents")] = ArrayObject([one] * streams)
    return _write(writer)


def deep_nesting(depth: int = 100_000) -> bytes:
    """An object of arrays nested a hundred thousand deep, reachable from the catalogue."""
    body = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Deep 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        body,
    ]
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def many_pages(count: int = 5000) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=595, height=842)
    return _write(writer)


def with_active_content(certificate: bytes, kind: str) -> bytes:
    """A real certificate with one kind of active content added."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(certificate)))
    root = writer._root_object
    if kind == "javascript":  # document-level, in the /Names /JavaScript tree
        action = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/S"): NameObject("/JavaScript"),
                    NameObject("/JS"): TextStringObject("app.alert('hej');"),
                }
            )
        )
        root[NameObject("/Names")] = DictionaryObject(
            {
                NameObject("/JavaScript"): DictionaryObject(
                    {NameObject("/Names"): ArrayObject([TextStringObject("hej"), action])}
                )
            }
        )
    elif kind == "open_action":
        root[NameObject("/OpenAction")] = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/S"): NameObject("/JavaScript"),
                    NameObject("/JS"): TextStringObject("app.launchURL('https://example.com');"),
                }
            )
        )
    elif kind == "page_aa":
        writer.pages[0][NameObject("/AA")] = DictionaryObject(
            {
                NameObject("/O"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/URI"),
                        NameObject("/URI"): TextStringObject("https://example.com/"),
                    }
                )
            }
        )
    elif kind == "launch":
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                NameObject("/A"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/Launch"),
                        NameObject("/F"): TextStringObject("cmd.exe"),
                    }
                ),
            }
        )
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    elif kind == "embedded_file":
        writer.add_attachment("faktura.exe", b"MZ not really a program")
    elif kind == "file_attachment_annotation":
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/FileAttachment"),
                NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            }
        )
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    elif kind == "xfa":
        root[NameObject("/AcroForm")] = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Fields"): ArrayObject(),
                    NameObject("/XFA"): _stream(writer, (b"<xdp:xdp/>", 1), compress=False),
                }
            )
        )
    else:
        raise ValueError(kind)
    return _write(writer)


# --- The run ----------------------------------------------------------------------------


def _certificate() -> tuple[bytes, str]:
    """A clean generated certificate (as bench/robot.py makes them) and its CPR."""
    import importlib.util

    # bench/robot.py, loaded by path: "robot" is the app's name.
    spec = importlib.util.spec_from_file_location("bench_robot", ROOT / "bench" / "robot.py")
    bench_robot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_robot)
    bench_robot.CACHE.mkdir(exist_ok=True)
    return bench_robot.make_pdf(1).read_bytes(), bench_robot.cpr_for(1)


def build(folder: Path, certificate: bytes) -> list[tuple[str, Path]]:
    files = [
        ("ordinary certificate", "certifikat.pdf", lambda: certificate),
        ("CPU: 600k text operators", "cpu-operatorer.pdf", cpu_bomb_text_operators),
        ("CPU: nested array operands", "cpu-arrays.pdf", cpu_bomb_nested_arrays),
        ("memory: one 400 MB stream", "hukommelse-en.pdf", memory_bomb_one_stream),
        ("memory: 12 x 60 MB streams", "hukommelse-mange.pdf", memory_bomb_many_streams),
        ("memory: one 70 MB string", "hukommelse-streng.pdf", memory_bomb_long_string),
        ("xref: 1M entries", "xref.pdf", xref_bomb),
        ("deep nesting (100k)", "dyb.pdf", deep_nesting),
        ("5,000 pages", "sider.pdf", many_pages),
    ]
    for kind in (
        "javascript",
        "open_action",
        "page_aa",
        "launch",
        "embedded_file",
        "file_attachment_annotation",
        "xfa",
    ):
        files.append(
            (
                f"active: {kind}",
                f"aktiv-{kind}.pdf",
                lambda kind=kind: with_active_content(certificate, kind),
            )
        )
    built = []
    for label, name, make in files:
        path = folder / name
        path.write_bytes(make())
        built.append((label, path))
    return built


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep the built files")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    certificate, cpr = _certificate()
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    started = time.perf_counter()
    files = build(folder, certificate)
    print(f"{len(files)} files built in {folder} ({time.perf_counter() - started:.1f} s)")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rows = run(files, cpr)
        overhead(certificate)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if not args.keep:
            for _, path in files:
                path.unlink()
            folder.rmdir()
    contained = all(row["contained"] for row in rows)
    worst = max(max(row["child_mb"], row["self_mb"]) for row in rows)
    print(
        f"\nall contained: {'yes' if contained else 'NO'}; largest process: {worst:.0f} MB "
        f"(target < {LIMIT_MB} MB): {'OK' if contained and worst < LIMIT_MB else 'FAILED'}"
    )
    sys.exit(0 if contained and worst < LIMIT_MB else 1)


def run(files, cpr: str) -> list[dict]:
    from django.conf import settings
    from django.utils import timezone

    from orders.models import OrderLine
    from orders.services import place_order
    from portal.models import Unit, User
    from robot import sandbox
    from robot.demo import load_demo_data
    from robot.extraction import read_limits
    from robot.intake import ingest_bytes
    from robot.pipeline import process_document

    settings.DOCUMENT_ROOT = tempfile.mkdtemp(prefix="hostile-documents-")
    load_demo_data(with_orders=False)
    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Lærer")
    # The person of the certificate has an order, so the ordinary certificate can match.
    place_order(
        by=manager,
        unit=unit,
        profile=profile,
        full_name="Person 1",
        cpr=cpr,
        start_date=timezone.localdate(),
        legal_bases=[r.legal_basis for r in profile.requirements.all()],
        child_contact=None,
        submission_token=uuid.uuid4(),
    )
    OrderLine.objects.update(status="ordered", ordered_at=timezone.now())

    outcomes = []
    real_read = sandbox.read

    def watched(data, **limits):
        outcome = real_read(data, **limits)
        outcomes.append(outcome)
        return outcome

    sandbox.read = watched
    limits = read_limits()
    print(
        f"limits: {limits['cpu_seconds']:g} s CPU, {limits['memory_mb']} MB, "
        f"{limits['wall_seconds']:g} s wall\n"
    )
    header = (
        f"{'file':30} {'KB':>6} {'state':13} {'wall s':>6} {'reader MB':>9} {'self MB':>7}  reason"
    )
    print(header)
    print("-" * len(header))
    rows = []
    try:
        for label, path in files:
            outcomes.clear()
            data = path.read_bytes()
            started = time.perf_counter()
            document, _ = ingest_bytes(data, filename=path.name, source="upload", process=False)
            process_document(document_id=document.pk)
            wall = time.perf_counter() - started
            document.refresh_from_db()
            child_mb = max((o.maxrss_kb for o in outcomes), default=0) / 1024
            self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            read = (
                bool(outcomes)
                and outcomes[-1].status == sandbox.DONE
                and not (outcomes[-1].answer["problem"] or outcomes[-1].answer["active"])
            )
            # Contained: a hostile file ends in a state a person sees, with a reason, never
            # clean; the ordinary certificate is read (what the pipeline then decides about
            # it is its business: the state shows it).
            contained = (
                read
                if label == "ordinary certificate"
                else document.state != "received"
                and document.outcome != "clean"
                and bool(document.reason)
            )
            rows.append({"contained": contained, "child_mb": child_mb, "self_mb": self_mb})
            print(
                f"{label:30} {len(data) // 1024:>6} {document.state:13} {wall:>6.1f} "
                f"{child_mb:>9.0f} {self_mb:>7.0f}  {document.reason[:110]}"
                + ("" if contained else "   <-- NOT CONTAINED")
            )
    finally:
        sandbox.read = real_read
    sandbox._sandbox.close()  # reaps the helper, so RUSAGE_CHILDREN includes its readers
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\npeak of any reaped child process (RUSAGE_CHILDREN): {children:.0f} MB; "
        f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return rows


def overhead(certificate: bytes, rounds: int = 5, documents: int = 100) -> None:
    """What the sandbox costs per ordinary certificate (best of several rounds)."""
    from robot import sandbox
    from robot.extraction import MAX_PAGES, MIN_TEXT_CHARS, read_limits

    limits = {**read_limits(), "max_pages": MAX_PAGES, "min_text_chars": MIN_TEXT_CHARS}
    ways = {
        "in this process (no limits)": lambda: sandbox.read_pdf(
            certificate, max_pages=MAX_PAGES, min_text_chars=MIN_TEXT_CHARS
        ),
        "sandbox, reader kept (default)": lambda: sandbox.read(certificate, **limits),
        "sandbox, fresh reader per doc": lambda: sandbox.read(
            certificate, recycle_after=1, **limits
        ),
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, way in ways.items():
            started = time.perf_counter()
            for _ in range(documents):
                way()
            best[name] = min(best[name], (time.perf_counter() - started) / documents)
    print(f"\nreading one ordinary certificate (best of {rounds} rounds of {documents}):")
    base = best["in this process (no limits)"]
    for name, seconds in best.items():
        print(f"  {name:32} {seconds * 1000:6.1f} ms  ({(seconds - base) * 1000:+.1f} ms)")
    started = time.perf_counter()
    sandbox._sandbox.close()
    sandbox.read(certificate, **limits)
    print(
        f"  {'first document (starts helper)':32} {(time.perf_counter() - started) * 1000:6.1f} ms"
    )


if __name__ == "__main__":
    main()
