"""A signature bomb through the real signature check: it must end in the sandbox, in time.

A certificate signed by the test PKI, then an incremental update that adds 400,000
objects and points the catalog at them: pyHanko's analysis of what changed after signing
walks every one (in the web worker this took 49 s and 1.41 GB). Timed through
robot.provenance_pdf.check_pdf_signature, under the reading limits of the settings;
prints the outcome, the time, and the reader's peak memory as the sandbox reports it.
    .venv/bin/python bench/hostile_signature.py [--objects 400000]
Target: a clear "too big or too slow" error in under 60 s, the reader under 600 MB, and
this process not growing.
"""

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")

OBJECTS = 400_000
LIMIT_SECONDS = 60
LIMIT_MB = 600


def signed_certificate() -> tuple[bytes, bytes]:
    """The ordinary certificate signed by the test PKI, and the PKI's root (PEM)."""
    from tests.robot.pki import sign_pdf, the_pki

    pki = the_pki()
    certificate = (ROOT / "tests" / "samples" / "boerneattest_ren.pdf").read_bytes()
    return sign_pdf(certificate, pki.signer, pki.root), pki.root.pem


def signature_bomb(signed: bytes, objects: int = OBJECTS) -> bytes:
    """`signed` with an incremental update of `objects` small objects, all reachable from
    the catalog (compressed object and xref streams: a few megabytes for 400,000)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    number = generic.NameObject("/N")
    refs = generic.ArrayObject(
        writer.add_object(generic.DictionaryObject({number: generic.NumberObject(i)}))
        for i in range(objects)
    )
    writer.root[generic.NameObject("/Bomb")] = writer.add_object(refs)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def run(objects: int = OBJECTS) -> dict:
    """Build the bomb, check it as the pipeline does; what happened, in figures."""
    from robot import sandbox
    from robot.provenance_pdf import check_pdf_signature

    signed, root = signed_certificate()
    started = time.perf_counter()
    bomb = signature_bomb(signed, objects)
    built = time.perf_counter() - started
    outcomes = []
    real = sandbox.check_signature

    def watched(data, **options):
        outcomes.append(real(data, **options))
        return outcomes[-1]

    sandbox.check_signature = watched
    try:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = check_pdf_signature(bomb, trust_anchor_pems=[root], required=False)
        seconds = time.perf_counter() - started
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    finally:
        sandbox.check_signature = real
    outcome = outcomes[-1] if outcomes else None
    return {
        "objects": objects,
        "kb": len(bomb) // 1024,
        "built_seconds": built,
        "status": result.status,
        "reason": result.reason,
        "sandbox": outcome.status if outcome else "",
        "seconds": seconds,
        "reader_mb": (outcome.maxrss_kb if outcome else 0) / 1024,
        "reader_cpu_seconds": outcome.cpu_seconds if outcome else 0.0,
        "self_grown_mb": grown / 1024,
    }


def report(figures: dict) -> bool:
    from django.conf import settings

    ok = (
        figures["status"] == "error"
        and figures["sandbox"] != "done"
        and figures["seconds"] < LIMIT_SECONDS
        and figures["reader_mb"] < LIMIT_MB
    )
    print(
        f"limits: {settings.PDF_READ_CPU_SECONDS:g} s CPU, {settings.PDF_READ_MEMORY_MB} MB\n"
        f"bomb: {figures['objects']:,} objects in {figures['kb']:,} KB "
        f"(built in {figures['built_seconds']:.1f} s)\n"
        f"outcome: {figures['status']} ({figures['sandbox']}): {figures['reason']}\n"
        f"time: {figures['seconds']:.1f} s (reader {figures['reader_cpu_seconds']:.1f} s CPU), "
        f"reader peak {figures['reader_mb']:.0f} MB, this process grew "
        f"{figures['self_grown_mb']:.0f} MB\n"
        f"target: error in < {LIMIT_SECONDS} s, reader < {LIMIT_MB} MB: "
        + ("OK" if ok else "FAILED")
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=OBJECTS)
    arguments = parser.parse_args(argv)
    django.setup()
    return 0 if report(run(arguments.objects)) else 1


def smoke() -> dict:
    """A small bomb, for the tests: the same path, in a second."""
    return run(objects=2_000)


if __name__ == "__main__":
    sys.exit(main())
