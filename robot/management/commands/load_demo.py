"""`manage.py load_demo`: the whole demo, each app's part in turn (portal/demo.py,
orders/demo.py, robot/demo.py) through robot.demo.load_demo_data."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from robot.demo import load_demo_data


class Command(BaseCommand):
    help = "Create the demo municipality with users whose password is 'demo' (DEMO_MODE only)."

    def add_arguments(self, parser):
        parser.add_argument("--no-orders", action="store_true", help="Skip the sample orders.")
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the year of past orders behind the statistics page.",
        )

    def handle(self, *args, no_orders: bool = False, no_history: bool = False, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "Refusing to create users with a known password: set DEMO_MODE=true to load "
                "the demo data."
            )
        load_demo_data(with_orders=not no_orders, with_history=not no_history)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded. Log in as leder.skole, sekretaer.skole, leder.aeldre, loen, "
                "admin or admin2 (password: demo)."
            )
        )
