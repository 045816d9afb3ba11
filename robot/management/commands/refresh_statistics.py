from django.core.management.base import BaseCommand

from robot.statistics import summary


class Command(BaseCommand):
    help = "Bring the statistics' summary up to date (--all: summarise everything again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Summarise every order line and document again, e.g. after changing TIME_ZONE.",
        )

    def handle(self, *args, all=False, **options):
        if all:
            summary.mark_all_stale()
        done = summary.refresh()
        self.stdout.write(f"{done} summarised")
