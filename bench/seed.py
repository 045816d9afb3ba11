"""Ten years of a big municipality's history, in bulk, for benchmarks.

130,000 orders over ten years across 60 units in the demo areas, with every line status
in realistic proportion, the timeline, police batches, returned documents (and the ones
still waiting in payroll's queue), robot proposals and filing jobs. Every person has a
distinct, valid CPR number, stored as the portal stores it (encrypted, keyed hash).

Rows are written with COPY on PostgreSQL (plain multi-row inserts elsewhere) with
primary keys chosen here, so nothing is read back. Only for benchmarks: the orders
never went through the order form's service.

Other bench scripts import it:
    from bench.seed import seed_history
    report = seed_history(orders=130_000)

From the command line it builds the history in a throwaway test database on whatever
DATABASE_URL points at, prints the time it took and removes it again:
    .venv/bin/python bench/seed.py [--orders 130000] [--years 10] [--units 60]
With --keep it seeds DATABASE_URL's own (migrated, order-free) database instead, e.g. to
browse ten years of history under `runserver`.
"""

import argparse
import datetime
import hashlib
import hmac
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()

FIRST_NAMES = (
    "Anne Mette Hanne Kirsten Susanne Lone Marianne Camilla Louise Maria Sofie Ida Emma "
    "Freja Laura Julie Cecilie Fatima Aisha Sara Peter Jens Lars Henrik Søren Niels Michael "
    "Thomas Jesper Mads Rasmus Mikkel Frederik Jonas Emil Oliver Lucas Ahmed Ali Omar"
).split()
MIDDLE_NAMES = (
    "Marie Louise Katrine Elisabeth Sofie Anne Juul Bech Holm Krog Lund Dahl Skov Vang "
    "Bruun Friis Kjær Lind Storm Munk"
).split()
LAST_NAMES = (
    "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen "
    "Jørgensen Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen "
    "Møller Mortensen Østergaard Kjeldsen Frederiksen Laursen Berg Holm Lauridsen Hassan "
    "Yilmaz Nguyen Kowalski Ibrahim Iversen Mikkelsen Clausen Schmidt Eriksen Vestergaard"
).split()

# Units added to the demo areas until there are `units` in all (name patterns per area).
EXTRA_UNITS = {
    "Børn og Unge": ("{}skolen", "Børnehuset {}", "Dagplejen {}", "Klubben {}", "SFO {}"),
    "Ældre og Handicap": ("Plejecenter {}", "Hjemmeplejen {}", "Bostedet {}"),
    "Familie og Beskæftigelse": ("Familiecenter {}", "Jobhuset {}"),
    "Sundhed og Kultur": ("Idrætscenter {}", "Bibliotek {}"),
    "Administration": ("Borgerservice {}", "Driftsgården {}"),
}
DISTRICTS = (
    "Øster Vester Strand Skov Bakke Eng Havn Kirke Mølle Lunde Birke Åby Holme Rosen Bøge "
    "Ege Fjord Sø Vang Høje Lille Store"
).split()
AREA_WEIGHTS = {
    "Børn og Unge": 0.42,
    "Ældre og Handicap": 0.26,
    "Familie og Beskæftigelse": 0.12,
    "Sundhed og Kultur": 0.10,
    "Administration": 0.10,
}
# Monday morning rush: more orders early in the week, most before noon.
WEEKDAY_WEIGHTS = (1.6, 1.2, 1.0, 0.9, 0.7, 0, 0)
HOURS = tuple(range(7, 17))
HOUR_WEIGHTS = (4, 9, 10, 8, 6, 4, 5, 4, 3, 1)


@dataclass
class SeedReport:
    orders: int = 0
    lines: int = 0
    events: int = 0
    batches: int = 0
    documents: int = 0
    filings: int = 0
    proposals: int = 0
    units: int = 0
    seconds: float = 0.0
    statuses: dict = field(default_factory=dict)

    def __str__(self) -> str:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.orders} orders, {self.lines} lines ({statuses}), {self.events} events, "
            f"{self.batches} batches, {self.documents} documents, {self.filings} filing jobs, "
            f"{self.proposals} proposals, {self.units} units, built in {self.seconds:.1f} s"
        )


# --- CPR numbers ----------------------------------------------------------------------

BIRTH_FIRST = datetime.date(1960, 1, 1)
BIRTH_DAYS = (datetime.date(2005, 12, 31) - BIRTH_FIRST).days + 1


