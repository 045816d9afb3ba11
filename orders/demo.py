"""The demo's orders: the catalogue, position profiles and the areas that ask about
children, a few sample orders, and orders over a period with the timeline they would have
had (the history behind the statistics page, also used by benchmarks).

Each app seeds its own part of the demo: portal/demo.py the organisation (this module
runs after it, and finds its units, unit types and users in the database), this module
the orders, robot/demo.py the rules and the robot's side of the history (documents,
proposals, filings). `robot.demo.load_demo_data` (the `load_demo` command) runs them in
that order. The history's timeline is written here because only orders writes order lines
and their events.
"""

import datetime
import uuid

from django.utils import timezone

from portal.cpr import encrypt_cpr, hash_cpr
from portal.models import Area, Unit, UnitType, User

from .answers import Decision
from .catalogue import ensure_standard_catalogue
from .models import (
    CertificateKind,
    ChildContactRule,
    LegalBasis,
    Order,
    OrderEvent,
    OrderLine,
    Person,
    PositionProfile,
    ProfileRequirement,
)
from .services import place_order
from .timeline import record_events

CHILD_EMPLOYMENT = "Ansættelse i børnefagligt område"
SOCIAL = "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)"
SCHOOL = "Ansættelse i folkeskolen (direkte kontakt med elever)"
HELPER = "Ansættelse som personlig hjælper (serviceloven §§ 52, 54 og 74)"
CHILD_INSTITUTION = "Ansættelse ved dag-, døgn- og rådgivningstilbud for børn og unge"
PRIVATE = "Uden lovhjemmel (privat straffeattest)"

R, O = ProfileRequirement.Level.REQUIRED, ProfileRequirement.Level.OPTIONAL  # noqa: E741

# area (portal/demo.py): (asks the children question, {profile: [(basis, level)]})
PROFILES = {
    "Børn og Unge": (
        True,
        {
            "Lærer": [(CHILD_EMPLOYMENT, R), (SCHOOL, R)],
            "Pædagog": [(CHILD_EMPLOYMENT, R), (CHILD_INSTITUTION, R)],
            "Pædagogmedhjælper": [(CHILD_EMPLOYMENT, R), (CHILD_INSTITUTION, O)],
            "Vikar i folkeskolen": [(CHILD_EMPLOYMENT, R), (SCHOOL, R)],
            "Musikunderviser": [(CHILD_EMPLOYMENT, R)],
            "Skolesekretær": [(SCHOOL, O)],
        },
    ),
    "Ældre og Handicap": (
        False,
        {
            "Social- og sundhedshjælper": [(SOCIAL, R)],
            "Social- og sundhedsassistent": [(SOCIAL, R)],
            "Sygeplejerske": [(SOCIAL, R)],
            "Personlig hjælper": [(HELPER, R)],
            "Pædagog på bosted": [(SOCIAL, R)],
        },
    ),
    "Familie og Beskæftigelse": (
        True,
        {
            "Familiebehandler": [(CHILD_EMPLOYMENT, R), (CHILD_INSTITUTION, R)],
            "Socialrådgiver": [(CHILD_INSTITUTION, O)],
            "Jobkonsulent": [],
        },
    ),
    "Sundhed og Kultur": (
        True,
        {
            "Svømmeinstruktør": [(CHILD_EMPLOYMENT, R)],
            "Sundhedsplejerske": [(CHILD_EMPLOYMENT, R)],
            "Bibliotekar": [],
            "Frivillig træner": [(CHILD_EMPLOYMENT, R)],
        },
    ),
    "Administration": (
        False,
        {
            "Administrativ medarbejder": [(PRIVATE, O)],
            "Vejarbejder": [],
        },
    ),
}

# The unit type (portal/demo.py) a profile of "Børn og Unge" is limited to. Profiles not
# named here fit every unit type of their area (Pædagog, Pædagogmedhjælper).
PROFILE_TYPES = {
    "Lærer": "Skole",
    "Vikar i folkeskolen": "Skole",
    "Skolesekretær": "Skole",
    "Musikunderviser": "Musikskole",
}

# Synthetic people (valid dates of birth, not real persons):
# unit, profile, name, cpr, days until the start date, exempt from Digital Post.
ORDERS = [
    ("Nordskolen", "Lærer", "Sofie Kristensen", "1203961234", 21, False),
    ("Nordskolen", "Vikar i folkeskolen", "Mikkel Andersen", "2208014321", 4, False),
    ("Nordskolen", "Skolesekretær", "Hanne Poulsen", "0511754411", 30, False),
    ("Børnehuset Mælkebøtten", "Pædagog", "Ida Mortensen", "3001992468", 21, False),
    (
        "Plejecenter Solgården",
        "Social- og sundhedshjælper",
        "Fatima Hassan",
        "1407881357",
        14,
        False,
    ),
    ("Plejecenter Solgården", "Sygeplejerske", "Peter Nielsen", "0902823579", 21, True),
]


def load_demo_catalogue() -> None:
    """The standard catalogue, the demo's position profiles and the areas that ask about
    children; running it again changes nothing."""
    ensure_standard_catalogue(CertificateKind, LegalBasis)
    bases = {b.text: b for b in LegalBasis.objects.all()}
    for area_name, (asks_children, profiles) in PROFILES.items():
        area = Area.objects.get(name=area_name)
        if asks_children:
            ChildContactRule.objects.get_or_create(
                area=area, defaults={"legal_basis": bases[CHILD_EMPLOYMENT]}
            )
        for profile_name, requirements in profiles.items():
            profile, created = PositionProfile.objects.get_or_create(area=area, name=profile_name)
            if created:
                ProfileRequirement.objects.bulk_create(
                    ProfileRequirement(profile=profile, legal_basis=bases[text], level=level)
                    for text, level in requirements
                )
    _set_profile_types()


def place_demo_orders() -> None:
    """The sample orders, placed as their unit's first member would; only in a portal
    without orders."""
    if Order.objects.exists():
        return
    for unit_name, profile_name, name, cpr, days, exempt in ORDERS:
        unit = Unit.objects.get(name=unit_name)
        profile = PositionProfile.objects.get(area=unit.area, name=profile_name)
        orderer = User.objects.filter(memberships__unit=unit).order_by("pk").first()
        place_order(
            by=orderer,
            unit=unit,
            profile=profile,
            full_name=name,
            cpr=cpr,
            start_date=timezone.localdate() + datetime.timedelta(days=days),
            digital_post_exempt=exempt,
            legal_bases=[r.legal_basis for r in profile.requirements.select_related("legal_basis")],
            child_contact=None,
            submission_token=uuid.uuid4(),
        )


def _set_profile_types() -> None:
    """Give the demo's profiles their unit types; also in an older demo database, as
    `make run` loads the demo each time. What an administrator set is left alone."""
    for profile_name, type_name in PROFILE_TYPES.items():
        PositionProfile.objects.filter(
            area__name="Børn og Unge", name=profile_name, unit_type__isnull=True
        ).update(unit_type=UnitType.objects.get(name=type_name))


# Orders over a period with their timeline -------------------------------------------

HISTORY_NAMESPACE = uuid.UUID("6f1c3f52-2a4e-4c1e-9d55-0a1b2c3d4e5f")


def history_exists() -> bool:
    """Whether the history is in the database already (its first order is)."""
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
