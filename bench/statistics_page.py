"""Statistics page: milliseconds (median, p95) and queries per page, ten years of history.

No `import statistics` here: this file shadows the standard library's when run.

Seeds orders in bulk with their whole timeline (robot.demo.load_demo_history, not through the
order form) in a throwaway test database on whatever DATABASE_URL points at:
    .venv/bin/python bench/statistics_page.py [--orders 130000] [--years 10] [--repeat 20]
With --keepdb the seeded database is kept, and a second run measures it without seeding.
Target: p95 under 100 ms at 130,000 orders and at most 1.5 x the time at 2,000, with the
same number of queries whatever the data's size.
The summary (robot.statistics.summary) is brought up to date after seeding, as beat would.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=130_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--keepdb",
        action="store_true",
        help="keep the seeded database and measure it again next time without seeding",
    )
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keepdb, serialize=False
    )
    try:
        run(args.orders, args.years, args.repeat)
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n_orders: int, years: int, repeat: int) -> None:
    from django.conf import settings

    from orders.models import CertificateKind, Order, OrderEvent, OrderLine
    from portal.models import Area
    from robot.demo import load_demo_data, load_demo_history
    from robot.models import StatisticsMonth, StatisticsUnitMonth
    from robot.statistics import summary

    settings.DEMO_MODE = True
    days = years * 365
    started = time.perf_counter()
    if Order.objects.exists():  # a database kept by --keepdb: measure it as it is
        print("reusing the kept database's history")
    else:
        load_demo_data(with_orders=False)
        load_demo_history(days=days, per_weekday=n_orders / (days * 5 / 7), seed=130)
    seeding = time.perf_counter() - started
    started = time.perf_counter()
    summarised = summary.refresh()
    summarising = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after the bulk load
    print(
        f"database: {connection.vendor}, orders: {Order.objects.count()}, "
        f"lines: {OrderLine.objects.count()}, events: {OrderEvent.objects.count()}, "
        f"seeded in {seeding:.0f} s; summary: {summarised} lines "
        f"({StatisticsMonth.objects.count()} line-months, "
        f"{StatisticsUnitMonth.objects.count()} unit-months) in {summarising:.0f} s"
    )

    area = Area.objects.get(name="Børn og Unge")
    kind = CertificateKind.objects.get(code="child")
    filtered = {"omraade": area.pk, "attest": kind.pk}
    pages = {
        "payroll, default (12 months)": ("loen", "/statistik/", {}, False),
        "payroll, area + kind": ("loen", "/statistik/", filtered, False),
        "payroll, htmx partial": ("loen", "/statistik/", filtered, True),
        "payroll, 10 years": ("loen", "/statistik/", {"fra": "2016-01"}, False),
        "manager, default": ("leder.skole", "/statistik/", {}, False),
        "export CSV (volumes)": ("loen", "/statistik/eksport/volumes.csv", {}, False),
    }
    time_pages(pages, repeat)


def time_pages(pages: dict, repeat: int) -> None:
    from portal.models import User

    client = Client()
    print(f"{'page':30} {'ms median':>10} {'ms p95':>8} {'queries':>8}")
    for label, (username, url, params, htmx) in pages.items():
        client.force_login(User.objects.get(username=username))
        headers = {"HX-Request": "true"} if htmx else {}
        client.get(url, params, headers=headers)
        timings = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url, params, headers=headers)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        p95 = sorted(timings)[max(int(len(timings) * 0.95) - 1, 0)]
        print(
            f"{label:30} {sorted(timings)[len(timings) // 2]:10.1f} {p95:8.1f} "
            f"{len(queries.captured_queries):8d}"
        )
    client.force_login(User.objects.get(username="loen"))
    t0 = time.perf_counter()
    response = client.get("/statistik/maanedsrapport/")
    print(f"{'monthly report PDF (once)':30} {(time.perf_counter() - t0) * 1000:10.1f}")


if __name__ == "__main__":
    main()