def synthetic_cpr(index: int) -> str:
    """The index-th of about 16 million distinct CPR numbers with valid birth dates
    (1960-2005) and the century digit python-stdnum expects; no two indexes share one."""
    day, round_ = index % BIRTH_DAYS, index // BIRTH_DAYS
    if round_ >= 1000:
        raise ValueError("no more synthetic CPR numbers")
    born = BIRTH_FIRST + datetime.timedelta(days=day)
    century = 4 if born.year >= 2000 else round_ % 4  # 4 with yy <= 36 means the 2000s
    serial = century * 1000 + (day * 37 + round_ * 211) % 1000
    return f"{born:%d%m%y}{serial:04d}"


def _cpr_columns(cprs: list[str]) -> tuple[list[str], list[str]]:
    """Keyed hashes and ciphertexts for many numbers at once, as portal.cpr makes them
    one at a time, with the keys worked out once."""
    from portal import cpr as cprmod

    hash_key = cprmod._key_material("CPR_HASH_KEY", b"cpr-hash")
    fernet = cprmod._fernet(cprmod._key_material("CPR_ENCRYPTION_KEY", b"cpr-encryption"))
    digest = hashlib.sha256
    hashes = [hmac.new(hash_key, c.encode(), digest).hexdigest() for c in cprs]
    encrypted = [fernet.encrypt(c.encode()).decode() for c in cprs]
    return hashes, encrypted


# --- Writing rows ---------------------------------------------------------------------


class Table:
    """Rows for one model, with primary keys handed out here and written in one go."""

    def __init__(self, model, columns: list[str]):
        from django.db.models import Max

        self.model = model
        self.columns = ["id", *columns]
        self.rows: list[tuple] = []
        self.next_id = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    def add(self, *values) -> int:
        pk = self.next_id
        self.next_id += 1
        self.rows.append((pk, *values))
        return pk

    def write(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        meta = self.model._meta
        fields = [meta.get_field(c if c != "id" else "id") for c in self.columns]
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(meta.db_table)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{meta.db_table}', 'id'), %s)",
                    [self.next_id - 1],
                )
            return
        prepared = [
            tuple(
                f.get_db_prep_save(v, connection) if v is not None else None
                for f, v in zip(fields, row, strict=True)
            )
            for row in self.rows
        ]
        marks = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), 500):
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    prepared[start : start + 500],
                )


# --- The history ----------------------------------------------------------------------


