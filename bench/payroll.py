"""Payroll side: preparing police batches, the batch page, letters and the deadline run.

Runs in a throwaway test database on whatever DATABASE_URL points at:
    .venv/bin/python bench/payroll.py [--orders 1000]
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def timed(label, fn, repeat=1, unit="ms"):
    started = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    elapsed = (time.perf_counter() - started) / repeat
    print(f"{label:44} {elapsed * 1000:9.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.orders)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n: int) -> None:
    import datetime

    from django.utils import timezone

    from orders import batching, deadlines
    from orders.letters import render_letter
    from orders.models import Order, OrderLine
    from orders.services import place_order
    from portal.models import Unit, User
    from robot.demo import load_demo_data

    load_demo_data(with_orders=False)
    manager = User.objects.get(username="leder.skole")
    payroll = User.objects.get(username="loen")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Lærer")
    bases = [r.legal_basis for r in profile.requirements.all()]
    for i in range(n):
        place_order(
            by=manager,
            unit=unit,
            profile=profile,
            full_name=f"Person {i}",
            cpr=f"0101{80 + i % 20:02d}{i % 10000:04d}",
            start_date=timezone.localdate() + datetime.timedelta(days=30),
            legal_bases=bases,
            child_contact=None,
            submission_token=uuid.uuid4(),
        )
    print(f"database: {connection.vendor}, orders: {n}, lines: {2 * n}")
    batches = timed(
        f"prepare_batches ({2 * n} lines)", lambda: batching.prepare_batches(by=payroll)
    )
    print(f"{'batches of at most 50':44} {len(batches):9d}")

    client = Client()
    client.force_login(payroll)
    url = f"/loen/batch/{batches[0].pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        timed("batch page, 50 persons (mean of 20)", lambda: client.get(url), repeat=20)
    print(f"{'batch page queries':44} {len(queries.captured_queries) // 20:9d}")
    timed("batches overview page", lambda: client.get("/loen/"), repeat=10)

    timed(
        "mark all batches ordered",
        lambda: [batching.mark_batch_ordered(batch=b, by=payroll) for b in batches],
    )
    OrderLine.objects.update(ordered_at=timezone.now() - datetime.timedelta(days=8))
    report = timed("deadline run (reminders for every line)", deadlines.process_deadlines)
    print(f"{'reminders queued':44} {report.reminders:9d}")

    order = Order.objects.first()
    render_letter(which="letter", order=order)
    timed(
        "hire letter PDF (mean of 20)",
        lambda: render_letter(which="letter", order=order),
        repeat=20,
    )
    timed(
        "consent form PDF (mean of 20)",
        lambda: render_letter(which="consent", order=order),
        repeat=20,
    )


if __name__ == "__main__":
    main()
