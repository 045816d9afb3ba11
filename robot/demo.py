"""Demo municipality: areas, units, position profiles, users, a few orders and the robot's
rules. It lives in the robot because the robot sits on top: it may import every app."""

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from portal.models import Area, Membership, Unit, User, WelcomeSection
from portal.welcome_content import ensure_general_sections
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

from .models import Phrase, RuleSet
from .rules import ensure_standard_rules

CHILD_EMPLOYMENT = "Ansættelse i børnefagligt område"
SOCIAL = "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)"
SCHOOL = "Ansættelse i folkeskolen (direkte kontakt med elever)"
HELPER = "Ansættelse som personlig hjælper (serviceloven §§ 52, 54 og 74)"
CHILD_INSTITUTION = "Ansættelse ved dag-, døgn- og rådgivningstilbud for børn og unge"
PRIVATE = "Uden lovhjemmel (privat straffeattest)"

R, O = ProfileRequirement.Level.REQUIRED, ProfileRequirement.Level.OPTIONAL

# area: (asks the children question, units, {profile: [(basis, level)]})
AREAS = {
    "Børn og Unge": (
        True,
        ["Nordskolen", "Søndervangskolen", "Børnehuset Mælkebøtten", "Ungdomsklubben Fristedet",
         "Musikskolen"],
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

# username: (first name, last name, [(unit, role)], payroll, admin)
USERS = {
    "leder.skole": ("Karen", "Holm", [("Nordskolen", "manager")], False, False),
    "sekretaer.skole": (
        "Mette", "Lund",
        [("Nordskolen", "secretary"), ("Børnehuset Mælkebøtten", "secretary")], False, False,
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
    ("Plejecenter Solgården", "Social- og sundhedshjælper", "Fatima Hassan", "1407881357", 14,
     False),
    ("Plejecenter Solgården", "Sygeplejerske", "Peter Nielsen", "0902823579", 21, True),
]

AREA_WELCOME = {
    "Børn og Unge": ("task", "Hvad er opgaven i Børn og Unge?", """Alle, der ansættes på en skole, i en daginstitution, en klub eller på musikskolen, og som får direkte kontakt med børn under 15 år, skal have en børneattest, før de begynder. Det gælder også vikarer, elever og frivillige med fast tilknytning.

- Lærere og vikarer i folkeskolen: børneattest og offentlig straffeattest.
- Pædagoger: børneattest og offentlig straffeattest.
- Administrative medarbejdere: svar på spørgsmålet om kontakt med børn.

Den nyansatte må ikke arbejde med børn, før børneattesten er modtaget."""),
    "Ældre og Handicap": ("task", "Hvad er opgaven i Ældre og Handicap?", """Medarbejdere i pleje, hjemmepleje, på botilbud og personlige hjælpere skal have en offentlig straffeattest efter serviceloven, før de begynder.

- Social- og sundhedshjælpere og -assistenter: offentlig straffeattest (sociale servicefag).
- Personlige hjælpere: offentlig straffeattest (personlig hjælper).

Du ser ikke skolernes og daginstitutionernes valgmuligheder; portalen viser kun det, der gælder for din forvaltning."""),
}


@transaction.atomic
def load_demo_data(*, with_orders: bool = True) -> None:
    """Create the demo municipality; running it again changes nothing."""
    ensure_standard_catalogue(CertificateKind, LegalBasis)
    ensure_standard_rules(RuleSet, Phrase, CertificateKind)
    bases = {b.text: b for b in LegalBasis.objects.all()}
    units = {}
    for area_name, (asks_children, unit_names, profiles) in AREAS.items():
        area, _ = Area.objects.get_or_create(name=area_name)
        if asks_children:
            ChildContactRule.objects.get_or_create(
                area=area, defaults={"legal_basis": bases[CHILD_EMPLOYMENT]})
        for unit_name in unit_names:
            units[unit_name], _ = Unit.objects.get_or_create(area=area, name=unit_name)
        for profile_name, requirements in profiles.items():
            profile, created = PositionProfile.objects.get_or_create(area=area, name=profile_name)
            if created:
                ProfileRequirement.objects.bulk_create(
                    ProfileRequirement(profile=profile, legal_basis=bases[text], level=level)
                    for text, level in requirements
                )
    users = {}
    for username, (first, last, memberships, payroll, admin) in USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_payroll": payroll,
                      "is_staff": admin, "is_superuser": admin,
                      "email": f"{username}@demo.example"},
        )
        if created:
            user.set_password("demo")
            user.save(update_fields=["password"])
        for unit_name, role in memberships:
            Membership.objects.get_or_create(user=user, unit=units[unit_name],
                                             defaults={"role": role})
        users[username] = user
    ensure_general_sections(WelcomeSection)
    for area_name, (topic, title, body) in AREA_WELCOME.items():
        WelcomeSection.objects.get_or_create(
            area=Area.objects.get(name=area_name), topic=topic,
            defaults={"title": title, "body": body, "sort_order": 10},
        )
    if with_orders and not Order.objects.exists():
        _place_demo_orders(units, users)


def _place_demo_orders(units, users) -> None:
    for unit_name, profile_name, name, cpr, days, exempt in ORDERS:
        unit = units[unit_name]
        profile = PositionProfile.objects.get(area=unit.area, name=profile_name)
        orderer = next(
            u for u in users.values() if u.memberships.filter(unit=unit).exists()
        )
        place_order(
            by=orderer, unit=unit, profile=profile, full_name=name, cpr=cpr,
            start_date=timezone.localdate() + datetime.timedelta(days=days),
            digital_post_exempt=exempt,
            legal_bases=[r.legal_basis for r in profile.requirements.select_related("legal_basis")],
            child_contact=None, submission_token=uuid.uuid4(),
        )
