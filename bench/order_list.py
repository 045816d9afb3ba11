"""Order list and order page: milliseconds and queries per page with many orders.

Runs in a throwaway test database on whatever DATABASE_URL points at:
    .venv/bin/python bench/order_list.py [--orders 2000]
"""

import argparse
import os
import statistics
import sys
import time
import uuid
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
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.orders, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(n_orders: int, repeat: int) -> None:
    from django.utils import timezone

    from orders.models import Order
    from orders.services import place_order
    from portal.models import Unit, User
    from robot.demo import load_demo_data

    load_demo_data(with_orders=False)
    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Lærer")
    bases = [r.legal_basis for r in profile.requirements.all()]
    started = time.perf_counter()
    for i in range(n_orders):
        place_order(
            by=manager,
            unit=unit,
            profile=profile,
            full_name=f"Person {i}",
            cpr=f"0101{80 + i % 20:02d}{i % 10000:04d}",
            start_date=timezone.localdate(),
            legal_bases=bases,
            child_contact=None,
            submission_token=uuid.uuid4(),
        )
    placing = (time.perf_counter() - started) / n_orders * 1000

    client = Client()
    client.force_login(manager)
    order = Order.objects.first()
    pages = {
        "order list, page 1": ("/bestillinger/", {}),
        "order list, last page": ("/bestillinger/", {"page": n_orders // 25}),
        "order list, name search": ("/bestillinger/", {"q": "person 1"}),
        "order list, htmx partial": ("/bestillinger/", {"q": "person"}),
        "order page": (f"/bestillinger/{order.public_id}/", {}),
        "order form": ("/bestillinger/ny/", {}),
    }
    print(f"database: {connection.vendor}, orders: {n_orders}, placing an order: {placing:.1f} ms")
    print(f"{'page':28} {'ms median':>10} {'ms p95':>8} {'queries':>8}")
    for label, (url, params) in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in label else {}
        client.get(url, params, headers=headers)
        timings = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url, params, headers=headers)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
        print(
            f"{label:28} {statistics.median(timings):10.1f} {p95:8.1f} "
            f"{len(queries.captured_queries):8d}"
        )


if __name__ == "__main__":
    main()
