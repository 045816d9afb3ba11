from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import map_demo_groups


class Command(BaseCommand):
    help = "Map the local test provider's demo groups to demo units and roles (demo only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Only in demo mode (DEMO_MODE=true).")
        map_demo_groups()
        self.stdout.write("Demo group mappings ready.")
