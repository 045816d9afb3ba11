"""Demo municipality: areas, units, position profiles, users, a few orders and the robot's
rules. It lives in the robot because the robot sits on top: it may import every app."""

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from orders.catalogue import ensure_standard_catalogue
from orders.models import (
    CertificateKind,
    ChildContactRule,
    LegalBasis,
    Order,
    PositionProfile,
    ProfileRequirement,
)
from orders.services import place_order
from portal.models import Area, Membership, Unit, UnitType, User, WelcomeSection
from portal.welcome_content import ensure_general_sections

from .models import Phrase, RuleSet
from .rules import ensure_standard_rules

CHILD_EMPLOYMENT = "Ansættelse i børnefagligt område"
SOCIAL = "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)"
SCHOOL = "Ansættelse i folkeskolen (direkte kontakt med elever)"
HELPER = "Ansættelse som personlig hjælper (serviceloven §§ 52, 54 og 74)"
CHILD_INSTITUTION = "Ansættelse ved dag-, døgn- og rådgivningstilbud for børn og unge"
PRIVATE = "Uden lovhjemmel (privat straffeattest)"

R, O = ProfileRequirement.Level.REQUIRED, ProfileRequirement.Level.OPTIONAL  # noqa: E741

# area: (asks the children question, units, {profile: [(basis, level)]})
AREAS = {
    "Børn og Unge": (
        True,
        [
            "Nordskolen",
            "Søndervangskolen",
            "Børnehuset Mælkebøtten",
            "Ungdomsklubben Fristedet",
            "Musikskolen",
        ],
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
        ["Plejecenter Solgården", "Hjemmeplejen Nord", "Bostedet Engly"],
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
        ["Familiehuset", "Jobcentret", "Ungecentret"],
        {
            "Familiebehandler": [(CHILD_EMPLOYMENT, R), (CHILD_INSTITUTION, R)],
            "Socialrådgiver": [(CHILD_INSTITUTION, O)],
            "Jobkonsulent": [],
        },
    ),
    "Sundhed og Kultur": (
        True,
        ["Svømmehallen", "Hovedbiblioteket", "Sundhedsplejen"],
        {
            "Svømmeinstruktør": [(CHILD_EMPLOYMENT, R)],
            "Sundhedsplejerske": [(CHILD_EMPLOYMENT, R)],
            "Bibliotekar": [],
            "Frivillig træner": [(CHILD_EMPLOYMENT, R)],
        },
    ),
    "Administration": (
        False,
        ["Løn og Personale", "Vej og Park", "Teknik og Miljø"],
        {
            "Administrativ medarbejder": [(PRIVATE, O)],
            "Vejarbejder": [],
        },
    ),
}

# Unit types narrow the positions of "Børn og Unge": a daycare is not offered a teacher.
UNIT_TYPES = {
    "Nordskolen": "Skole",
    "Søndervangskolen": "Skole",
    "Børnehuset Mælkebøtten": "Dagtilbud",
    "Ungdomsklubben Fristedet": "Klub",
    "Musikskolen": "Musikskole",
}
# Profiles not named here fit every unit type of their area (Pædagog, Pædagogmedhjælper).
PROFILE_TYPES = {
    "Lærer": "Skole",
    "Vikar i folkeskolen": "Skole",
    "Skolesekretær": "Skole",
    "Musikunderviser": "Musikskole",
}

