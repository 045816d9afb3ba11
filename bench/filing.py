"""Filing throughput against a fake SBSYS or GetOrganized that enforces its own rate limit.

Files N certificates with W worker processes sharing the portal's rate limit, and
prints the requests per filing (target for SBSYS 3: the access token is shared by every
job and process through the cache; for GetOrganized 4: search, look in the case, upload,
journalise), the achieved request rate as a fraction of the limit (target >= 0.9) and
the number of 429 answers (target 0). Runs in a throwaway test database; the cache is
CACHE_URL (e.g. redis://127.0.0.1:6379/1, as in production) or, without it, a folder
shared by the worker processes:
    .venv/bin/python bench/filing.py [--backend sbsys|getorganized] [--documents 2000]
        [--workers 4] [--rate 50]
GetOrganized signs in with Basic here: the fake's NTLM acceptor takes one handshake at a
time, and NTLM's extra legs are answered by IIS before GO counts a request.
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMAIL_URL", "dummymail://")
if not os.environ.get("CACHE_URL"):
    import tempfile

    os.environ["CACHE_URL"] = "filecache://" + tempfile.mkdtemp(prefix="bench-filing-cache-")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def worker(_: int) -> int:
    from robot import filing

    connections.close_all()
    done = 0
    while True:
        claimed = filing.file_due(limit=5)
        if not claimed:
            break
        done += claimed
    connections.close_all()
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50, help="requests per second")
    parser.add_argument("--backend", choices=["sbsys", "getorganized"], default="sbsys")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> None:
    import tempfile
    import uuid

    from django.utils import timezone

    from orders.models import OrderLine
    from orders.services import place_order
    from portal.models import Unit, User
    from robot.demo import load_demo_data
    from robot.esdh.sbsys import forget_shared_token
    from robot.intake import ingest_bytes
    from robot.models import Document, FilingJob

    settings.DOCUMENT_ROOT = tempfile.mkdtemp(prefix="bench-filing-")
    settings.ESDH_BACKEND = args.backend
    settings.ESDH_RATE_LIMIT = args.rate
    fake = start_sbsys() if args.backend == "sbsys" else start_getorganized()
    fake.rate_limit = args.rate
    forget_shared_token()
    load_demo_data(with_orders=False)
    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Musikunderviser")  # one certificate each
    pdf = (ROOT / "tests" / "samples" / "boerneattest_ren.pdf").read_bytes()
    for n in range(args.documents):
        cpr = f"{1 + n % 28:02d}{1 + (n // 28) % 12:02d}{(n // 336) % 100:02d}{1000 + n:04d}"
        order = place_order(
            by=manager,
            unit=unit,
            profile=profile,
            full_name=f"Person {n}",
            cpr=cpr,
            start_date=timezone.localdate(),
            child_contact=None,
            submission_token=uuid.uuid4(),
            legal_bases=[r.legal_basis for r in profile.requirements.all()],
        )
        fake.add_case(cpr)
        line = order.lines.get()
        OrderLine.objects.filter(pk=line.pk).update(status="cleared")
        document, _ = ingest_bytes(
            pdf + f"\n%{n}\n".encode(), filename=f"{n}.pdf", source="upload", process=False
        )
        Document.objects.filter(pk=document.pk).update(
            state="done", outcome="clean", person=order.person, line=line
        )
        FilingJob.objects.create(document=document, line=line, reference=f"AP-{document.pk:08d}")

    connections.close_all()
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers) as pool:
        filed = sum(pool.map(worker, range(args.workers)))
    elapsed = time.perf_counter() - started
    fake.stop()

    token_requests = getattr(fake, "token_requests", 0)
    requests_made = len(fake.api_requests) + token_requests
    forget_shared_token()
    states = dict(FilingJob.objects.values_list("state").annotate(n=django.db.models.Count("pk")))
    print(
        f"database: {connection.vendor}, documents: {args.documents}, workers: {args.workers}, "
        f"limit: {args.rate:g} requests/s, cache: {settings.CACHES['default']['BACKEND']}"
    )
    print(f"filed                 {filed} in {elapsed:.1f} s ({filed / elapsed:.1f} documents/s)")
    print(
        f"{'requests to ' + args.backend:<22}{requests_made} ({requests_made / elapsed:.1f}/s = "
        f"{requests_made / elapsed / args.rate:.2f} of the limit)"
    )
    print(
        f"requests per filing   {requests_made / max(filed, 1):.2f} "
        f"({token_requests} token requests for {filed} filings)"
    )
    print(f"429 answers           {fake.rejected}")
    if args.backend == "sbsys":
        names = [f.metadata["DokumentNavn"] for f in fake.filings]
    else:
        names = [d.title for d in fake.documents.values() if d.finalized]
    print(
        f"filings recorded      {len(names)} (each exactly once: {len(set(names)) == len(names)})"
    )
    print(f"job states            {states}")


def start_sbsys():
    from tests.robot import fake_sbsys as fake_module

    fake = fake_module.FakeSbsys(stall_seconds=5)
    fake.start()
    settings.SBSYS_URL, settings.SBSIP_URL = fake.sbsys_url, fake.sbsip_url
    settings.SBSYS_CLIENT_ID, settings.SBSYS_CLIENT_SECRET = (
        fake_module.CLIENT_ID,
        fake_module.CLIENT_SECRET,
    )
    settings.SBSYS_USERNAME, settings.SBSYS_PASSWORD = fake_module.USERNAME, fake_module.PASSWORD
    settings.SBSYS_FOLDER_TITLE = fake_module.FOLDER_TITLE
    return fake


def start_getorganized():
    from tests.robot import fake_getorganized as fake_module

    fake = fake_module.FakeGetOrganized(stall_seconds=5)
    fake.auth = "basic"
    fake.start()
    settings.GETORGANIZED_URL = fake.url
    settings.GETORGANIZED_AUTH = "basic"
    settings.GETORGANIZED_USERNAME = fake_module.USERNAME
    settings.GETORGANIZED_PASSWORD = fake_module.PASSWORD
    return fake


if __name__ == "__main__":
    main()
