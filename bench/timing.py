"""What the page benchmarks share: a database with seeded history, and timing pages.

with seeded_database(orders=130_000, keepdb=False) as report: ...
time_pages({"label": ("username", "/url/", {params}, htmx)}, repeat=30)
"""

import contextlib
import statistics
import time


@contextlib.contextmanager
def seeded_database(*, orders: int, keepdb: bool = False):
    """A throwaway test database on whatever DATABASE_URL points at, with `orders` orders
    of history from bench.seed. With keepdb the database (and its history) survives for the
    next run, which then skips the seeding; new migrations are applied to it."""
    from django.db import connection
    from django.test.utils import setup_test_environment

    from orders.models import Order

    from .seed import seed_history

    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=keepdb, serialize=False
    )
    try:
        existing = Order.objects.count()
        if existing and existing != orders:
            raise SystemExit(f"The kept test database has {existing} orders, not {orders}.")
        report = None if existing else seed_history(orders=orders)
        if report is not None:
            print(f"seeded {report}")
        print(f"database: {connection.vendor}, orders: {Order.objects.count()}")
        yield report
    finally:
        if not keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def time_pages(pages: dict, *, repeat: int = 30) -> dict:
    """Each page `repeat` times after one warm-up: median and 95th percentile in ms, and
    queries per request. Pages are (username, url, params, htmx). Returns the figures."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.models import User

    clients: dict[str, Client] = {}
    figures = {}
    # Wall time is what a user waits; CPU time is this process's own work (Python and
    # templates), which other load on a shared machine disturbs far less.
    print(f"{'page':44} {'ms median':>10} {'ms p95':>8} {'cpu ms':>7} {'queries':>8}")
    for label, (username, url, params, htmx) in pages.items():
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        headers = {"HX-Request": "true"} if htmx else {}
        client.get(url, params, headers=headers)
        timings, cpu = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(url, params, headers=headers)
                timings.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        p95 = sorted(timings)[max(int(len(timings) * 0.95) - 1, 0)]
        median = statistics.median(timings)
        n_queries = len(queries.captured_queries)
        figures[label] = (median, p95, statistics.median(cpu), n_queries)
        print(f"{label:44} {median:10.1f} {p95:8.1f} {statistics.median(cpu):7.1f} {n_queries:8d}")
    return figures
