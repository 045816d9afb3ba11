"""Payroll's side over years of history: its lists (batches, received documents, the
document and review queues, filing) in milliseconds (median, p95) and queries per page;
then preparing police batches, marking them ordered, the deadline run and letters.

Seeds history in bulk (bench/seed.py) in a throwaway test database on whatever
DATABASE_URL points at:
    .venv/bin/python bench/payroll.py [--orders 130000] [--repeat 30] [--keepdb]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from bench.timing import seeded_database, time_pages  # noqa: E402


def timed(label, fn, repeat=1):
    started = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    elapsed = (time.perf_counter() - started) / repeat
    print(f"{label:44} {elapsed * 1000:10.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keepdb", action="store_true", help="keep the seeded database")
    args = parser.parse_args()
    with seeded_database(orders=args.orders, keepdb=args.keepdb):
        run(args.repeat, keep=args.keepdb)


def run(repeat: int, *, keep: bool) -> None:
    from orders.models import PoliceBatch

    batch = PoliceBatch.objects.filter(state=PoliceBatch.State.ORDERED).order_by("-pk").first()
    payroll = "loen"
    pages = {
        "payroll: police batches": (payroll, "/loen/", {}, False),
        "payroll: batch page": (payroll, f"/loen/batch/{batch.pk}/", {}, False),
        "payroll: received documents (upload page)": (payroll, "/modtagelse/", {}, False),
        "payroll: document queue": (payroll, "/modtagelse/koe/", {}, False),
        "payroll: review queue (not clean)": (
            payroll,
            "/modtagelse/koe/",
            {"state": "not_clean"},
            True,
        ),
        "payroll: proposals to confirm": (payroll, "/modtagelse/koe/", {"state": "proposed"}, True),
        "payroll: filing queue": (payroll, "/modtagelse/arkivering/", {}, False),
    }
    time_pages(pages, repeat=repeat)
    if not keep:
        operations()


def operations() -> None:
    import datetime

    from django.utils import timezone

    from orders import batching, deadlines
    from orders.letters import render_letter
    from orders.models import Order, OrderLine
    from portal.models import User

    payroll = User.objects.get(username="loen")
    waiting = OrderLine.objects.awaiting_police().count()
    batches = timed(
        f"prepare_batches ({waiting} lines)", lambda: batching.prepare_batches(by=payroll)
    )
    print(f"{'batches of at most 50':44} {len(batches):10d}")
    timed(
        "mark the new batches ordered",
        lambda: [batching.mark_batch_ordered(batch=b, by=payroll) for b in batches],
    )
    OrderLine.objects.filter(batch__in=batches).update(
        ordered_at=timezone.now() - datetime.timedelta(days=8)
    )
    report = timed("deadline run", deadlines.process_deadlines)
    print(f"{'reminders queued':44} {report.reminders:10d}")

    order = Order.objects.order_by("-created_at").first()
    render_letter(which="letter", order=order)
    timed("hire letter PDF (mean of 20)", lambda: render_letter(which="letter", order=order), 20)
    timed(
        "consent form PDF (mean of 20)",
        lambda: render_letter(which="consent", order=order),
        repeat=20,
    )


if __name__ == "__main__":
    main()