def seed_history(
    *, orders: int = 130_000, years: int = 10, units: int = 60, seed: int = 13, now=None
) -> SeedReport:
    """Write `orders` orders over the last `years` years into the current database, with
    the demo municipality (grown to `units` units) underneath. Returns what it wrote."""
    from django.db import connection, transaction
    from django.utils import timezone

    from orders.models import Order, OrderEvent, OrderLine, Person, PoliceBatch
    from portal.models import Membership, Unit, User
    from robot.demo import load_demo_data
    from robot.models import Document, FilingJob, Proposal
    from robot.rules import active_ruleset

    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or timezone.now()
    report = SeedReport()
    with transaction.atomic():
        load_demo_data(with_orders=False)
        _grow_units(rng, units)
        payroll = User.objects.filter(is_payroll=True).order_by("pk").first().pk
        ruleset = active_ruleset()
        unit_list = list(Unit.objects.select_related("area").order_by("pk"))
        orderers = defaultdict(list)
        for m in Membership.objects.order_by("pk"):
            orderers[m.unit_id].append(m.user_id)
        profiles_by_area = _profiles_by_area()
        unit_list = [u for u in unit_list if profiles_by_area.get(u.area_id)]
        unit_weights = [
            AREA_WEIGHTS.get(u.area.name, 0.1) * rng.uniform(0.5, 1.5) for u in unit_list
        ]
        report.units = len(unit_list)

        placed_times = _placed_times(rng, orders, years, now)
        cprs = [synthetic_cpr(i) for i in range(orders)]
        hashes, encrypted = _cpr_columns(cprs)
        del cprs

        people = Table(Person, ["cpr_hash", "cpr_encrypted", "created_at"])
        order_rows = Table(
            Order,
            [
                "public_id",
                "person",
                "full_name",
                "unit",
                "profile",
                "start_date",
                "child_contact",
                "digital_post_exempt",
                "created_by",
                "created_at",
                "submission_token",
            ],
        )
        line_rows = Table(
            OrderLine,
            [
                "order",
                "person",
                "kind",
                "legal_basis",
                "status",
                "status_changed_at",
                "batch",
                "ordered_at",
                "replaces",
            ],
        )
        event_rows = Table(
            OrderEvent,
            ["order", "line", "at", "actor", "action", "from_status", "to_status", "note"],
        )
        batch_rows = Table(
            PoliceBatch,
            [
                "reference",
                "secret",
                "kind",
                "legal_basis",
                "state",
                "created_at",
                "created_by",
                "ordered_at",
                "ordered_by",
                "on_paper",
            ],
        )
        doc_rows = Table(
            Document,
            [
                "sha256",
                "original_name",
                "stored_name",
                "size",
                "source",
                "parent",
                "received_at",
                "received_by",
                "state",
                "outcome",
                "reason",
                "kind",
                "person",
                "line",
                "notice",
                "handled_by",
                "handled_at",
            ],
        )
        filing_rows = Table(
            FilingJob,
            [
                "document",
                "line",
                "reference",
                "with_note",
                "with_certificate",
                "state",
                "attempts",
                "next_attempt_at",
                "claimed_at",
                "uncertain",
                "last_error",
                "esdh_reference",
                "created_at",
                "filed_at",
            ],
        )
        proposal_rows = Table(
            Proposal,
            [
                "document",
                "line",
                "kind",
                "ruleset",
                "proposed",
                "sampled",
                "decided",
                "decided_by",
                "decided_at",
                "reason",
                "created_at",
            ],
        )

        S, A, D = OrderLine.Status, OrderEvent.Action, Document.State
        statuses: dict[str, int] = defaultdict(int)
        # (kind, basis, day) -> line ids batched that day; split into batches of 50 below.
        batched: dict[tuple, list] = defaultdict(list)
        line_batch_slot: dict[int, int] = {}
        lines_staged = []  # rows of the line table still needing their batch id
        trial_until = now - datetime.timedelta(days=240)
        for index, placed in enumerate(placed_times):
            unit = rng.choices(unit_list, unit_weights)[0]
            profile = rng.choice(profiles_by_area[unit.area_id])
            person_id = people.add(hashes[index], encrypted[index], placed)
            orderer = orderers.get(unit.pk)
            created_by = rng.choice(orderer) if orderer else None
            name = (
                f"{rng.choice(FIRST_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(LAST_NAMES)}"
                if rng.random() < 0.4
                else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            )
            recent = (now - placed).days <= 30
            order_id = order_rows.add(
                uuid.UUID(int=rng.getrandbits(128), version=4),
                person_id,
                name,
                unit.pk,
                profile.pk,
                (placed + datetime.timedelta(days=rng.randint(5, 45))).date(),
                None,
                False,
                created_by,
                placed,
                uuid.UUID(int=rng.getrandbits(128), version=4),
            )
            report.orders += 1
            stuck = recent and rng.random() < 0.25
            trial = placed > trial_until
            chosen = [b for b in profile.bases if b.required or rng.random() < 0.5]
            for basis in chosen or profile.bases[:1]:
                plan = _plan_line(rng, placed, child=basis.kind_code == "child", now=now)
                if stuck and plan["status"] != S.CANCELLED:
                    # Stuck: mostly at the police without an answer, a few still unbatched.
                    at_police = placed + datetime.timedelta(days=rng.uniform(2, 4))
                    if rng.random() < 0.1 or at_police > now:
                        plan = {"status": S.NEW, "changed": placed}
                    else:
                        plan = _plan_line(rng, placed, child=False, now=at_police)
                        plan.pop("reminded", None)
                line_row = [
                    order_id,
                    person_id,
                    basis.kind_id,
                    basis.pk,
                    plan["status"],
                    plan["changed"],
                    None,
                    plan.get("ordered"),
                    None,
                ]
                line_id = line_rows.add(*line_row)
                statuses[plan["status"]] += 1

                def event(action, at, actor=None, frm="", to="", o=order_id, li=line_id):
                    event_rows.add(o, li, at, actor, action, frm, to, "")

                event(A.PLACED, placed, created_by, to=S.NEW)
                if plan["status"] == S.CANCELLED:
                    event(A.CANCELLED, plan["changed"], created_by, S.NEW, S.CANCELLED)
                    continue
                if "batched" in plan:
                    day = plan["batched"].date()
                    key = (basis.kind_id, basis.pk, day, "ordered" in plan)
                    batched[key].append(line_id)
                    lines_staged.append(line_rows.rows[-1])
                    event(A.BATCHED, plan["batched"], payroll)
                if "ordered" in plan:
                    event(A.ORDERED, plan["ordered"], payroll, S.NEW, S.ORDERED)
                if "reminded" in plan:
                    event(A.REMINDED, plan["reminded"])
                if "expired" in plan:
                    event(A.EXPIRED, plan["expired"], None, S.ORDERED, S.EXPIRED)
                if "received" not in plan:
                    continue
                outcome = plan["outcome"]
                by_person = trial or rng.random() < 0.03
                proposed = plan["status"] == S.ORDERED  # answered, awaiting confirmation
                doc_id = doc_rows.next_id
                doc_rows.add(
                    hashlib.sha256(f"bench-{doc_id}".encode()).hexdigest(),
                    "attest.pdf",
                    f"bench-{doc_id}.pdf",
                    48_000,
                    Document.Source.MAILBOX,
                    None,
                    plan["received"],
                    None,
                    D.PROPOSED
                    if proposed
                    else D.NOT_CLEAN
                    if plan["status"] == S.IN_REVIEW
                    else D.DONE,
                    outcome,
                    "",
                    basis.kind_id,
                    person_id,
                    line_id,
                    "{}",
                    payroll if by_person and not proposed else None,
                    plan["received"] if by_person and not proposed else None,
                )
                if ruleset is not None and (proposed or trial and by_person):
                    proposal_rows.add(
                        doc_id,
                        line_id,
                        basis.kind_id,
                        ruleset.pk,
                        outcome,
                        proposed and not trial,
                        "" if proposed else outcome,
                        None if proposed else payroll,
                        None if proposed else plan["received"],
                        "",
                        plan["received"],
                    )
                if proposed:
                    continue
                to = {"clean": S.CLEARED, "not_clean": S.IN_REVIEW, "refused": S.REFUSED}[outcome]
                event(A.RECEIVED, plan["received"], payroll if by_person else None, S.ORDERED, to)
                if "decided" in plan:
                    event(A.DECIDED, plan["decided"], payroll, S.IN_REVIEW, plan["status"])
                if "filing" in plan:
                    filing_state = plan["filing"]
                    filed = plan.get("filed")
                    filing_rows.add(
                        doc_id,
                        line_id,
                        f"AP-{doc_id:08d}",
                        outcome == "not_clean",
                        True,
                        filing_state,
                        plan["attempts"],
                        plan["next_attempt"],
                        None,
                        False,
                        "503 Service Unavailable"
                        if filing_state in (FilingJob.State.FAILED, FilingJob.State.MANUAL)
                        else "",
                        f"SBSYS-{doc_id}" if filed else "",
                        plan["decided"] if "decided" in plan else plan["received"],
                        filed,
                    )
                    if filed:
                        event(A.FILED, filed)

        # Police batches: each day's batched lines per kind and basis, 50 at a time.
        line_index = {row[0]: row for row in lines_staged}
        for (kind_id, basis_id, _day, _ordered), ids in sorted(
            batched.items(), key=lambda kv: kv[0][2]
        ):
            for start in range(0, len(ids), PoliceBatch.MAX_PERSONS):
                chunk = ids[start : start + PoliceBatch.MAX_PERSONS]
                first = line_index[chunk[0]]
                ordered_at = first[8]
                batch_id = batch_rows.next_id
                created = ordered_at - datetime.timedelta(minutes=20) if ordered_at else now
                batch_rows.add(
                    f"ATT-{created:%y%m%d}-B{batch_id:04d}",
                    "".join(rng.choices("ABCDEFGHJKMNPQRSTUVWXYZ23456789", k=9)),
                    kind_id,
                    basis_id,
                    PoliceBatch.State.ORDERED if ordered_at else PoliceBatch.State.PREPARED,
                    created,
                    payroll,
                    ordered_at,
                    payroll if ordered_at else None,
                    False,  # mass orders; paper consent is ordered one person at a time
                )
                for line_id in chunk:
                    line_batch_slot[line_id] = batch_id
        line_rows.rows = [
            (*row[:7], line_batch_slot.get(row[0]), *row[8:]) for row in line_rows.rows
        ]

        # Documents the robot could not place: recent ones still in payroll's queue.
        queue_states = (D.NEEDS_REVIEW, D.UNREADABLE, D.NO_ORDER, D.DUPLICATE)
        for _ in range(orders // 25):
            at = placed_times[rng.randrange(len(placed_times))] + datetime.timedelta(days=9)
            if at > now:
                at = now - datetime.timedelta(hours=rng.randint(1, 48))
            waiting = (now - at).days < 14
            doc_id = doc_rows.next_id
            doc_rows.add(
                hashlib.sha256(f"bench-{doc_id}".encode()).hexdigest(),
                rng.choice(["scan.pdf", "attest.pdf", "Videresendt besked.eml"]),
                f"bench-{doc_id}.pdf",
                9_000,
                Document.Source.MAILBOX,
                None,
                at,
                None,
                rng.choice(queue_states) if waiting else D.DISCARDED,
                rng.choice([Document.Outcome.UNREADABLE, Document.Outcome.NEEDS_REVIEW]),
                "Ingen bestilling fundet" if waiting else "Kasseret: ikke en attest",
                None,
                None,
                None,
                "{}",
                None if waiting else payroll,
                None if waiting else at + datetime.timedelta(hours=3),
            )

        for table in (
            people,
            order_rows,
            batch_rows,
            line_rows,
            event_rows,
            doc_rows,
            proposal_rows,
            filing_rows,
        ):
            table.write()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As autovacuum would have left ten years of rows: statistics, visibility map.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    report.lines = len(line_rows.rows)
    report.events = len(event_rows.rows)
    report.batches = len(batch_rows.rows)
    report.documents = len(doc_rows.rows)
    report.filings = len(filing_rows.rows)
    report.proposals = len(proposal_rows.rows)
    report.statuses = dict(statuses)
    report.seconds = time.perf_counter() - started
    return report


def _grow_units(rng, total: int) -> None:
    """Add units (each with a manager) to the demo areas until there are `total`."""
    from portal.models import Area, Membership, Unit, User

    existing = Unit.objects.count()
    if existing >= total:
        return
    areas = {a.name: a for a in Area.objects.all()}
    names = {(u.area_id, u.name) for u in Unit.objects.all()}
    weights = [AREA_WEIGHTS[name] for name in EXTRA_UNITS]
    new_units = []
    while existing + len(new_units) < total:
        area_name = rng.choices(list(EXTRA_UNITS), weights)[0]
        area = areas[area_name]
        name = rng.choice(EXTRA_UNITS[area_name]).format(rng.choice(DISTRICTS))
        if (area.pk, name) in names:
            continue
        names.add((area.pk, name))
        new_units.append(Unit(area=area, name=name))
    Unit.objects.bulk_create(new_units)
    managers = User.objects.bulk_create(
        User(
            username=f"leder.bench{i}",
            first_name="Leder",
            last_name=unit.name,
            email=f"leder.bench{i}@demo.example",
            password="!",  # unusable: benchmark users log in with force_login
        )
        for i, unit in enumerate(new_units, start=1)
    )
    Membership.objects.bulk_create(
        Membership(user=user, unit=unit, role=Membership.Role.MANAGER)
        for user, unit in zip(managers, new_units, strict=True)
    )


@dataclass(frozen=True)
class _Basis:
    pk: int
    kind_id: int
    kind_code: str
    required: bool


@dataclass(frozen=True)
class _Profile:
    pk: int
    bases: tuple


def _profiles_by_area() -> dict[int, list[_Profile]]:
    from orders.models import PositionProfile, ProfileRequirement

    result = defaultdict(list)
    for profile in PositionProfile.objects.prefetch_related("requirements__legal_basis__kind"):
        bases = tuple(
            _Basis(
                pk=r.legal_basis_id,
                kind_id=r.legal_basis.kind_id,
                kind_code=r.legal_basis.kind.code,
                required=r.level == ProfileRequirement.Level.REQUIRED,
            )
            for r in profile.requirements.all()
        )
        if bases:
            result[profile.area_id].append(_Profile(pk=profile.pk, bases=bases))
    return result


def _placed_times(rng, n: int, years: int, now) -> list:
    """When each order was placed: working days over `years` years, Mondays busiest,
    mornings busiest, a little growth year on year; oldest first."""
    days = years * 365
    day_choices, day_weights = [], []
    for back in range(days, -1, -1):
        date = now - datetime.timedelta(days=back)
        weight = WEEKDAY_WEIGHTS[date.weekday()]
        if weight:
            day_choices.append(date)
            day_weights.append(weight * (1 + 0.3 * (days - back) / days))
    times = []
    for date in rng.choices(day_choices, day_weights, k=n):
        hour = rng.choices(HOURS, HOUR_WEIGHTS)[0]
        at = date.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
        times.append(min(at, now - datetime.timedelta(minutes=5)))
    times.sort()
    return times


def _plan_line(rng, placed, *, child: bool, now) -> dict:
    """When each step of one line happened, around the durations of the real process;
    steps that would lie in the future have not happened yet."""
    from orders.models import OrderLine
    from robot.models import FilingJob

    S = OrderLine.Status
    hour = datetime.timedelta(hours=1)
    plan = {"status": S.NEW, "changed": placed}
    if rng.random() < 0.02:
        cancelled = placed + rng.uniform(0.2, 20) * hour
        if cancelled < now:
            plan.update(status=S.CANCELLED, changed=cancelled)
        return plan
    batched = placed + rng.uniform(2, 40) * hour
    if batched > now:
        return plan
    plan["batched"] = batched
    ordered = batched + rng.uniform(0.1, 3) * hour
    if ordered > now:
        return plan  # in a prepared batch
    plan.update(ordered=ordered, status=S.ORDERED, changed=ordered)
    consent = rng.uniform(0.5, 13) * 24 * hour
    if consent > 7 * 24 * hour and ordered + 7 * 24 * hour < now:
        plan["reminded"] = ordered + 7 * 24 * hour
    roll = rng.random()
    if roll < 0.04:
        expired = ordered + 19 * 24 * hour
        if expired < now:
            plan.update(expired=expired, status=S.EXPIRED, changed=expired)
        return plan
    arrived = ordered + consent + rng.uniform(2, 14 if child else 7) * 24 * hour
    received = arrived + rng.uniform(0.5, 5) * hour / 60
    if received > now:
        return plan
    outcome = "refused" if roll < 0.07 else "not_clean" if roll < 0.12 else "clean"
    plan.update(received=received, outcome=outcome)
    if (now - received) < 2 * 24 * hour and rng.random() < 0.5:
        return plan  # the robot's proposal waits for a person; the line stays ordered
    status = {"clean": S.CLEARED, "not_clean": S.IN_REVIEW, "refused": S.REFUSED}[outcome]
    plan.update(status=status, changed=received)
    if outcome == "refused":
        return plan
    base = received
    if outcome == "not_clean":
        decided = received + rng.uniform(3, 120) * hour
        if decided > now:
            return plan
        decision = S.CLEARED if rng.random() < 0.8 else S.REJECTED
        plan.update(decided=decided, status=decision, changed=decided)
        base = decided
    attempts = 1 if rng.random() < 0.9 else rng.randint(2, 6)
    filed = base + (
        rng.uniform(0.5, 30) * datetime.timedelta(minutes=1)
        if attempts == 1
        else rng.uniform(2, 30) * hour
    )
    plan.update(attempts=attempts, next_attempt=min(filed, now))
    if filed <= now and not (now - base < 60 * 24 * hour and rng.random() < 0.002):
        plan.update(filing=FilingJob.State.FILED, filed=filed)
    elif attempts > 4:
        plan.update(filing=FilingJob.State.MANUAL)
    elif attempts > 1:
        plan.update(filing=FilingJob.State.FAILED, next_attempt=now + hour)
    else:
        plan.update(filing=FilingJob.State.PENDING)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=130_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="seed DATABASE_URL's database itself (migrated, without orders) and keep it",
    )
    args = parser.parse_args()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from orders.models import Order

    def run() -> None:
        report = seed_history(
            orders=args.orders, years=args.years, units=args.units, seed=args.seed
        )
        print(f"database: {connection.vendor}")
        print(f"seeded {report}")

    if args.keep:
        if Order.objects.exists():
            sys.exit("The database has orders already; seed an empty one.")
        run()
        return
    setup_test_environment()
    started = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"test database migrated in {time.perf_counter() - started:.1f} s")
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
