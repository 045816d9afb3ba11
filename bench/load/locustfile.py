"""A Monday morning at the portal, for Locust: managers and secretaries ordering, payroll
batching, uploading what the police sent back and confirming the robot's proposals.

Started by bench/load/run.py, which also makes the accounts (bench/load/accounts.py) and
reads the result. Each simulated person logs in once, when it starts: a login costs a
deliberately slow password hash, and people stay logged in all morning.

The load rises in steps (LOAD_STEPS users, each held LOAD_STEP_SECONDS). For each step
the requests after its first LOAD_WARMUP_SECONDS (new users logging in) are counted:
requests per second, 95th percentile and failures, written as JSON to LOAD_RESULT.
"""

import csv
import datetime
import io
import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path

from locust import HttpUser, LoadTestShape, between, events, task

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"]).read())
STEPS = [int(n) for n in os.environ.get("LOAD_STEPS", "5,10,20,30,40,60").split(",")]
STEP_SECONDS = float(os.environ.get("LOAD_STEP_SECONDS", "60"))
WARMUP_SECONDS = float(os.environ.get("LOAD_WARMUP_SECONDS", "15"))
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE", "5"))

FIRST_NAMES = ["Anne", "Mette", "Søren", "Jens", "Åse", "Mikkel", "Ida", "Lars", "Fatima", "Ole"]
LAST_NAMES = ["Nielsen", "Jensen", "Hansen", "Østergård", "Kristensen", "Møller", "Lund", "Berg"]
ORDER_DETAIL = re.compile(r'href="/bestillinger/([0-9a-f-]{36})/"')
SUBMISSION_TOKEN = re.compile(r'name="submission_token" value="([0-9a-f-]{36})"')
BATCH = re.compile(r'href="/loen/batch/(\d+)/"')
DOCUMENT = re.compile(r'href="/modtagelse/dokument/(\d+)/"')
CONFIRM = re.compile(r'action="/modtagelse/forslag/(\d+)/bekraeft/"')


# Valid, distinct CPR numbers for the people ordered for: born 1950-1999 (serials starting
# with 0 mean the 1900s), never one of the demo's people (whose serials do not).
_numbers = itertools.count()


def next_cpr() -> str:
    n = next(_numbers)
    serial, n = n % 1000, n // 1000
    day, n = 1 + n % 28, n // 28
    month, n = 1 + n % 12, n // 12
    return f"{day:02d}{month:02d}{50 + n % 50:02d}0{serial:03d}"


