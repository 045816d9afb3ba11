"""Hostile files: bombs end unreadable in the queue, active content is never clean, files
too large are refused at the door, and nothing is left waiting out of sight."""

import datetime
import io
import os
import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from robot import sandbox, sweeping
from robot.extraction import pdf_text
from robot.intake import document_path, ingest_bytes
from robot.models import Document
from robot.pipeline import process_document
from robot.reading import evaluate_file

from .conftest import sample

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def small_limits(settings):
    """Small limits keep the bombs quick; the defaults are 20 s and 512 MB."""
    settings.PDF_READ_CPU_SECONDS = 2
    settings.PDF_READ_MEMORY_MB = 512


def _page(writer: PdfWriter, content: bytes):
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
    stream = StreamObject()
    stream._data = zlib.compress(content, 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    return page


def _pdf(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def cpu_bomb() -> bytes:
    """11 KB: 390,000 text operators, half a minute of pypdf's time."""
    writer = PdfWriter()
    _page(writer, b"BT /F1 1 Tf " + b"1 0 Td (a) Tj " * 390_000 + b"ET")
    return _pdf(writer)


def memory_bomb() -> bytes:
    """40 KB: one string of 40 MB, which pypdf's text extraction turns into gigabytes."""
    writer = PdfWriter()
    _page(writer, b"BT /F1 1 Tf (" + b"a" * (40 * MB) + b") Tj ET")
    return _pdf(writer)


def receive(data: bytes, name: str = "x.pdf") -> Document:
    document, _ = ingest_bytes(data, filename=name, source="upload", process=False)
    process_document(document_id=document.pk)
    document.refresh_from_db()
    return document


# --- Bombs --------------------------------------------------------------------------------


def test_a_cpu_bomb_ends_unreadable_with_its_reason_and_the_robot_reads_on(rules):
    started = time.monotonic()
    document = receive(cpu_bomb())

    assert time.monotonic() - started < 15
    assert document.state == "unreadable" and document.outcome == "unreadable"
    assert document.reason == gettext(
        "The PDF took too long to read (over %(seconds)s s of CPU)."
    ) % {"seconds": "2"}
    assert pdf_text(sample("boerneattest_ren.pdf")).ok  # the next document is read as ever


def test_a_memory_bomb_ends_unreadable_with_its_reason_and_the_robot_reads_on(rules, settings):
    settings.PDF_READ_CPU_SECONDS = 10  # so that memory, not time, is what runs out
    settings.PDF_READ_MEMORY_MB = 200

    document = receive(memory_bomb())

    assert document.state == "unreadable"
    assert document.reason == gettext(
        "The PDF needed too much memory to read (over %(mb)s MB)."
    ) % {"mb": 200}
    assert pdf_text(sample("boerneattest_ren.pdf")).ok


def test_the_memory_a_pdf_needs_is_never_in_the_process_that_asked():
    import resource

    bomb = memory_bomb()  # building it takes memory here, before the measurement
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = sandbox.read(
        bomb,
        cpu_seconds=10,
        memory_mb=200,
        wall_seconds=15,
        max_pages=20,
        min_text_chars=40,
    )

    assert outcome.status == sandbox.MEMORY and outcome.maxrss_kb > 100 * 1024
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024


def test_a_pdf_that_hangs_is_killed_at_the_wall_clock_limit(monkeypatch):
    # A reader stopped from outside (as if it slept) is waited for only until the deadline.
    import signal

    sandbox.read(
        b"%PDF-1.4", cpu_seconds=1, memory_mb=512, wall_seconds=5, max_pages=20, min_text_chars=40
    )  # a reader is running
    helper = sandbox._sandbox._process
    readers = [
        int(pid) for pid in open(f"/proc/{helper.pid}/task/{helper.pid}/children").read().split()
    ]
    for pid in readers:
        os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    outcome = sandbox.read(
        sample("boerneattest_ren.pdf"),
        cpu_seconds=1,
        memory_mb=512,
        wall_seconds=1.5,
        max_pages=20,
        min_text_chars=40,
    )

    assert outcome.status == sandbox.TIMEOUT and time.monotonic() - started < 5
    assert pdf_text(sample("boerneattest_ren.pdf")).ok


def test_a_dead_helper_is_started_again():
    sandbox.read(
        b"%PDF-1.4", cpu_seconds=1, memory_mb=512, wall_seconds=5, max_pages=20, min_text_chars=40
    )
    sandbox._sandbox._process.kill()
    sandbox._sandbox._process.wait()

    assert pdf_text(sample("boerneattest_ren.pdf")).ok


# --- Active content -----------------------------------------------------------------------


def _with(kind: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    root, page = writer._root_object, writer.pages[0]
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )
    if kind == "javascript":  # document-level, in the /Names /JavaScript tree
        root[NameObject("/Names")] = DictionaryObject(
            {
                NameObject("/JavaScript"): DictionaryObject(
                    {
                        NameObject("/Names"): ArrayObject(
                            [TextStringObject("x"), writer._add_object(action)]
                        )
                    }
                )
            }
        )
    elif kind == "open_action":
        root[NameObject("/OpenAction")] = writer._add_object(action)
    elif kind == "actions":
        page[NameObject("/AA")] = DictionaryObject(
            {
                NameObject("/O"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/URI"),
                        NameObject("/URI"): TextStringObject("x"),
                    }
                )
            }
        )
    elif kind == "launch":
        page[NameObject("/Annots")] = ArrayObject(
            [
                writer._add_object(
                    DictionaryObject(
                        {
                            NameObject("/Subtype"): NameObject("/Link"),
                            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                            NameObject("/A"): DictionaryObject(
                                {
                                    NameObject("/S"): NameObject("/Launch"),
                                    NameObject("/F"): TextStringObject("cmd"),
                                }
                            ),
                        }
                    )
                )
            ]
        )
    elif kind == "embedded_file":
        writer.add_attachment("faktura.exe", b"MZ")
    elif kind == "file_attachment":
        page[NameObject("/Annots")] = ArrayObject(
            [
                writer._add_object(
                    DictionaryObject(
                        {
                            NameObject("/Subtype"): NameObject("/FileAttachment"),
                            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                        }
                    )
                )
            ]
        )
    elif kind == "xfa":
        xfa = StreamObject()
        xfa._data = b"<xdp:xdp/>"
        root[NameObject("/AcroForm")] = DictionaryObject(
            {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): writer._add_object(xfa)}
        )
    return _pdf(writer)


