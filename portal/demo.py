"""The demo municipality's organisation: areas, units and their types, users with their
roles, the welcome pack, and the group mappings of the local sign-in provider.

Each app seeds its own part of the demo: this module the organisation (it imports no other
app), orders/demo.py the catalogue, position profiles, sample orders and a year of history,
robot/demo.py the rules and the returned documents and filings of that history.
`robot.demo.load_demo_data` (the `load_demo` command) runs the three in that order; running
them again changes nothing. Only for DEMO_MODE: every user's password is "demo".
"""

from .models import Area, GroupMapping, Membership, Unit, UnitType, User, WelcomeSection
from .welcome_content import ensure_general_sections

# area: units
AREAS = {
    "Børn og Unge": [
        "Nordskolen",
        "Søndervangskolen",
        "Børnehuset Mælkebøtten",
        "Ungdomsklubben Fristedet",
        "Musikskolen",
    ],
    "Ældre og Handicap": ["Plejecenter Solgården", "Hjemmeplejen Nord", "Bostedet Engly"],
    "Familie og Beskæftigelse": ["Familiehuset", "Jobcentret", "Ungecentret"],
    "Sundhed og Kultur": ["Svømmehallen", "Hovedbiblioteket", "Sundhedsplejen"],
    "Administration": ["Løn og Personale", "Vej og Park", "Teknik og Miljø"],
}

# Unit types narrow the positions of "Børn og Unge": a daycare is not offered a teacher
# (orders/demo.py gives the profiles their types).
UNIT_TYPES = {
    "Nordskolen": "Skole",
    "Søndervangskolen": "Skole",
    "Børnehuset Mælkebøtten": "Dagtilbud",
    "Ungdomsklubben Fristedet": "Klub",
    "Musikskolen": "Musikskole",
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
    # A second administrator: a role one of them proposes, the other approves.
    "admin2": ("Birthe", "Krogh", [], False, True),
}

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

# The groups of scripts/oidc/demo-accounts.json.
DEMO_GROUPS = [
    ("demo-nordskolen-ledere", "Ledere, Nordskolen", "Nordskolen", Membership.Role.MANAGER),
    (
        "demo-nordskolen-sekretaerer",
        "Sekretærer, Nordskolen",
        "Nordskolen",
        Membership.Role.SECRETARY,
    ),
]


def load_demo_organisation() -> None:
    """Create the demo's areas, units, users and welcome pack; running it again changes
    nothing."""
    units = {}
    for area_name, unit_names in AREAS.items():
        area, _ = Area.objects.get_or_create(name=area_name)
        for unit_name in unit_names:
            units[unit_name], _ = Unit.objects.get_or_create(area=area, name=unit_name)
    _set_unit_types()
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
    ensure_general_sections(WelcomeSection)
    for area_name, (topic, title, body) in AREA_WELCOME.items():
        WelcomeSection.objects.get_or_create(
            area=Area.objects.get(name=area_name),
            topic=topic,
            defaults={"title": title, "body": body, "sort_order": 10},
        )


def _set_unit_types() -> None:
    """Give the demo's units their types; also in an older demo database, as `make run`
    loads the demo each time. What an administrator set is left alone."""
    types = {name: UnitType.objects.get_or_create(name=name)[0] for name in {*UNIT_TYPES.values()}}
    for unit_name, type_name in UNIT_TYPES.items():
        Unit.objects.filter(name=unit_name, unit_type__isnull=True).update(
            unit_type=types[type_name]
        )


def map_demo_groups() -> None:
    """Map the local test provider's demo groups to the demo's units and roles."""
    for group_id, label, unit_name, role in DEMO_GROUPS:
        unit = Unit.objects.get(name=unit_name)
        GroupMapping.objects.get_or_create(
            group_id=group_id,
            grants="membership",
            unit=unit,
            defaults={"label": label, "membership_role": role},
        )
    GroupMapping.objects.get_or_create(
        group_id="demo-loen",
        grants="payroll",
        unit=None,
        # Approved beforehand, so the provider's demo accounts work at once.
        defaults={"label": "Løn og Personale", "approved": True},
    )
    GroupMapping.objects.get_or_create(
        group_id="demo-administratorer",
        grants="administrator",
        unit=None,
        defaults={"label": "Administratorer", "approved": True},
    )
