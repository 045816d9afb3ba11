"""The robot's throughput: ingest, evaluate and match generated certificates.

Prints documents per second for the whole pipeline next to the bare text-extraction
rate on the same files, in the same run, on whatever DATABASE_URL points at:
    .venv/bin/python bench/robot.py [--documents 3000]
Generated PDFs are cached in bench/.cache (WeasyPrint takes a while to make them).
"""

import argparse
import contextlib
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMAIL_URL", "dummymail://")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
WARMUP = 20  # documents processed before the clock starts
ROUND = 50  # documents per round of extraction, then pipeline
TEMPLATE = """<html><body style="font-family: DejaVu Sans; font-size: 10pt">
<h2>RIGSPOLITIET</h2><p>Kriminalregisteret · Polititorvet 14 · 1780 København V</p>
<h1>{title}</h1><p>Udstedt: 18. november 2026</p><p>Journalnr.: KR-2026-{n:07d}</p>
<p>Rekvirent: {rekvirent}</p><p>Attesten vedrører</p><p>Navn: Person {n}</p>
<p>CPR-nr.: {cpr}</p><p>Person {n} {body}</p>
<p>Attesten er udstedt på baggrund af samtykke afgivet digitalt.</p></body></html>"""
CLEAN = "er ikke registreret med afgørelser, der skal fremgå af en {kind}."
NOT_CLEAN = (
    "er registreret med følgende afgørelser, der skal fremgå af en {kind}: "
    "07.06.2018 Retten i Hjørring Fængsel i 8 måneder straffelovens § 222."
)


# Every line is ordered in one of two police batches with fixed references, so that the
# cached certificates carry the Rekvirent reference the provenance check looks for.
BATCHES = {
    "child": ("ATT-261129-B9001", "BENCH2222"),
    "criminal_public": ("ATT-261129-B9002", "BENCH3333"),
}


def cpr_for(n: int) -> str:
    day, month, year = 1 + n % 28, 1 + (n // 28) % 12, (n // 336) % 100
    return f"{day:02d}{month:02d}{year:02d}{1000 + n % 9000:04d}"


def make_pdf(n: int) -> Path:
    path = CACHE / f"cert-ref-{n:05d}.pdf"
    if path.exists():
        return path
    from weasyprint import HTML

    cpr = cpr_for(n)
    title, kind, code = (
        ("Børneattest", "børneattest", "child")
        if n % 2 == 0
        else ("Offentlig straffeattest", "offentlig straffeattest", "criminal_public")
    )
    body = (NOT_CLEAN if n % 10 == 0 else CLEAN).format(kind=kind)
    reference, secret = BATCHES[code]
    html = TEMPLATE.format(
        title=title,
        n=n,
        cpr=f"{cpr[:6]}-{cpr[6:]}",
        body=body,
        rekvirent=f"{reference}-{secret} Demo Kommune",
    )
    path.write_bytes(HTML(string=html).write_pdf())
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for the second, parallel pipeline run"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print where the pipeline's time goes (cProfile; slows the pipeline)",
    )
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    started = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        paths = pool.map(make_pdf, range(args.documents), chunksize=50)
    print(
        f"{len(paths)} certificates ready ({time.perf_counter() - started:.0f} s incl. "
        f"generation of uncached ones)"
    )
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(paths, args.workers, profile=args.profile)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


class QueryCounter:
    """Counts statements on the default connection, cheaply enough to leave on while
    timing."""

    def __init__(self) -> None:
        self.queries = 0

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    @contextlib.contextmanager
    def counting(self):
        with connection.execute_wrapper(self._count):
            yield


def _process_ids(ids: list[int]) -> None:
    from django.db import connections

    from robot.pipeline import process_document

    connections.close_all()  # a forked worker must not share its parent's connection
    for pk in ids:
        process_document(document_id=pk)
    connections.close_all()