@pytest.mark.parametrize(
    "kind, named",
    [
        ("javascript", "JavaScript"),
        ("open_action", "JavaScript"),
        ("actions", "actions triggered by the reader (/AA)"),
        ("launch", "an action that starts a program or sends data"),
        ("embedded_file", "an embedded file"),
        ("file_attachment", "an embedded file"),
        ("xfa", "an XFA form"),
    ],
)
def test_active_content_is_never_clean_and_the_reason_says_what_was_found(rules, kind, named):
    assert evaluate_file(sample("boerneattest_ren.pdf"), "a.pdf", rules).outcome == "clean"

    extracted = pdf_text(_with(kind))
    result = evaluate_file(_with(kind), "a.pdf", rules)

    assert extracted.ok and gettext(named) in extracted.doubt
    assert result.outcome == "needs_review"


def test_a_certificate_with_javascript_lands_in_the_queue_not_clean(rules):
    document = receive(_with("open_action"))

    assert document.state == "needs_review" and document.outcome == "needs_review"
    assert gettext("JavaScript") in document.reason


def test_opening_at_a_page_is_not_active_content(rules):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, NameObject("/Fit")]
    )

    assert pdf_text(_pdf(writer)).doubt == ""


def test_a_reference_cycle_does_not_stop_the_check(rules):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    loop = DictionaryObject()
    reference = writer._add_object(loop)
    loop[NameObject("/Next")] = reference
    writer._root_object[NameObject("/Loop")] = reference

    assert pdf_text(_pdf(writer)).doubt == ""


def test_a_long_chain_of_bookmarks_is_not_too_complex_to_check(rules):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    following = None
    for number in range(300):
        item = DictionaryObject({NameObject("/Title"): TextStringObject(str(number))})
        if following is not None:
            item[NameObject("/Next")] = following
        following = writer._add_object(item)
    writer._root_object[NameObject("/Outlines")] = DictionaryObject(
        {NameObject("/First"): following}
    )

    assert pdf_text(_pdf(writer)).doubt == ""


# --- Too large: refused at the door -------------------------------------------------------


