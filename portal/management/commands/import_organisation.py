"""Import units and managers from the HR system's export: a dry run unless --apply."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import org_import
from portal.org_sources import SDOrgSource
from portal.tabular import TableError


class Command(BaseCommand):
    help = "Import units (id, name, parent, area) and managers from CSV/XLSX. Dry run by default."

    def add_arguments(self, parser):
        parser.add_argument(
            "units",
            nargs="?",
            help="CSV or XLSX of units; an XLSX may hold managers on its second sheet",
        )
        parser.add_argument(
            "--from-sd",
            action="store_true",
            help="read the units from SD Løn's web service (SD_* settings) instead of a file",
        )
        parser.add_argument("--managers", help="CSV or XLSX of managers (unit id, user, role)")
        parser.add_argument("--apply", action="store_true", help="apply the changes")

    def handle(self, *args, units=None, managers=None, apply=False, from_sd=False, **options):
        if from_sd:
            source = SDOrgSource.from_settings()
            try:
                unit_rows, manager_rows = source.read()
            except org_import.OrgImportError as error:
                raise CommandError(str(error)) from None
            return self._plan(unit_rows, manager_rows, apply=apply, source=source.label)
        if not units:
            raise CommandError("Give a file of units, or --from-sd.")
        path = Path(units)
        try:
            unit_rows = org_import.read_units(path.read_bytes(), path.name)
            manager_rows = None
            if managers:
                manager_path = Path(managers)
                manager_rows = org_import.read_managers(
                    manager_path.read_bytes(), manager_path.name
                )
            elif path.suffix.lower() == ".xlsx":
                manager_rows = (
                    org_import.read_managers(path.read_bytes(), path.name, sheet=1) or None
                )
        except (TableError, org_import.OrgImportError, OSError) as error:
            raise CommandError(str(error)) from None
        return self._plan(unit_rows, manager_rows, apply=apply, source="file")

    def _plan(self, unit_rows, manager_rows, *, apply: bool, source: str) -> None:
        plan = org_import.plan_org_import(unit_rows, manager_rows)
        summary = plan.summary()
        for key in (
            "new",
            "renamed",
            "moved",
            "closed",
            "reopened",
            "managers_added",
            "managers_removed",
        ):
            for item in summary[key]:
                self.stdout.write(f"{key}: {item}")
        for error in summary["errors"]:
            self.stdout.write(error["message"])
        if plan.errors:
            raise CommandError(f"{len(plan.errors)} rows with errors; nothing was changed.")
        if apply:
            org_import.apply_org_import(plan, source=source)
            self.stdout.write("Applied.")
        else:
            self.stdout.write("Dry run: nothing was changed (use --apply).")
