from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.models import GroupMapping, Membership, Unit

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


class Command(BaseCommand):
    help = "Map the local test provider's demo groups to demo units and roles (demo only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Only in demo mode (DEMO_MODE=true).")
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
            # The demo has no second administrator to approve these.
            defaults={"label": "Løn og Personale", "approved": True},
        )
        GroupMapping.objects.get_or_create(
            group_id="demo-administratorer",
            grants="administrator",
            unit=None,
            defaults={"label": "Administratorer", "approved": True},
        )
        self.stdout.write("Demo group mappings ready.")
