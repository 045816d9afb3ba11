"""Where the organisation comes from, behind one small interface: `read()` gives the
unit rows and (when the source has them) the manager rows, or raises OrgImportError
with a message fit for the user. portal/org_import.py plans and applies what they read.

- FileSource: a CSV/XLSX uploaded by an administrator or given to the command;
- DropFolderSource: the newest CSV/XLSX dropped in ORG_DROP_FOLDER (the embedded
  default for the scheduled import); taken files move to behandlet/ or fejlet/;
- SDOrgSource: SD Løn's GetOrganization20111201 (the tree) and GetDepartment20111201
  (names), for the scheduled import.
"""

import datetime
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from . import org_import
from .cpr import redact_cprs
from .org_import import ManagerRow, OrgImportError, UnitRow
from .sd import SDClient, SDError, children, local, sd_date, text
from .tabular import TableError, check_file_size

logger = logging.getLogger(__name__)


class OrgSource(Protocol):
    label: str

    def read(self) -> tuple[list[UnitRow], list[ManagerRow] | None]: ...


@dataclass
class FileSource:
    """Units (and managers, on the XLSX's second sheet or in a file of their own)."""

    units: tuple[str, bytes]
    managers: tuple[str, bytes] | None = None
    label: str = "file"

    def read(self) -> tuple[list[UnitRow], list[ManagerRow] | None]:
        name, data = self.units
        try:
            units = org_import.read_units(data, name)
            managers = None
            if self.managers is not None:
                managers = org_import.read_managers(self.managers[1], self.managers[0])
            elif name.lower().endswith(".xlsx"):
                managers = org_import.read_managers(data, name, sheet=1) or None
        except TableError as error:
            raise OrgImportError(str(error)) from None
        return units, managers