# username: (first name, last name, [(unit, role)], payroll, admin)
USERS = {
    "leder.skole": ("Karen", "Holm", [("Nordskolen", "manager")], False, False),
    "sekretaer.skole": (
        "Mette",
        "Lund",
        [("Nordskolen", "secretary"), ("Børnehuset Mælkebøtten", "secretary")],
        False,
        False,
    ),
    "leder.aeldre": ("Jens", "Madsen", [("Plejecenter Solgården", "manager")], False, False),
    "loen": ("Lone", "Berg", [], True, False),
    "admin": ("Anders", "Dahl", [], False, True),
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

AREA_WELCOME = {
    "Børn og Unge": (
        "task",
        "Hvad er opgaven i Børn og Unge?",
        """Alle, der ansættes på en skole, i en daginstitution, en klub eller på musikskolen, og som får direkte kontakt med børn under 15 år, skal have en børneattest, før de begynder. Det gælder også vikarer, elever og frivillige med fast tilknytning.

- Lærere og vikarer i folkeskolen: børneattest og offentlig straffeattest.
- Pædagoger: børneattest og offentlig straffeattest.
- Administrative medarbejdere: svar på spørgsmålet om kontakt med børn.

Den nyansatte må ikke arbejde med børn, før børneattesten er modtaget.""",
    ),
    "Ældre og Handicap": (
        "task",
        "Hvad er opgaven i Ældre og Handicap?",
        """Medarbejdere i pleje, hjemmepleje, på botilbud og personlige hjælpere skal have en offentlig straffeattest efter serviceloven, før de begynder.

- Social- og sundhedshjælpere og -assistenter: offentlig straffeattest (sociale servicefag).
- Personlige hjælpere: offentlig straffeattest (personlig hjælper).

Du ser ikke skolernes og daginstitutionernes valgmuligheder; portalen viser kun det, der gælder for din forvaltning.""",
    ),
}


@transaction.atomic
def load_demo_data(*, with_orders: bool = True, with_history: bool = False) -> None:
    """Create the demo municipality; running it again changes nothing. With history (what
    `make run` loads), a year of past orders fills the statistics page."""
    ensure_standard_catalogue(CertificateKind, LegalBasis)
    ensure_standard_rules(RuleSet, Phrase, CertificateKind)
    bases = {b.text: b for b in LegalBasis.objects.all()}
    units = {}
    for area_name, (asks_children, unit_names, profiles) in AREAS.items():
        area, _ = Area.objects.get_or_create(name=area_name)
        if asks_children:
            ChildContactRule.objects.get_or_create(
                area=area, defaults={"legal_basis": bases[CHILD_EMPLOYMENT]}
            )
        for unit_name in unit_names:
            units[unit_name], _ = Unit.objects.get_or_create(area=area, name=unit_name)
        for profile_name, requirements in profiles.items():
            profile, created = PositionProfile.objects.get_or_create(area=area, name=profile_name)
            if created:
                ProfileRequirement.objects.bulk_create(
                    ProfileRequirement(profile=profile, legal_basis=bases[text], level=level)
                    for text, level in requirements
                )
    _set_unit_types()
    users = {}
    for username, (first, last, memberships, payroll, admin) in USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "is_payroll": payroll,
                "is_staff": admin,
                "is_superuser": admin,
                "email": f"{username}@demo.example",
            },
        )
        if created:
            user.set_password("demo")
            user.save(update_fields=["password"])
        for unit_name, role in memberships:
            Membership.objects.get_or_create(
                user=user, unit=units[unit_name], defaults={"role": role}
            )
        users[username] = user
    ensure_general_sections(WelcomeSection)
    for area_name, (topic, title, body) in AREA_WELCOME.items():
        WelcomeSection.objects.get_or_create(
            area=Area.objects.get(name=area_name),
            topic=topic,
            defaults={"title": title, "body": body, "sort_order": 10},
        )
    if with_orders and not Order.objects.exists():
        _place_demo_orders(units, users)
    if with_orders and with_history:
        load_demo_history()
        # The statistics page is current from the first visit.
        from .statistics import summary

        summary.refresh()


def _place_demo_orders(units, users) -> None:
    for unit_name, profile_name, name, cpr, days, exempt in ORDERS:
        unit = units[unit_name]
        profile = PositionProfile.objects.get(area=unit.area, name=profile_name)
        orderer = next(u for u in users.values() if u.memberships.filter(unit=unit).exists())
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


# A year of history for the statistics page ---------------------------------------------


def load_demo_history(*, days: int = 365, per_weekday: float = 1.5, seed: int = 12) -> int:
    """Orders over the past `days` with their whole timeline (batched, ordered, answered by
    the robot or a person, reviewed, filed), plus a few cases stuck now, written in bulk with
    the dates they would have had, a month at a time. Running it again changes nothing.
    Returns the number of orders made."""
    import random

    from orders.demo_history import history_exists

    if history_exists():
        return 0
    rng = random.Random(seed)
    made = 0
    for window_end in range(days, 0, -30):
        made += _history_window(
            rng,
            first_day=window_end,
            last_day=max(window_end - 30, 0),
            per_weekday=per_weekday,
            serial=made,
            total_days=days,
        )
    return made