class Portal(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    accounts: list = []
    _next_account = itertools.count()

    def on_start(self) -> None:
        self.account = self.accounts[next(self._next_account) % len(self.accounts)]
        self.client.get("/log-ind/", name="login")
        response = self.client.post(
            "/log-ind/",
            {
                "username": self.account["username"],
                "password": "demo",
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="login",
        )
        if "/log-ind/" in response.url:
            raise RuntimeError(f"login failed for {self.account['username']}")

    def post(self, path: str, data=None, *, name: str, htmx: bool = False, **kwargs):
        """A form's POST; its redirect is followed as the browser would, as a request of its
        own (so that each request counts once)."""
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(
            path, data, headers=headers, name=name, allow_redirects=False, **kwargs
        )

    def follow(self, response, *, name: str):
        return self.client.get(response.headers["Location"], name=name)


class Orderer(Portal):
    abstract = True

    @task(5)
    def order_list(self) -> None:
        response = self.client.get("/bestillinger/", name="/bestillinger/")
        self.orders = ORDER_DETAIL.findall(response.text) or getattr(self, "orders", [])

    @task(2)
    def search(self) -> None:
        self.client.get(
            "/bestillinger/",
            params={"q": random.choice(FIRST_NAMES + LAST_NAMES)},
            headers={"HX-Request": "true"},
            name="/bestillinger/?q=",
        )

    @task(3)
    def order_page(self) -> None:
        if getattr(self, "orders", None):
            public_id = random.choice(self.orders)
            self.client.get(f"/bestillinger/{public_id}/", name="/bestillinger/[id]/")

    @task(2)
    def place_order(self) -> None:
        unit = random.choice(self.account["units"])
        profile = random.choice(unit["profiles"])
        form = self.client.get("/bestillinger/ny/", name="/bestillinger/ny/")
        choice = {"unit": unit["id"], "profile": profile, "child_contact": "no"}
        # The form's certificate choices follow unit and position (htmx, no CPR in the URL).
        self.client.get(
            "/bestillinger/ny/",
            params=choice,
            headers={"HX-Request": "true"},
            name="/bestillinger/ny/ (choices)",
        )
        token = SUBMISSION_TOKEN.search(form.text)
        data = {
            **choice,
            "submission_token": token[1] if token else "",
            "full_name": f"{random.choice(FIRST_NAMES)} {random.choice(LAST_NAMES)}",
            "cpr": next_cpr(),
            "start_date": (datetime.date.today() + datetime.timedelta(days=21)).isoformat(),
        }
        with self.post(
            "/bestillinger/ny/", data, name="/bestillinger/ny/ (place)", catch_response=True
        ) as response:
            placed = re.search(
                r"/bestillinger/[0-9a-f-]{36}/$", response.headers.get("Location", "")
            )
            if not placed:
                response.failure("the order was not placed")
                return
        self.follow(response, name="/bestillinger/[id]/")


class Manager(Orderer):
    weight = 6
    accounts = ACCOUNTS["managers"]


class Secretary(Orderer):
    """Orders for two units."""

    weight = 2
    accounts = ACCOUNTS["secretaries"]


class Payroll(Portal):
    fixed_count = 1
    accounts = [{"username": name} for name in ACCOUNTS["payroll"]]

    def on_start(self) -> None:
        super().on_start()
        self.ordered: set[int] = set()
        self.returned: list[list[str]] = []  # batch rows the police have yet to answer

    @task(2)
    def batches(self) -> None:
        self.client.get("/loen/", name="/loen/")

    @task(1)
    def prepare_and_order(self) -> None:
        """Cut batches, open each new one, download it for politi.dk, mark it ordered."""
        response = self.follow(self.post("/loen/klargoer/", name="/loen/klargoer/"), name="/loen/")
        for pk in dict.fromkeys(BATCH.findall(response.text)):
            if int(pk) in self.ordered:
                continue
            self.client.get(f"/loen/batch/{pk}/", name="/loen/batch/[id]/")
            rows = self.client.get(f"/loen/batch/{pk}/csv/", name="/loen/batch/[id]/csv/")
            with self.post(
                f"/loen/batch/{pk}/bestilt/", name="/loen/batch/[id]/bestilt/", catch_response=True
            ) as answer:
                if answer.status_code != 302:
                    answer.failure(f"HTTP {answer.status_code}")
                    continue
            self.follow(answer, name="/loen/batch/[id]/")
            self.ordered.add(int(pk))
            reader = csv.reader(io.StringIO(rows.text.lstrip("\ufeff")), delimiter=";")
            self.returned += list(reader)[1:]

    @task(2)
    def upload_returned(self) -> None:
        """The police answered a few: upload their certificates as payroll would."""
        random.shuffle(self.returned)
        for _ in range(min(3, len(self.returned))):
            cpr, name, _unit, kind, _basis, reference = self.returned.pop()
            pdf = certificate(cpr=cpr, name=name, kind=kind, reference=reference)
            self.post(
                "/modtagelse/upload/",
                # Fetched from the municipality's Digital Post mailbox, as payroll states.
                {"origin": "digital_post"},
                files={"file": (f"attest-{len(self.returned)}.pdf", pdf, "application/pdf")},
                htmx=True,
                name="/modtagelse/upload/",
            )

    @task(3)
    def review(self) -> None:
        """Confirm the robot's proposals (every kind starts in trial mode)."""
        queue = self.client.get(
            "/modtagelse/koe/", params={"state": "proposed"}, name="/modtagelse/koe/"
        )
        for pk in list(dict.fromkeys(DOCUMENT.findall(queue.text)))[:3]:
            page = self.client.get(f"/modtagelse/dokument/{pk}/", name="/modtagelse/dokument/[id]/")
            proposal = CONFIRM.search(page.text)
            if proposal:
                confirmed = self.post(
                    f"/modtagelse/forslag/{proposal[1]}/bekraeft/",
                    name="/modtagelse/forslag/[id]/bekraeft/",
                )
                if confirmed.status_code == 302:  # the next proposal, or the queue
                    self.follow(confirmed, name="/modtagelse/ (after confirming)")


def certificate(*, cpr: str, name: str, kind: str, reference: str) -> bytes:
    """A clean certificate as the police would return it, made with robot/synthetic.py in
    a real thread, so rendering the PDF does not stall the simulated users."""
    import gevent

    lines = [
        "RIGSPOLITIET",
        "Kriminalregisteret · Polititorvet 14 · 1780 København V",
        kind,
        f"Udstedt: {datetime.date.today():%d.%m.%Y}",
        f"Journalnr.: KR-{datetime.date.today():%Y}-{random.randrange(10**7):07d}",
        f"Rekvirent: {reference}",
        "Attesten vedrører",
        f"Navn: {name}",
        f"CPR-nr.: {cpr}",
        f"{name} er ikke registreret med afgørelser, der skal fremgå af en {kind.lower()}.",
        "Attesten er udstedt på baggrund af samtykke afgivet digitalt.",
    ]
    return gevent.get_hub().threadpool.apply(_render, (lines,))


@events.init.add_listener
def _warm_up(**_kwargs) -> None:
    """Set Django and WeasyPrint up before the test: the first PDF takes seconds (and
    looks for libraries with a subprocess, which a worker thread under gevent cannot)."""
    _render(["RIGSPOLITIET"])


def _render(lines: list[str]) -> bytes:
    import django

    if not hasattr(_render, "ready"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        django.setup()
        _render.ready = True
    from robot.synthetic import certificate_pdf

    return certificate_pdf(lines)


class Steps(LoadTestShape):
    """LOAD_STEPS users, one step after another; then stop."""

    def tick(self):
        step = int(self.get_run_time() // STEP_SECONDS)
        if step >= len(STEPS):
            return None
        return STEPS[step], SPAWN_RATE


_requests: list[tuple[float, float, bool]] = []  # (when, milliseconds, ok)
_started: list[float] = []


@events.test_start.add_listener
def _on_start(**_kwargs) -> None:
    _started.append(time.monotonic())


@events.request.add_listener
def _on_request(name, response_time, exception, **_kwargs) -> None:
    if name != "login":
        _requests.append((time.monotonic(), response_time, exception is None))


@events.quitting.add_listener
def _on_quit(environment, **_kwargs) -> None:
    start = _started[0] if _started else 0.0
    steps = []
    for n, users in enumerate(STEPS):
        begin = start + n * STEP_SECONDS + WARMUP_SECONDS
        end = start + (n + 1) * STEP_SECONDS
        window = [r for r in _requests if begin <= r[0] < end]
        if not window:
            continue
        times = sorted(r[1] for r in window)
        steps.append(
            {
                "users": users,
                "requests": len(window),
                "rps": len(window) / (end - begin),
                "p50_ms": times[len(times) // 2],
                "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
                "failures": sum(1 for r in window if not r[2]),
            }
        )
    endpoints = {
        f"{entry.method} {entry.name}": {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p95_ms": entry.get_response_time_percentile(0.95),
        }
        for entry in sorted(environment.stats.entries.values(), key=lambda e: e.name)
    }
    errors = {
        f"{e.method} {e.name}: {e.error}"[:200]: e.occurrences
        for e in environment.stats.errors.values()
    }
    with open(os.environ["LOAD_RESULT"], "w") as out:
        json.dump(
            {"steps": steps, "endpoints": endpoints, "errors": errors},
            out,
            ensure_ascii=False,
            indent=1,
        )
