"""Demo history: orders over a period with the timeline they would have had, written in
bulk. Only for demo data and benchmarks (robot.demo adds the robot's side); the timeline
is written here because only orders writes order lines and their events."""

import datetime
import uuid

from django.utils import timezone

from .answers import Decision
from .models import Order, OrderEvent, OrderLine, Person
from .timeline import record_events

HISTORY_NAMESPACE = uuid.UUID("6f1c3f52-2a4e-4c1e-9d55-0a1b2c3d4e5f")


def history_exists() -> bool:
    return Order.objects.filter(submission_token=uuid.uuid5(HISTORY_NAMESPACE, "0")).exists()


def seed_timeline(
    rng,
    *,
    first_day: int,
    last_day: int,
    per_weekday: float,
    serial: int,
    total_days: int,
    profiles,
    orderers: dict,
    payroll,
) -> list[tuple]:
    """Orders placed from `first_day` to `last_day` days ago, their lines and every timeline
    event, in bulk. Returns (line, plan) pairs: the plan says when each step happened."""
    from portal.cpr import encrypt_cpr, hash_cpr

    now = timezone.now()
    A, S = OrderEvent.Action, OrderLine.Status
    plans = []
    for day in range(first_day, last_day, -1):
        date = now - datetime.timedelta(days=day)
        if date.weekday() >= 5:
            continue
        # Under half an order a day (a small history over many years), round() would
        # give none at all: a day then has one order with that probability.
        if per_weekday >= 0.5:
            count = rng.randint(0, round(2 * per_weekday))
        else:
            count = int(rng.random() < per_weekday)
        for _ in range(count):
            profile = rng.choice(profiles)
            fitting = [
                u
                for u in profile.area.units.all()
                if profile.unit_type_id in (None, u.unit_type_id)
            ]
            unit = rng.choice(fitting or list(profile.area.units.all()))
            placed = date.replace(hour=rng.randint(8, 15), minute=rng.randint(0, 59))
            base = serial // 10000  # a unique synthetic CPR number per serial
            cpr = (
                f"{1 + base % 28:02d}{1 + (base // 28) % 12:02d}{60 + (base // 336) % 40:02d}"
                f"{serial % 10000:04d}"
            )
            order = Order(
                person=None,
                full_name=f"Demo Ansat {serial + 1}",
                unit=unit,
                profile=profile,
                created_by=orderers.get(unit.pk),
                start_date=(placed + datetime.timedelta(days=rng.randint(5, 30))).date(),
                created_at=placed,
                submission_token=uuid.uuid5(HISTORY_NAMESPACE, str(serial)),
            )
            order._cpr = cpr
            order._stuck = day <= 30 and rng.random() < 0.25
            plans.append(order)
            serial += 1
    people = Person.objects.bulk_create(
        Person(
            cpr_hash=hash_cpr(order._cpr),
            cpr_encrypted=encrypt_cpr(order._cpr),
            created_at=order.created_at,
        )
        for order in plans
    )
    for order, person in zip(plans, people, strict=True):
        order.person = person
    Order.objects.bulk_create(plans)

    lines, line_plans = [], []
    for order in plans:
        trial = order.created_at < now - datetime.timedelta(days=min(240, total_days * 2 // 3))
        for requirement in order.profile.requirements.all():
            basis = requirement.legal_basis
            plan = _plan_line(
                rng,
                order.created_at,
                kind_code=basis.kind.code,
                now=now,
                stuck=order._stuck,
                trial=trial,
            )
            lines.append(
                OrderLine(
                    order=order,
                    person=order.person,
                    kind_id=basis.kind_id,
                    legal_basis=basis,
                    status=plan["status"],
                    status_changed_at=plan["changed"],
                    ordered_at=plan.get("ordered"),
                )
            )
            line_plans.append(plan)
    OrderLine.objects.bulk_create(lines)

    events = []
    for line, plan in zip(lines, line_plans, strict=True):

        def event(action, at, actor=None, from_status="", to_status="", note="", line=line):
            events.append(
                {
                    "line": line,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "from_status": from_status,
                    "to_status": to_status,
                    "note": note,
                }
            )

        event(A.PLACED, line.order.created_at, line.order.created_by, to_status=S.NEW)
        if "batched" in plan:
            event(A.BATCHED, plan["batched"], payroll, note="ATT-DEMO")
        if "ordered" in plan:
            event(A.ORDERED, plan["ordered"], payroll, S.NEW, S.ORDERED, note="ATT-DEMO")
        if plan.get("expired"):
            event(A.EXPIRED, plan["expired"], None, S.ORDERED, S.EXPIRED)
        if "received" in plan:
            to = {"clean": S.CLEARED, "not_clean": S.IN_REVIEW, "refused": S.REFUSED}[
                plan["outcome"]
            ]
            event(
                A.RECEIVED, plan["received"], payroll if plan["by_person"] else None, S.ORDERED, to
            )
        if "decided" in plan:
            decision = (
                Decision.MAY_EMPLOY if plan["decision"] == S.CLEARED else Decision.MAY_NOT_EMPLOY
            )
            event(
                A.DECIDED,
                plan["decided"],
                payroll,
                S.IN_REVIEW,
                plan["decision"],
                note=str(decision.label),
            )
        if "filed" in plan:
            event(A.FILED, plan["filed"], payroll if plan["filed_by_hand"] else None)
    record_events(events)
    return list(zip(lines, line_plans, strict=True))


def _plan_line(rng, placed, *, kind_code: str, now, stuck: bool, trial: bool) -> dict:
    """When each step of one line happened, drawn around the durations of the real process."""
    hour = datetime.timedelta(hours=1)
    plan = {"status": "new", "changed": placed, "trial": trial}
    if stuck and rng.random() < 0.3:
        return plan  # still waiting for a batch
    plan["batched"] = placed + rng.uniform(2, 40) * hour
    plan["ordered"] = plan["batched"] + rng.uniform(0.1, 3) * hour
    plan["status"], plan["changed"] = "ordered", plan["ordered"]
    consent = rng.uniform(0.5, 13) * 24 * hour
    police = rng.uniform(2, 14 if kind_code == "child" else 7) * 24 * hour
    arrived = plan["ordered"] + consent + police
    if stuck and rng.random() < 0.5 or arrived > now:
        return plan  # at the police
    roll = rng.random()
    if roll < 0.04:
        plan["expired"] = plan["ordered"] + 19 * 24 * hour
        plan["status"], plan["changed"] = "expired", plan["expired"]
        return plan
    outcome = "refused" if roll < 0.07 else "not_clean" if roll < 0.12 else "clean"
    by_person = trial or (outcome == "refused" and rng.random() < 0.5) or rng.random() < 0.03
    evaluated = rng.uniform(1, 30) * hour if by_person else rng.uniform(0.5, 5) * hour / 60
    plan.update(
        arrived=arrived,
        received=arrived + evaluated,
        outcome=outcome,
        by_person=by_person,
        proposed=("clean" if outcome == "refused" and rng.random() < 0.05 else outcome),
    )
    plan["status"] = {"clean": "cleared", "not_clean": "in_review", "refused": "refused"}[outcome]
    plan["changed"] = plan["received"]
    base = plan["received"]
    if outcome == "not_clean":
        decided = base + rng.uniform(3, 120) * hour
        if stuck or decided > now:
            return plan
        plan["decided"], plan["decision"] = (
            decided,
            ("cleared" if rng.random() < 0.8 else "rejected"),
        )
        plan["status"], plan["changed"], base = plan["decision"], decided, decided
    if outcome == "refused":
        return plan
    plan["attempts"] = 1 if rng.random() < 0.9 else rng.randint(2, 6)
    plan["filed_by_hand"] = rng.random() < 0.02
    plan["filed"] = base + (
        rng.uniform(0.5, 30) * datetime.timedelta(minutes=1)
        if plan["attempts"] == 1
        else rng.uniform(2, 30) * hour
    )
    if plan["filed"] > now:
        del plan["filed"]
    return plan
