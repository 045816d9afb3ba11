"""Accounts for the load test, made in the load test's own database after `load_demo`.

Run as `python manage.py shell < bench/load/accounts.py` with LOAD_ACCOUNTS set to a JSON
file to write: a manager for every demo unit, a secretary for each pair of units and the
demo's payroll clerk, with the units and the position profiles each may order for (only
profiles that require a certificate, so every order the test places is a valid one).
All have the password "demo"; it is hashed once and the hash shared, since set_password
costs a second of CPU per user on a busy machine.
"""

import json
import os

from django.conf import settings
from django.contrib.auth.hashers import make_password

from orders.selectors import profiles_for
from portal.models import Membership, Unit, User

# It sets every account it touches to a known password: never against a real database.
assert settings.DEMO_MODE, "the load test's accounts are made only in a demo database"

PASSWORD = make_password("demo")


def account(username: str, units: list[Unit], role: str) -> dict:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"first_name": "Last", "last_name": username, "email": f"{username}@demo.example"},
    )
    user.password = PASSWORD
    user.save(update_fields=["password"])
    for unit in units:
        Membership.objects.get_or_create(user=user, unit=unit, defaults={"role": role})
    return {
        "username": username,
        "units": [
            {
                "id": unit.pk,
                "profiles": list(ordering_profiles(unit).values_list("pk", flat=True)),
            }
            for unit in units
        ],
    }


def ordering_profiles(unit: Unit):
    """The positions the unit's order form offers that require a certificate."""
    return profiles_for(unit).filter(requirements__level="required").distinct()


units = [unit for unit in Unit.objects.order_by("pk") if ordering_profiles(unit).exists()]
managers = [account(f"leder.last{n}", [unit], "manager") for n, unit in enumerate(units)]
secretaries = [
    account(f"sekretaer.last{n}", [units[2 * n], units[2 * n + 1]], "secretary")
    for n in range(len(units) // 2)
]
with open(os.environ["LOAD_ACCOUNTS"], "w") as out:
    json.dump({"managers": managers, "secretaries": secretaries, "payroll": ["loen"]}, out)
print(f"{len(managers)} managers, {len(secretaries)} secretaries")