@transaction.atomic
def _history_window(
    rng, *, first_day: int, last_day: int, per_weekday: float, serial: int, total_days: int
) -> int:
    """Orders placed from `first_day` to `last_day` days ago (orders writes them and their
    timeline), with the documents, proposals and filings the robot would have made."""
    import hashlib

    from orders.demo_history import seed_timeline

    from .models import Document, FilingJob, Proposal
    from .rules import active_ruleset

    now = timezone.now()
    payroll = User.objects.filter(is_payroll=True).order_by("pk").first()
    ruleset = active_ruleset()
    profiles = [
        p
        for p in PositionProfile.objects.select_related("area").prefetch_related(
            "requirements__legal_basis__kind", "area__units"
        )
        if p.requirements.all() and p.area.units.all()
    ]
    orderers = {m.unit_id: m.user for m in Membership.objects.select_related("user")}
    hours = datetime.timedelta(hours=1)
    pairs = seed_timeline(
        rng,
        first_day=first_day,
        last_day=last_day,
        per_weekday=per_weekday,
        serial=serial,
        total_days=total_days,
        profiles=profiles,
        orderers=orderers,
        payroll=payroll,
    )
    orders = len({line.order_id for line, _plan in pairs})
    documents, filings, proposals = [], [], []
    for line, plan in pairs:
        if "received" not in plan:
            continue
        by_person = plan["by_person"]
        document = Document(
            sha256=hashlib.sha256(
                f"demo-history-{line.order.submission_token}-{line.kind_id}".encode()
            ).hexdigest(),
            original_name="attest.pdf",
            stored_name=f"demo-{uuid.uuid4().hex}.pdf",
            size=48_000,
            source=Document.Source.MAILBOX,
            received_at=plan["arrived"],
            state=Document.State.DONE,
            outcome=plan["outcome"],
            kind_id=line.kind_id,
            person_id=line.person_id,
            line=line,
            handled_by=payroll if by_person else None,
            handled_at=plan["received"] if by_person else None,
        )
        documents.append(document)
        if by_person and ruleset is not None and plan["trial"]:
            proposals.append((document, plan))
        if "filed" in plan:
            filings.append((document, plan))
    # Documents the robot could not place.
    for index in range(serial, serial + orders // 25):
        at = now - datetime.timedelta(
            days=rng.randint(max(last_day, 5), max(first_day, 6)), hours=rng.randint(0, 8)
        )
        outcome = rng.choice([Document.Outcome.UNREADABLE, Document.Outcome.NEEDS_REVIEW])
        documents.append(
            Document(
                sha256=hashlib.sha256(f"demo-history-stray-{index}".encode()).hexdigest(),
                original_name="scan.pdf",
                stored_name=f"demo-{uuid.uuid4().hex}.pdf",
                size=9_000,
                source=Document.Source.MAILBOX,
                received_at=at,
                state=Document.State.DISCARDED,
                outcome=outcome,
                handled_by=payroll,
                handled_at=at + 3 * hours,
                reason="Kasseret: ikke en attest (demo)",
            )
        )
    Document.objects.bulk_create(documents)
    FilingJob.objects.bulk_create(
        FilingJob(
            document=document,
            line=document.line,
            reference=f"AP-DEMO-{document.pk}",
            state=FilingJob.State.FILED,
            attempts=plan["attempts"],
            esdh_reference=f"DEMO-{document.pk}",
            created_at=plan.get("decided") or plan["received"],
            filed_at=plan["filed"],
            next_attempt_at=plan["filed"],
        )
        for document, plan in filings
    )
    Proposal.objects.bulk_create(
        Proposal(
            document=document,
            line=document.line,
            kind_id=document.kind_id,
            ruleset=ruleset,
            proposed=plan["proposed"],
            decided=plan["outcome"],
            decided_by=payroll,
            decided_at=plan["received"],
            reason="" if plan["proposed"] == plan["outcome"] else "Afslag læst forkert (demo)",
            created_at=plan["arrived"],
        )
        for document, plan in proposals
    )
    return orders


def _set_unit_types() -> None:
    """Give the demo's units and profiles their types; also an older demo database, as
    `make run` loads the demo each time. What an administrator set is left alone."""
    types = {name: UnitType.objects.get_or_create(name=name)[0] for name in {*UNIT_TYPES.values()}}
    for unit_name, type_name in UNIT_TYPES.items():
        Unit.objects.filter(name=unit_name, unit_type__isnull=True).update(
            unit_type=types[type_name]
        )
    for profile_name, type_name in PROFILE_TYPES.items():
        PositionProfile.objects.filter(
            area__name="Børn og Unge", name=profile_name, unit_type__isnull=True
        ).update(unit_type=types[type_name])
