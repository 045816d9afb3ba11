"""Manager's and payroll's order lists, the order page and the order form: milliseconds
(median, p95) and queries per page over years of history.

Seeds history in bulk (bench/seed.py) in a throwaway test database on whatever
DATABASE_URL points at:
    .venv/bin/python bench/order_list.py [--orders 130000] [--repeat 30] [--keepdb]
Target on PostgreSQL: p95 under 100 ms for every page at 130,000 orders, and at most
1.5 times the figure at 2,000.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from bench.timing import seeded_database, time_pages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keepdb", action="store_true", help="keep the seeded database")
    args = parser.parse_args()
    with seeded_database(orders=args.orders, keepdb=args.keepdb):
        run(args.repeat)


def run(repeat: int) -> None:
    from orders.models import Order
    from portal.models import Unit

    nordskolen = Unit.objects.get(name="Nordskolen")
    order = Order.objects.filter(unit=nordskolen).order_by("-created_at").first()
    last_page = (Order.objects.filter(unit=nordskolen).count() - 1) // 25 + 1
    manager, secretary, payroll = "leder.skole", "sekretaer.skole", "loen"
    pages = {
        "manager: order list": (manager, "/bestillinger/", {}, False),
        "manager: order list, last page": (manager, "/bestillinger/", {"page": last_page}, False),
        "manager: name search (htmx)": (manager, "/bestillinger/", {"q": "hansen"}, True),
        "manager: status filter": (manager, "/bestillinger/", {"status": "ordered"}, False),
        "secretary (2 units): order list": (secretary, "/bestillinger/", {}, False),
        "payroll: order list": (payroll, "/bestillinger/", {}, False),
        "payroll: order list, page 200": (payroll, "/bestillinger/", {"page": 200}, False),
        "payroll: name search (htmx)": (payroll, "/bestillinger/", {"q": "hansen"}, True),
        "payroll: rare name search": (payroll, "/bestillinger/", {"q": "kowalski lund"}, False),
        "payroll: status filter (awaiting consent)": (
            payroll,
            "/bestillinger/",
            {"status": "ordered"},
            False,
        ),
        "manager: order page": (manager, f"/bestillinger/{order.public_id}/", {}, False),
        "manager: order form": (manager, "/bestillinger/ny/", {}, False),
    }
    time_pages(pages, repeat=repeat)


if __name__ == "__main__":
    main()
