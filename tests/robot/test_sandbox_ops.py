"""What the sandbox does besides reading: it judges signatures and merges PDFs under the
same limits, and its helper never sees the portal's secrets. No database."""

import io
import os
import resource
from pathlib import Path

import pytest
from django.utils.translation import gettext
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

from bench.hostile_signature import signature_bomb
from robot import sandbox
from robot.provenance_pdf import check_pdf_signature

from .conftest import sample
from .pki import sign_pdf, the_pki

PKI = the_pki()
SECRETS = {
    "SECRET_KEY": "a-secret-key-of-the-portal",
    "DATABASE_URL": "postgres://portal:password@db/portal",
    "CPR_ENCRYPTION_KEY": "a-cpr-encryption-key",
    "CPR_HASH_KEY": "a-cpr-hash-key",
    "CELERY_BROKER_URL": "redis://:password@broker:6379/0",
}
LIMITS = {"cpu_seconds": 5, "memory_mb": 512, "wall_seconds": 10}


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _reader_pids(helper_pid: int) -> list[int]:
    return [
        int(pid)
        for pid in Path(f"/proc/{helper_pid}/task/{helper_pid}/children").read_text().split()
    ]


def test_the_helper_and_its_reader_never_see_the_portals_secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    sandbox._sandbox.close()  # a fresh helper, started with these in our environment

    outcome = sandbox.read(
        sample("boerneattest_ren.pdf"), max_pages=20, min_text_chars=40, **LIMITS
    )

    assert outcome.status == sandbox.DONE and "Børneattest" in outcome.answer["text"]
    helper = sandbox._sandbox._process.pid
    readers = _reader_pids(helper)
    assert readers  # the reader is kept for the next document
    for pid in [helper, *readers]:
        environment = _environ(pid)
        assert not set(SECRETS) & set(environment)
        assert not any(name.startswith(("CPR_", "DJANGO", "EMAIL", "OIDC")) for name in environment)
        assert set(environment) <= {*sandbox.HELPER_ENVIRONMENT, "HOME"}
        assert environment["HOME"] != os.environ.get("HOME")
        assert os.listdir(environment["HOME"]) == []
    assert all(os.environ[name] == value for name, value in SECRETS.items())
    home = _environ(helper)["HOME"]
    sandbox._sandbox.close()
    assert not os.path.exists(home)  # the throwaway home goes with the helper


def test_a_helper_whose_caller_ended_without_closing_it_leaves_no_home_behind():
    sandbox._sandbox.close()
    sandbox.read(sample("boerneattest_ren.pdf"), max_pages=20, min_text_chars=40, **LIMITS)
    helper = sandbox._sandbox._process
    home = _environ(helper.pid)["HOME"]

    helper.stdin.close()  # as when the caller's process ends
    helper.wait(timeout=5)

    assert not os.path.exists(home)
    assert pdf_ok()  # and the next document starts a new helper


def pdf_ok() -> bool:
    outcome = sandbox.read(
        sample("boerneattest_ren.pdf"), max_pages=20, min_text_chars=40, **LIMITS
    )
    return outcome.status == sandbox.DONE


# --- Signatures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_pdf() -> bytes:
    return sign_pdf(sample("boerneattest_ren.pdf"), PKI.signer, PKI.root)


def test_a_valid_signature_is_judged_valid_in_the_reader(signed_pdf):
    outcome = sandbox.check_signature(signed_pdf, trust_anchor_pems=[PKI.root.pem], **LIMITS)

    assert outcome.status == sandbox.DONE
    assert outcome.answer == {
        "status": "valid",
        "code": "valid",
        "signer": "Rigspolitiet Testsignatur",
    }
    assert outcome.maxrss_kb > 0  # measured in the reader, not here


def test_a_signature_bomb_ends_as_an_error_for_a_person_without_this_process_growing(
    signed_pdf, settings
):
    # 400,000 objects took pyHanko 49 s and 1.41 GB in the web worker (bench/
    # hostile_signature.py); a tenth of them under a small limit ends the same way.
    settings.PDF_READ_CPU_SECONDS = 10
    settings.PDF_READ_MEMORY_MB = 200
    bomb = signature_bomb(signed_pdf, 40_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    result = check_pdf_signature(bomb, trust_anchor_pems=[PKI.root.pem], required=False)

    assert result.status == "error" and result.acceptable is False
    assert result.reason == gettext("The PDF's digital signature could not be checked: %(why)s") % {
        "why": gettext("The PDF needed too much memory to read (over %(mb)s MB).") % {"mb": 200}
    }
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024
    # The reader that ran out is replaced: the next signature is judged as before.
    assert (
        check_pdf_signature(signed_pdf, trust_anchor_pems=[PKI.root.pem], required=True).status
        == "valid"
    )


def test_a_signature_that_takes_too_long_ends_at_the_cpu_limit(signed_pdf, settings):
    settings.PDF_READ_CPU_SECONDS = 1
    settings.PDF_READ_MEMORY_MB = 1024

    result = check_pdf_signature(
        signature_bomb(signed_pdf, 60_000), trust_anchor_pems=[PKI.root.pem], required=False
    )

    assert result.status == "error"
    assert (
        gettext("The PDF took too long to read (over %(seconds)s s of CPU).") % {"seconds": "1"}
        in result.reason
    )


# --- Merging ---------------------------------------------------------------------------------


def object_bomb(objects: int = 100_000) -> bytes:
    """A page that refers to 100,000 objects, which merging copies one by one."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    page[NameObject("/Bomb")] = writer._add_object(
        ArrayObject(
            writer._add_object(DictionaryObject({NameObject("/N"): NumberObject(i)}))
            for i in range(objects)
        )
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_merging_puts_the_pages_of_all_pdfs_in_order():
    outcome = sandbox.merge(
        [sample("boerneattest_plettet.pdf"), sample("boerneattest_ren.pdf")], **LIMITS
    )

    assert outcome.status == sandbox.DONE and outcome.answer["problem"] == ""
    pages = PdfReader(io.BytesIO(outcome.content)).pages
    assert "registreret med følgende afgørelser" in pages[0].extract_text()
    assert "ikke registreret med afgørelser" in pages[-1].extract_text()


def test_merging_a_hostile_pdf_ends_at_the_memory_limit():
    outcome = sandbox.merge(
        [sample("boerneattest_ren.pdf"), object_bomb()],
        cpu_seconds=10,
        memory_mb=150,
        wall_seconds=15,
    )

    assert outcome.status == sandbox.MEMORY and outcome.content == b""


def test_merging_a_broken_pdf_answers_with_the_error():
    outcome = sandbox.merge([sample("boerneattest_ren.pdf"), b"%PDF-1.7\n garbage"], **LIMITS)

    assert outcome.status == sandbox.DONE and outcome.content == b""
    assert outcome.answer["problem"] == "error" and outcome.answer["args"]["error"]
