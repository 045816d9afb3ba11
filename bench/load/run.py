"""The load test, start to finish, on this machine and only on loopback.

    .venv/bin/python bench/load/run.py [--steps 5,10,20,30,40,60] [--step-seconds 60]

Creates its own database on the local PostgreSQL server (POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432/postgres), migrates it and loads the demo with load
accounts; starts gunicorn with 4 workers (gunicorn.conf.py) and a Celery worker on a
broker in a folder of its own (or CELERY_BROKER_URL, e.g. a local Redis); runs Locust
headless in steps of rising users (bench/load/locustfile.py); prints each step and the
highest request rate at which the 95th percentile stayed under 500 ms with no errors.
Whatever happens it stops everything it started, drops its database and removes its
folders; the whole run is bounded by --max-minutes.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
P95_LIMIT_MS = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="5,10,20,30,40,60", help="simulated users per step")
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--warmup-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--max-minutes", type=float, default=20, help="hard bound on the run")
    args = parser.parse_args()
    deadline = time.monotonic() + args.max_minutes * 60

    def on_signal(signum, _frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    work = Path(tempfile.mkdtemp(prefix="attest-load-"))
    server = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database = f"attest_load_{os.getpid()}"
    processes: list[subprocess.Popen] = []
    created = False
    try:
        _check_loopback(server)
        _psql(server, f'CREATE DATABASE "{database}"')
        created = True
        port = _free_port()
        env = _environment(server, database, work)
        manage = [str(BIN / "python"), "manage.py"]
        _run(manage + ["migrate", "--noinput", "-v", "0"], env, deadline)
        _run(manage + ["load_demo"], env, deadline)
        with open(ROOT / "bench" / "load" / "accounts.py") as script:
            _run(manage + ["shell", "--no-imports"], env, deadline, stdin=script)

        processes.append(
            _start(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "portal.wsgi"]
                + ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
                + ["--access-logfile", str(work / "access.log")],
                env,
                work / "gunicorn.log",
            )
        )
        processes.append(
            _start(
                [str(BIN / "celery"), "-A", "portal", "worker", "--concurrency", "2"]
                + ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                env,
                work / "celery.log",
            )
        )
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", processes, deadline)

        steps = [int(n) for n in args.steps.split(",")]
        run_seconds = len(steps) * args.step_seconds
        if time.monotonic() + run_seconds + 60 > deadline:
            raise SystemExit("the steps do not fit in --max-minutes")
        result_file = work / "result.json"
        locust_env = {
            **env,
            "LOAD_STEPS": args.steps,
            "LOAD_STEP_SECONDS": str(args.step_seconds),
            "LOAD_WARMUP_SECONDS": str(args.warmup_seconds),
            "LOAD_RESULT": str(result_file),
        }
        locust = _start(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py")]
            + ["--headless", "--host", f"http://127.0.0.1:{port}", "--only-summary"]
            + ["--stop-timeout", "10", "--loglevel", "WARNING"],
            locust_env,
            work / "locust.log",
        )
        processes.append(locust)
        try:
            locust.wait(timeout=run_seconds + 60)
        except subprocess.TimeoutExpired:
            raise SystemExit("Locust did not finish in time") from None
        log = (work / "locust.log").read_text(errors="replace")
        if "Traceback" in log:
            print(log[-4000:], file=sys.stderr)
        if not result_file.exists():
            raise SystemExit("Locust wrote no result")
        _stop(processes.pop())  # locust, if it is still there
        time.sleep(5)  # what was uploaded last is read by the worker meanwhile
        _run(manage + ["shell", "--no-imports", "-c", WHAT_HAPPENED], env, deadline)
        return _report(json.loads(result_file.read_text()), args.workers)
    finally:
        for process in reversed(processes):
            _stop(process)
        if created:
            _psql(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


# What the simulated morning left in the database: proof that every journey did its work.
WHAT_HAPPENED = """
from django.db.models import Count
from orders.models import Order, OrderLine, PoliceBatch
from robot.models import Document, FilingJob, Proposal
def count(queryset, field):
    return dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
print("orders", Order.objects.count(), "lines", count(OrderLine.objects, "status"))
print("batches", count(PoliceBatch.objects, "state"))
print("documents", count(Document.objects, "state"))
print("proposals confirmed", Proposal.objects.exclude(decided="").count(),
      "open", Proposal.objects.filter(decided="").count())
print("filing jobs", count(FilingJob.objects, "state"))
"""


def _report(result: dict, workers: int) -> int:
    for name, entry in result["endpoints"].items():
        print(
            f"  {name:<48} {entry['requests']:>6} requests, p95 {entry['p95_ms']:>5.0f} ms, "
            f"{entry['failures']} failed"
        )
    print(
        f"cores: {os.cpu_count()}, gunicorn workers: {workers}, load average now: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"{'users':>6} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>7}")
    best = None
    for step in result["steps"]:
        print(
            f"{step['users']:>6} {step['requests']:>9} {step['rps']:>7.1f} "
            f"{step['p50_ms']:>7.0f} {step['p95_ms']:>7.0f} {step['failures']:>7}"
        )
        if step["p95_ms"] < P95_LIMIT_MS and step["failures"] == 0:
            if best is None or step["rps"] > best["rps"]:
                best = step
    for error, count in result["errors"].items():
        print(f"error x{count}: {error}")
    if best is None:
        print(f"no step kept the 95th percentile under {P95_LIMIT_MS} ms with no errors")
        return 1
    print(
        f"highest rate with p95 < {P95_LIMIT_MS} ms and no errors: {best['rps']:.1f} requests/s "
        f"({best['users']} users, p95 {best['p95_ms']:.0f} ms)"
    )
    return 0


def _environment(server: str, database: str, work: Path) -> dict:
    parts = urlsplit(server)
    broker = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    (work / "broker" / "control").mkdir(parents=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "IMAP_URL", "SD_URL")
    }
    env.update(
        {
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{database}")),
            "CELERY_BROKER_URL": broker,
            "CELERY_FILESYSTEM_BROKER_DIR": str(work / "broker"),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEMO_MODE": "true",
            "DEBUG": "false",
            "SECRET_KEY": "load-test-only-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_URL": "dummymail://",
            "DOCUMENT_ROOT": str(work / "documents"),
            "ESDH_BACKEND": "archive",
            "ESDH_ARCHIVE_DIR": str(work / "archive"),
            "DROP_FOLDER": "",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "LOAD_ACCOUNTS": str(work / "accounts.json"),
        }
    )
    return env


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"the load test runs only against a local server, not {host}")


def _psql(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], env: dict, deadline: float, stdin=None) -> None:
    subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdin=stdin,
        check=True,
        timeout=max(1.0, deadline - time.monotonic()),
    )


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    # A session of its own, so stopping it stops its children (gunicorn's and Celery's
    # workers, the PDF reader) and nothing else.
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass
    # Children that outlived their leader (a worker mid-request) share its group id.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_healthy(url: str, processes: list[subprocess.Popen], deadline: float) -> None:
    give_up = min(deadline, time.monotonic() + 120)
    while time.monotonic() < give_up:
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"{process.args[0]} stopped at start-up")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the portal did not answer /healthz in time")


if __name__ == "__main__":
    sys.exit(main())