def run(paths: list[Path], workers: int, *, profile: bool = False) -> None:
    import cProfile
    import pstats
    import tempfile

    from django.conf import settings
    from django.utils import timezone

    from orders.models import CertificateKind, OrderLine, PoliceBatch
    from orders.services import place_order
    from portal.models import Unit, User
    from robot.demo import load_demo_data
    from robot.extraction import pdf_text
    from robot.intake import ingest_bytes
    from robot.models import Document, FilingJob, ModeSwitch, RuleSet, Upload
    from robot.pipeline import process_document

    settings.DOCUMENT_ROOT = tempfile.mkdtemp(prefix="bench-documents-")
    # As in production, reading a document only queues the filing and the e-mails for
    # their own workers (bench/filing.py measures filing): an in-memory broker takes them.
    from portal.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    load_demo_data(with_orders=False)
    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    teacher = unit.area.profiles.get(name="Lærer")
    bases = [r.legal_basis for r in teacher.requirements.all()]
    for n in range(len(paths)):
        place_order(
            by=manager,
            unit=unit,
            profile=teacher,
            full_name=f"Person {n}",
            cpr=cpr_for(n),
            start_date=timezone.localdate(),
            legal_bases=bases,
            child_contact=None,
            submission_token=uuid.uuid4(),
        )
    payroll = User.objects.get(username="loen")
    for code, (reference, secret) in BATCHES.items():
        kind = CertificateKind.objects.get(code=code)
        batch = PoliceBatch.objects.create(
            reference=reference,
            secret=secret,
            kind=kind,
            state=PoliceBatch.State.ORDERED,
            legal_basis=OrderLine.objects.filter(kind=kind).first().legal_basis,
            ordered_at=timezone.now(),
            created_by=payroll,
        )
        OrderLine.objects.filter(kind=kind).update(batch=batch)
    OrderLine.objects.update(status="ordered", ordered_at=timezone.now())
    # A municipality past its trial: the robot acts alone, no random checks.
    settings.AUTOMATIC_SAMPLE_PERCENT = 0
    ruleset = RuleSet.objects.get(is_active=True)
    for kind in CertificateKind.objects.all():
        ModeSwitch.objects.create(
            kind=kind, ruleset=ruleset, switched_by=payroll, mode=ModeSwitch.Mode.AUTOMATIC
        )
    blobs = [p.read_bytes() for p in paths]
    # Payroll's upload of certificates fetched from the municipality's Digital Post mailbox:
    # the channel that lets the robot clear a line without a person.
    statement = Upload.objects.create(by=payroll, origin=Upload.Origin.DIGITAL_POST)

    def pipeline(n: int, data: bytes) -> None:
        document, _ = ingest_bytes(
            data, filename=f"cert-{n}.pdf", source="upload", upload=statement, process=False
        )
        process_document(document_id=document.pk)

    # A worker runs for days: the first documents of a process (translations loaded, rules
    # compiled, the sandbox's reader started) are not what it costs per document.
    warm = min(WARMUP, len(blobs) // 10)
    for n, data in enumerate(blobs[:warm]):
        pdf_text(data)
        pipeline(n, data)
    # Extraction and pipeline in alternating rounds on the same files, so that a machine
    # whose speed drifts during the run (a shared host) weighs on both alike.
    counter = QueryCounter()
    profiler = cProfile.Profile() if profile else contextlib.nullcontext()
    extraction_s = pipeline_s = 0.0
    shares = []  # pipeline ÷ extraction in each round
    for start in range(warm, len(blobs), ROUND):
        chunk = list(enumerate(blobs[start : start + ROUND], start=start))
        started = time.perf_counter()
        for _n, data in chunk:
            assert pdf_text(data).ok
        extraction_round = time.perf_counter() - started
        extraction_s += extraction_round
        started = time.perf_counter()
        with counter.counting(), profiler:
            for n, data in chunk:
                pipeline(n, data)
        took = time.perf_counter() - started
        pipeline_s += took
        shares.append(extraction_round / took)
    timed = len(blobs) - warm
    extraction, pipeline_rate = timed / extraction_s, timed / pipeline_s

    states = dict(Document.objects.values_list("state").annotate(n=django.db.models.Count("pk")))

    # Again with fresh lines and documents, read and judged by several worker processes
    # (as Celery workers would), the files stored first as the intake does.
    from django.db import connections

    # Filing jobs protect their documents; the first pass's answers go with them.
    FilingJob.objects.all().delete()
    Document.objects.filter(parent__isnull=False).delete()
    Document.objects.all().delete()
    OrderLine.objects.update(status="ordered", ordered_at=timezone.now())
    started = time.perf_counter()
    ids = [
        ingest_bytes(
            data, filename=f"cert-{n}.pdf", source="upload", upload=statement, process=False
        )[0].pk
        for n, data in enumerate(blobs)
    ]
    connections.close_all()
    with multiprocessing.Pool(workers) as pool:
        pool.map(_process_ids, [ids[i::workers] for i in range(workers)])
    parallel = len(blobs) / (time.perf_counter() - started)

    print(f"database: {connection.vendor}, documents: {timed} timed after {warm} to warm up")
    print(f"bare text extraction, 1 process      {extraction:8.1f} documents/s")
    print(
        f"ingest + evaluate + match, 1 process {pipeline_rate:8.1f} documents/s "
        f"({pipeline_rate / extraction:.0%} of extraction)"
    )
    print(
        f"  each round of {ROUND}: {', '.join(f'{share:.0%}' for share in shares)} "
        f"(median {statistics.median(shares):.0%})"
    )
    print(
        f"ingest + evaluate + match, {workers} workers {parallel:8.1f} documents/s "
        f"({parallel / extraction:.0%} of one-process extraction)"
    )
    print(
        f"13,000 documents: {13000 / pipeline_rate / 60:.1f} min in 1 process, "
        f"{13000 / parallel / 60:.1f} min with {workers} workers"
    )
    print(f"per document, ingest + process       {counter.queries / timed:8.1f} statements")
    print(f"outcome: {states}")
    if profile:
        for order in ("tottime", "cumulative"):
            pstats.Stats(profiler).sort_stats(order).print_stats(30)


if __name__ == "__main__":
    main()