class DropFolderSource:
    """The newest CSV/XLSX in a folder; a file whose name starts with "ledere" or
    "managers" beside it holds the managers."""

    label = "folder"
    MANAGER_PREFIXES = ("ledere", "managers")

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.taken: list[Path] = []

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(
            (
                p
                for p in self.folder.iterdir()
                if p.is_file() and p.suffix.lower() in (".csv", ".xlsx")
            ),
            key=lambda p: (p.stat().st_mtime, p.name),
        )

    def has_file(self) -> bool:
        return any(not p.name.lower().startswith(self.MANAGER_PREFIXES) for p in self._files())

    def read(self) -> tuple[list[UnitRow], list[ManagerRow] | None]:
        files = self._files()
        units = [p for p in files if not p.name.lower().startswith(self.MANAGER_PREFIXES)]
        managers = [p for p in files if p.name.lower().startswith(self.MANAGER_PREFIXES)]
        if not units:
            raise OrgImportError(_("The folder holds no file of units."))
        # Older files are superseded by the newest: they are set aside unread.
        self.taken = [*units, *managers]
        unit_file, manager_file = units[-1], (managers[-1] if managers else None)
        return FileSource(
            units=(unit_file.name, self._read_bytes(unit_file)),
            managers=(manager_file.name, self._read_bytes(manager_file)) if manager_file else None,
        ).read()

    @staticmethod
    def _read_bytes(path: Path) -> bytes:
        # Its size first: a file too large is refused without being read into memory.
        try:
            check_file_size(path.stat().st_size)
            return path.read_bytes()
        except TableError as error:
            raise OrgImportError(str(error)) from None
        except OSError:
            raise OrgImportError(_("The file could not be read from the folder.")) from None

    def done(self, *, applied: bool) -> None:
        """Move the files taken to behandlet/ (applied) or fejlet/ (not applied), with any
        CPR number in a file's name masked: the folders keep them longer than a day."""
        target = self.folder / ("behandlet" if applied else "fejlet")
        target.mkdir(exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        for path in self.taken:
            try:
                shutil.move(str(path), target / f"{stamp}-{redact_cprs(path.name)}")
            except FileNotFoundError:
                pass  # taken by a run beside this one
        self.taken = []


class SDOrgSource:
    """SD Løn's tree of departments as units. SD lists each department with its
    parents nested inside it (GetOrganization20111201) and names them in
    GetDepartment20111201. A unit's area is the name of its ancestor at SD_AREA_LEVEL
    (e.g. "NY3-niveau"), or its topmost ancestor when that is empty; departments at or
    above that level are not units. No managers: SD does not say who they are."""

    label = "sd"

    def __init__(self, client: SDClient, *, area_level: str = "", today=None):
        self.client = client
        self.area_level = area_level
        self.today = today or timezone.localdate()

    @classmethod
    def from_settings(cls) -> "SDOrgSource":
        return cls(SDClient.from_settings(), area_level=settings.SD_AREA_LEVEL)

    def read(self) -> tuple[list[UnitRow], list[ManagerRow] | None]:
        day = sd_date(self.today)
        try:
            tree = self.client.call(
                "GetOrganization20111201",
                {"ActivationDate": day, "DeactivationDate": day, "UUIDIndicator": "false"},
            )
            departments = self.client.call(
                "GetDepartment20111201",
                {
                    "ActivationDate": day,
                    "DeactivationDate": day,
                    "DepartmentNameIndicator": "true",
                    "ContactInformationIndicator": "false",
                    "PostalAddressIndicator": "false",
                    "ProductionUnitIndicator": "false",
                    "EmploymentDepartmentIndicator": "false",
                    "UUIDIndicator": "false",
                },
            )
        except SDError as error:
            raise OrgImportError(str(error)) from None
        return self.units_from(tree, departments), None

    def units_from(self, tree, departments) -> list[UnitRow]:
        parents: dict[str, str] = {}
        levels: dict[str, str] = {}
        for ref in tree.iter():
            if local(ref.tag) != "DepartmentReference":
                continue
            dep_id = text(ref, "DepartmentIdentifier")
            levels[dep_id] = text(ref, "DepartmentLevelIdentifier")
            for parent in children(ref, "DepartmentReference"):
                parents[dep_id] = text(parent, "DepartmentIdentifier")
        names: dict[str, str] = {}
        order: list[str] = []
        for department in departments.iter():
            if local(department.tag) != "Department":
                continue
            dep_id = text(department, "DepartmentIdentifier")
            if not self._valid(department):
                continue
            if dep_id not in names:
                order.append(dep_id)
            names[dep_id] = text(department, "DepartmentName")
            levels.setdefault(dep_id, text(department, "DepartmentLevelIdentifier"))
        if self.area_level:
            area_ids = {d for d, level in levels.items() if level == self.area_level}
        else:
            area_ids = {d for d in levels if d not in parents}  # the tops of the tree
        above = {a for area_id in area_ids for a in self._ancestors(area_id, parents)}
        rows = []
        for number, dep_id in enumerate(order, start=1):
            if dep_id in area_ids or dep_id in above:
                continue  # an area, or above the areas: not a unit
            chain = self._ancestors(dep_id, parents)
            area_id = next((a for a in chain if a in area_ids), "")
            parent = parents.get(dep_id, "")
            rows.append(
                UnitRow(
                    row=number,
                    external_id=dep_id,
                    name=names[dep_id],
                    parent="" if parent == area_id else parent,
                    # No area above it: the plan lists the row as one without a known area.
                    area=names.get(area_id, area_id),
                )
            )
        return rows

    def _valid(self, department) -> bool:
        try:
            start = datetime.date.fromisoformat(text(department, "ActivationDate") or "0001-01-01")
            end = datetime.date.fromisoformat(text(department, "DeactivationDate") or "9999-12-31")
        except ValueError:
            return True  # let the plan judge it by its name and place
        return start <= self.today <= end

    @staticmethod
    def _ancestors(dep_id: str, parents: dict[str, str]) -> list[str]:
        chain, current = [], parents.get(dep_id)
        while current and current not in chain and current != dep_id:
            chain.append(current)
            current = parents.get(current)
        return chain


def scheduled_source() -> OrgSource | None:
    """What the scheduled import reads (ORG_IMPORT_SOURCE): the drop folder by default,
    SD Løn, or nothing."""
    kind = settings.ORG_IMPORT_SOURCE
    if kind == "sd" and settings.SD_URL:
        return SDOrgSource.from_settings()
    if kind == "folder" and settings.ORG_DROP_FOLDER:
        source = DropFolderSource(settings.ORG_DROP_FOLDER)
        return source if source.has_file() else None
    return None