def test_an_oversized_upload_is_refused_with_a_danish_message_and_nothing_stored(
    client, payroll, settings, document_root
):
    settings.MAX_DOCUMENT_BYTES = MB
    client.force_login(payroll)

    response = client.post(
        reverse("robot:intake"),
        {
            "files": [
                SimpleUploadedFile("stor.pdf", b"%PDF-" + b"x" * MB, "application/pdf"),
                SimpleUploadedFile("lille.pdf", sample("boerneattest_ren.pdf"), "application/pdf"),
            ]
        },
    )

    assert response.status_code == 200
    with override("da"):
        message = gettext("%(name)s is larger than %(mb)d MB and was not received.") % {
            "name": "stor.pdf",
            "mb": 1,
        }
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert not document_root.exists() or not any(p.is_file() for p in document_root.rglob("*"))


def test_an_oversized_upload_by_the_script_is_refused_too(client, payroll, settings):
    settings.MAX_DOCUMENT_BYTES = MB
    client.force_login(payroll)

    response = client.post(
        reverse("robot:upload"),
        {"file": SimpleUploadedFile("stor.pdf", b"%PDF-" + b"x" * MB, "application/pdf")},
    )

    assert response.status_code == 200 and "stor.pdf" in response.content.decode()
    assert not Document.objects.exists()


def test_the_drop_folder_sets_an_oversized_file_aside_unread(rules, tmp_path, settings):
    settings.MAX_DOCUMENT_BYTES = MB
    folder = tmp_path / "drop"
    folder.mkdir()
    big = folder / "stor.pdf"
    big.write_bytes(b"%PDF-" + b"x" * MB)
    os.utime(big, (time.time() - 60, time.time() - 60))

    assert sweeping.sweep_drop_folder(str(folder)) == 0

    assert not Document.objects.exists() and not big.exists()
    (moved,) = [p for p in (folder / "for-stor").iterdir() if p.suffix == ".pdf"]
    assert moved.name.endswith("-stor.pdf") and moved.stat().st_size == MB + 5
    assert "MB" in moved.with_name(moved.name + ".txt").read_text()


# --- Nothing waits out of sight -----------------------------------------------------------


def _waiting(minutes: int) -> Document:
    document, _ = ingest_bytes(
        f"%PDF-1.4 {minutes}".encode(), filename=f"{minutes}.pdf", source="upload", process=False
    )
    Document.objects.filter(pk=document.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )
    return document


def test_a_document_left_unread_is_retried_then_handed_to_a_person(rules, monkeypatch):
    from robot import tasks

    sent = []
    monkeypatch.setattr(tasks.process_document, "delay", sent.append)
    fresh, retried, stuck = _waiting(2), _waiting(7), _waiting(20)

    result = sweeping.sweep()

    assert sent == [retried.pk] and result["requeued"] == 1 and result["handed_over"] == 1
    states = dict(Document.objects.values_list("pk", "state"))
    assert states[fresh.pk] == states[retried.pk] == "received"
    stuck.refresh_from_db()
    assert stuck.state == "needs_review" and stuck.outcome == "needs_review"
    assert stuck.reason == gettext(
        "The robot tried to read the file several times without "
        "finishing; a person must look at it."
    )


def test_a_file_uploaded_again_says_where_the_first_copy_is(client, payroll, rules):
    client.force_login(payroll)
    first = receive(sample("boerneattest_ren.pdf"), "a.pdf")
    assert first.state in Document.QUEUE_STATES  # no order for it: payroll's queue

    response = client.post(
        reverse("robot:upload"),
        {
            "file": SimpleUploadedFile("igen.pdf", sample("boerneattest_ren.pdf")),
            "origin": "unknown",
        },
    )

    page = response.content.decode()
    assert gettext("Received before") in page and gettext("In payroll's queue") in page
    assert reverse("robot:document", kwargs={"pk": first.pk}) in page
    assert Document.objects.count() == 1 and document_path(first).exists()


def test_the_message_for_a_file_sent_again_names_the_queue_it_is_in(rules):
    from robot.intake import received_before

    document = receive(sample("boerneattest_ren.pdf"), "a.pdf")

    message = received_before(document, name="igen.pdf")

    assert "igen.pdf" in message and str(document.get_state_display()) in message
