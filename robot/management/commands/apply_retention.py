from django.core.management.base import BaseCommand

from robot.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Apply the retention periods: delete certificate files the portal no longer needs, "
        "anonymise old orders, delete old access-log rows and empty old e-mails about new "
        "hires. Nothing in the case system is touched. With --dry-run, only count what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted or anonymised; change nothing.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        report = apply_retention(dry_run=dry_run)
        # Counts only: the output may end up in a log, which must never hold personal data.
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        done = "to delete" if dry_run else "deleted"
        anonymised = "to anonymise" if dry_run else "anonymised"
        self.stdout.write(f"Certificate files {done}: {report.files_deleted}")
        self.stdout.write(f"Orders {anonymised}: {report.orders_anonymised}")
        self.stdout.write(f"Persons {anonymised}: {report.persons_anonymised}")
        self.stdout.write(f"Access-log rows {done}: {report.access_log_deleted}")
        emptied = "to empty" if dry_run else "emptied"
        self.stdout.write(f"E-mails about new hires {emptied}: {report.hire_emails_emptied}")
