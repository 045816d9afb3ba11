"""The organisation from the HR system: units (HR id, name, parent, area) and their
managers, read from a CSV or XLSX export. Every import is planned first (the dry run:
new, renamed, moved, closed units; managers added and removed) and applied whole or not
at all. A unit that leaves the source is closed, never deleted: its orders keep their
history. Units made by hand (no HR id) and memberships from single sign-on are left alone.
"""

import datetime
import logging
from dataclasses import dataclass, field

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Area, Membership, OrgImport, Unit, User
from .outbox import queue_email
from .tabular import has_control_chars, read_table, shown

logger = logging.getLogger(__name__)

# The first name of each is the one the import page and its messages show.
UNIT_COLUMNS = {
    "external_id": ("enheds-id", "id", "enhedsid", "enhed id", "unit id"),
    "name": ("navn", "name", "enhedsnavn"),
    "parent": ("overordnet", "overordnet id", "parent", "parent id"),
    "area": ("forvaltning", "område", "area"),
}
MANAGER_COLUMNS = {
    "unit": ("enheds-id", "enhedsid", "enhed", "enhed id", "unit id", "unit", "id"),
    "username": ("bruger", "brugernavn", "brugerid", "user", "username"),
    "role": ("rolle", "role"),
}
# What each column holds, in the words of the import page and its messages.
COLUMN_LABELS = {
    "external_id": gettext_lazy("the unit's id in the HR system"),
    "name": gettext_lazy("the unit's name"),
    "parent": gettext_lazy("the id of the unit above it (empty at the top)"),
    "area": gettext_lazy("the area (forvaltning), as it is named in the portal"),
    "unit": gettext_lazy("the unit's id in the HR system"),
    "username": gettext_lazy("the user name in the portal"),
    "role": gettext_lazy("leder or sekretær (empty: leder)"),
}
OPTIONAL_COLUMNS = ("parent", "role")
ROLES = {
    "leder": Membership.Role.MANAGER,
    "manager": Membership.Role.MANAGER,
    "sekretær": Membership.Role.SECRETARY,
    "sekretaer": Membership.Role.SECRETARY,
    "secretary": Membership.Role.SECRETARY,
    "": Membership.Role.MANAGER,
}


# Names are freed for the length of the transaction, so two units may swap names.
TEMP_PREFIX = "~import~"


class OrgImportError(Exception):
    """The import cannot be read or applied; the message is fit for the user."""


@dataclass
class UnitRow:
    row: int
    external_id: str
    name: str
    parent: str
    area: str
    file: str = ""  # the file's name, for messages; "" when read from SD Løn


@dataclass
class ManagerRow:
    row: int
    unit: str
    username: str
    role: str
    file: str = ""


def columns_shown() -> dict[str, list[tuple[str, str, tuple[str, ...], bool]]]:
    """The columns as the import page lists them: name, what it holds, the other names
    accepted, and whether it is required."""
    return {
        which: [
            (aliases[0], COLUMN_LABELS[key], aliases[1:], key not in OPTIONAL_COLUMNS)
            for key, aliases in columns.items()
        ]
        for which, columns in (("units", UNIT_COLUMNS), ("managers", MANAGER_COLUMNS))
    }


def _columns(table, wanted: dict[str, tuple[str, ...]], filename: str) -> dict[str, str]:
    headers = {h.strip().lower(): h for h in (table[0][1] if table else {})}
    found = {}
    for key, aliases in wanted.items():
        match = next((headers[a] for a in aliases if a in headers), None)
        if match is None and key not in OPTIONAL_COLUMNS:
            raise OrgImportError(
                _("%(file)s has no column “%(name)s” (%(what)s).")
                % {"file": shown(filename), "name": aliases[0], "what": COLUMN_LABELS[key]}
            )
        found[key] = match
    return found


def _cell(row: dict, column: str | None) -> str:
    value = row.get(column) if column else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def read_units(data: bytes, filename: str) -> list[UnitRow]:
    table = read_table(data, filename)
    if not table:
        return []
    cols = _columns(table, UNIT_COLUMNS, filename)
    return [
        UnitRow(row=n, file=filename, **{k: _cell(r, c) for k, c in cols.items()}) for n, r in table
    ]


def read_managers(data: bytes, filename: str, *, sheet: int = 0) -> list[ManagerRow]:
    table = read_table(data, filename, sheet=sheet)
    if not table:
        return []
    cols = _columns(table, MANAGER_COLUMNS, filename)
    return [
        ManagerRow(row=n, file=filename, **{k: _cell(r, c) for k, c in cols.items()})
        for n, r in table
    ]


@dataclass
class OrgPlan:
    units: list[UnitRow] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    managers: list[ManagerRow] | None = None
    managers_added: list[tuple[str, str, str]] = field(default_factory=list)
    managers_removed: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Unit names by HR id, for showing managers by unit name rather than by id.
    unit_names: dict[str, str] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return any(
            [
                self.new,
                self.renamed,
                self.moved,
                self.closed,
                self.reopened,
                self.managers_added,
                self.managers_removed,
            ]
        )

    @property
    def managers_added_shown(self) -> list[tuple[str, str, str]]:
        return self._shown(self.managers_added)

    @property
    def managers_removed_shown(self) -> list[tuple[str, str, str]]:
        return self._shown(self.managers_removed)

    def _shown(self, memberships) -> list[tuple[str, str, str]]:
        """(user name, unit name, role) in the reader's words: a unit's name, "Leder"."""
        return [
            (username, self.unit_names.get(unit_id, unit_id), Membership.Role(role).label)
            for unit_id, username, role in memberships
        ]

    def summary(self) -> dict:
        return {
            "new": self.new,
            "renamed": self.renamed,
            "moved": self.moved,
            "closed": self.closed,
            "reopened": self.reopened,
            "managers_added": self.managers_added,
            "managers_removed": self.managers_removed,
            "errors": [{"row": r, "message": m} for r, m in self.errors],
        }


def _error(plan: OrgPlan, item: UnitRow | ManagerRow, message: str) -> None:
    # Two files may be uploaded (units and managers): the row alone does not say which.
    if item.file:
        text = _("%(file)s, row %(row)s: %(error)s") % {
            "file": shown(item.file),
            "row": item.row,
            "error": message,
        }
    else:
        text = _("Row %(row)s: %(error)s") % {"row": item.row, "error": message}
    plan.errors.append((item.row, text))


def plan_org_import(units: list[UnitRow], managers: list[ManagerRow] | None = None) -> OrgPlan:
    """Compare the source with the portal's organisation; change nothing."""
    plan = OrgPlan(managers=managers)
    areas = {a.name.lower(): a for a in Area.objects.all()}
    existing = {
        u.external_id: u
        for u in Unit.objects.filter(external_id__isnull=False).select_related("area", "parent")
    }
    by_name = {
        (u.area_id, u.name.lower()): u for u in Unit.objects.filter(external_id__isnull=True)
    }
    rows: dict[str, UnitRow] = {}
    for item in units:
        if not item.external_id or not item.name:
            _error(plan, item, _("The unit's id and name are required."))
        elif bad := _bad_unit_value(item):
            _error(plan, item, bad)
        elif item.external_id in rows:
            _error(
                plan,
                item,
                _("The id %(id)s appears more than once (first in row %(first)s).")
                % {"id": shown(item.external_id), "first": rows[item.external_id].row},
            )
        elif item.area.lower() not in areas:
            _error(plan, item, _("The area “%(area)s” is not known.") % {"area": shown(item.area)})
        else:
            rows[item.external_id] = item
    for item in list(rows.values()):
        if item.parent and item.parent not in rows:
            _error(
                plan,
                item,
                _("The parent unit %(id)s is not in the file.") % {"id": shown(item.parent)},
            )
            del rows[item.external_id]
    in_cycle = set()
    for item in rows.values():
        seen, current = [], item.external_id
        while current and current in rows and current not in seen:
            seen.append(current)
            current = rows[current].parent
        if current and current in seen:
            in_cycle |= set(seen[seen.index(current) :])
    for external_id in sorted(in_cycle, key=lambda e: rows[e].row):
        _error(
            plan,
            rows[external_id],
            _("The unit %(id)s is its own parent through a cycle of parents.")
            % {"id": shown(external_id)},
        )
    names_in_area: dict[tuple[int, str], int] = {}
    for item in rows.values():
        key = (areas[item.area.lower()].pk, item.name.lower())
        if key in names_in_area:
            _error(
                plan,
                item,
                _("Another unit in the area has the name “%(name)s” (row %(first)s).")
                % {"name": shown(item.name), "first": names_in_area[key]},
            )
        names_in_area[key] = item.row
    if plan.errors:
        return plan
    plan.units = list(rows.values())
    plan.unit_names = {e: u.name for e, u in existing.items()} | {
        item.external_id: item.name for item in plan.units
    }
    matched: dict[str, Unit] = {}
    for item in plan.units:
        unit = existing.get(item.external_id) or by_name.get(
            (areas[item.area.lower()].pk, item.name.lower())
        )
        if unit is None:
            plan.new.append(item.name)
            continue
        matched[item.external_id] = unit
        if unit.name != item.name:
            plan.renamed.append((item.external_id, unit.name, item.name))
        parent_id = unit.parent.external_id if unit.parent else ""
        if parent_id != item.parent or unit.area.name.lower() != item.area.lower():
            parent = rows[item.parent].name if item.parent else "–"
            plan.moved.append((item.name, f"{item.area} / {parent}"))
        if not unit.is_active:
            plan.reopened.append(item.name)
    plan.closed = sorted(u.name for e, u in existing.items() if e not in rows and u.is_active)
    if managers is not None:
        _plan_managers(plan, managers, rows, matched)
    return plan


def _bad_unit_value(item: UnitRow) -> str:
    """Why a row's values cannot be stored (too long for the column, or characters no
    name or id has: a NUL cannot even be stored), or ""."""
    lengths = {
        "external_id": Unit._meta.get_field("external_id").max_length,
        "parent": Unit._meta.get_field("external_id").max_length,
        "name": Unit._meta.get_field("name").max_length,
        "area": Area._meta.get_field("name").max_length,
    }
    for name, limit in lengths.items():
        value = getattr(item, name)
        if len(value) > limit:
            return _("The %(field)s is longer than %(limit)s characters.") % {
                "field": _field_name(name),
                "limit": limit,
            }
        if has_control_chars(value):
            return _("The %(field)s contains control characters (such as NUL).") % {
                "field": _field_name(name)
            }
    return ""


def _field_name(name: str) -> str:
    return {
        "external_id": _("unit id"),
        "parent": _("parent unit id"),
        "name": _("unit name"),
        "area": _("area name"),
    }[name]


def _plan_managers(
    plan: OrgPlan, managers: list[ManagerRow], rows: dict, matched: dict[str, Unit]
) -> None:
    users = {u.username.lower(): u for u in User.objects.filter(is_active=True)}
    wanted = set()
    for item in managers:
        role = ROLES.get(item.role.lower())
        if item.unit not in rows:
            _error(plan, item, _("The unit %(id)s is not in the file.") % {"id": shown(item.unit)})
        elif item.username.lower() not in users:
            _error(
                plan,
                item,
                _("The user “%(user)s” is not known.") % {"user": shown(item.username)},
            )
        elif role is None:
            _error(plan, item, _("The role “%(role)s” is not known.") % {"role": shown(item.role)})
        else:
            wanted.add((item.unit, users[item.username.lower()].username, role))
    current = set(_managed_memberships().values_list("unit__external_id", "user__username", "role"))
    # Every membership the units in the file already have, whatever made it: a unit made
    # by hand that the import takes over keeps its people, and single sign-on's are its
    # own. Neither is news to the administrator, so neither is listed as added.
    external_ids = {unit.pk: external_id for external_id, unit in matched.items()}
    present, from_sso = set(), set()
    for unit_id, username, role, source in Membership.objects.filter(
        unit_id__in=external_ids
    ).values_list("unit_id", "user__username", "role", "source"):
        present.add((external_ids[unit_id], username, role))
        if source != Membership.Source.MANUAL:
            from_sso.add((external_ids[unit_id], username))
    plan.managers_added = sorted(
        (unit, username, role)
        for unit, username, role in wanted - present
        if (unit, username) not in from_sso
    )
    plan.managers_removed = sorted(current - wanted)


def _managed_memberships():
    """Memberships of units from the HR system; those from single sign-on are its own."""
    memberships = Membership.objects.filter(unit__external_id__isnull=False)
    if hasattr(Membership, "Source"):
        memberships = memberships.filter(source=Membership.Source.MANUAL)
    return memberships


@transaction.atomic
def apply_org_import(
    plan: OrgPlan,
    *,
    now: datetime.datetime | None = None,
    actor: User | None = None,
    source: str = OrgImport.Source.FILE,
) -> OrgImport:
    """Apply a plan without errors, all of it in one transaction, and record it: one
    OrgImport row (returned), and an audit-log entry per unit and membership it changed."""
    if plan.errors:
        raise OrgImportError(_("The file has rows with errors; nothing has been changed."))
    now = now or timezone.now()
    areas = {a.name.lower(): a for a in Area.objects.all()}
    units = {
        u.external_id: u for u in Unit.objects.select_for_update().filter(external_id__isnull=False)
    }
    by_name = {
        (u.area_id, u.name.lower()): u for u in Unit.objects.filter(external_id__isnull=True)
    }
    # Every unit the import may touch, as it was: a unit made by hand that the import
    # takes over is changed, not created.
    before = {u.pk: _audited(u) for u in [*units.values(), *by_name.values()]}
    # Free the names first, so that two units may swap names in one import.
    Unit.objects.filter(pk__in=[u.pk for u in units.values()]).update(
        name=Concat(Value(TEMP_PREFIX), F("external_id"))
    )
    new_units, existing_units = [], []
    for item in plan.units:
        area = areas[item.area.lower()]
        unit = units.get(item.external_id) or by_name.get((area.pk, item.name.lower()))
        if unit is None:
            unit = Unit(external_id=item.external_id)
            new_units.append(unit)
        else:
            existing_units.append(unit)
        unit.external_id, unit.area, unit.name = item.external_id, area, item.name
        unit.is_active, unit.closed_at = True, None
        units[item.external_id] = unit
    Unit.objects.bulk_update(
        existing_units, ["external_id", "area", "name", "is_active", "closed_at"], batch_size=500
    )
    Unit.objects.bulk_create(new_units, batch_size=500)
    for item in plan.units:
        units[item.external_id].parent = units[item.parent] if item.parent else None
    Unit.objects.bulk_update(
        [units[item.external_id] for item in plan.units], ["parent"], batch_size=500
    )
    source_ids = {item.external_id for item in plan.units}
    closing = [u for e, u in units.items() if e not in source_ids]
    # Back to the name each had before this import (still held in memory).
    Unit.objects.bulk_update(closing, ["name"], batch_size=500)
    Unit.objects.filter(pk__in=[u.pk for u in closing], is_active=True).update(
        is_active=False, closed_at=now
    )
    for unit in closing:
        unit.is_active = False
    if plan.managers is not None:
        users = {
            u.username: u
            for u in User.objects.filter(username__in={m[1] for m in plan.managers_added})
        }
        # Removed first: one person per unit, so a new role replaces the old one
        # (added first, the conflict would be skipped and then the old one deleted).
        # Written to the audit log below, with the source, like the ones added.
        with disable_auditlog():
            for unit_id, username, role in plan.managers_removed:
                _managed_memberships().filter(
                    unit__external_id=unit_id, user__username=username, role=role
                ).delete()
        Membership.objects.bulk_create(
            [
                Membership(unit=units[unit_id], user=users[username], role=role)
                for unit_id, username, role in plan.managers_added
            ],
            ignore_conflicts=True,
        )
    _audit(units.values(), before, plan, actor=actor, source=source, now=now)
    return OrgImport.objects.create(
        source=source,
        state=OrgImport.State.APPLIED if plan.has_changes else OrgImport.State.UNCHANGED,
        summary=plan.summary(),
        created_by=actor,
        created_at=now,
    )


# What auditlog itself writes for a value that was not there: its list shows both alike.
NO_VALUE = "None"


def _audited(unit: Unit) -> dict[str, str]:
    """A unit's audited fields as auditlog writes them (a foreign key as its id)."""
    return {
        "name": unit.name,
        "external_id": unit.external_id or NO_VALUE,
        "area": str(unit.area_id),
        "parent": str(unit.parent_id) if unit.parent_id else NO_VALUE,
        "is_active": str(unit.is_active),
    }


def _audit(units, before: dict, plan: OrgPlan, *, actor, source: str, now) -> None:
    """Bulk writes send no signals, so the audit log is written here: who (or which
    scheduled source), when, and each unit's fields that changed, before and after. A
    unit the import did not change is not in the log."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    unit_type = ContentType.objects.get_for_model(Unit)
    extra = {"source": source, "import": "organisation"}
    entries = []
    for unit in units:
        after = _audited(unit)
        old = before.get(unit.pk)
        changes = {
            field: [old[field] if old else NO_VALUE, value]
            for field, value in after.items()
            if old is None or old[field] != value
        }
        if changes:
            entries.append(
                LogEntry(
                    content_type=unit_type,
                    object_pk=str(unit.pk),
                    object_id=unit.pk,
                    object_repr=unit.name,
                    action=LogEntry.Action.CREATE if old is None else LogEntry.Action.UPDATE,
                    changes=changes,
                    changes_text="",
                    actor=actor,
                    timestamp=now,
                    additional_data=extra,
                )
            )
    if plan.managers is not None:
        # Access given and access taken away: both are in the log, by user and unit id.
        membership_type = ContentType.objects.get_for_model(Membership)
        for action, memberships in (
            (LogEntry.Action.CREATE, plan.managers_added),
            (LogEntry.Action.DELETE, plan.managers_removed),
        ):
            for unit_id, username, role in memberships:
                values = {"user": username, "unit": unit_id, "role": role}
                entries.append(
                    LogEntry(
                        content_type=membership_type,
                        object_pk="",
                        object_repr=f"{username} – {unit_id} ({role})",
                        action=action,
                        changes={
                            field: [NO_VALUE, value]
                            if action == LogEntry.Action.CREATE
                            else [value, NO_VALUE]
                            for field, value in values.items()
                        },
                        changes_text="",
                        actor=actor,
                        timestamp=now,
                        additional_data=extra,
                    )
                )
    LogEntry.objects.bulk_create(entries, batch_size=500)


def _changes_too_much(plan: OrgPlan) -> str:
    """A source that suddenly lacks most units or managers (an empty or cut-off answer,
    a truncated managers file) must not close the organisation or take everyone's
    access on its own: past ORG_IMPORT_MAX_CLOSE_PERCENT a person applies it, after
    looking, through the upload or the command."""
    limit = settings.ORG_IMPORT_MAX_CLOSE_PERCENT

    def too_many(changed: int, total: int) -> bool:
        return bool(changed) and total >= 10 and changed * 100 > total * limit

    open_units = Unit.objects.filter(external_id__isnull=False, is_active=True).count()
    if too_many(len(plan.closed), open_units):
        return _(
            "It would close %(closed)s of %(total)s units, more than %(limit)s%%; nothing "
            "has been changed. If it is right, apply it through the upload or the command."
        ) % {"closed": len(plan.closed), "total": open_units, "limit": limit}
    if plan.managers is not None:
        memberships = _managed_memberships().count()
        if too_many(len(plan.managers_removed), memberships):
            return _(
                "It would remove %(removed)s of %(total)s managers' and secretaries' access "
                "to their units, more than %(limit)s%%; nothing has been changed. If it is "
                "right, apply it through the upload or the command."
            ) % {"removed": len(plan.managers_removed), "total": memberships, "limit": limit}
    return ""


def run_import(source, *, by: User | None = None) -> OrgImport:
    """Read a source, plan and apply in one go (the scheduled import): whole or not at
    all, and recorded either way. A drop folder's files then move aside; a failure is
    e-mailed to the administrators."""
    try:
        record = _read_plan_apply(source, by=by)
    except OrgImportError as error:
        record = OrgImport.objects.create(
            source=source.label, state=OrgImport.State.FAILED, error=str(error), created_by=by
        )
    except Exception as error:  # noqa: BLE001  a scheduled run must end recorded, never crash
        # The type only: a database error may quote the value that broke it.
        logger.exception("Organisation import failed: %s", type(error).__name__)
        record = OrgImport.objects.create(
            source=source.label,
            state=OrgImport.State.FAILED,
            error=_("The import failed unexpectedly (%(error)s); nothing has been changed.")
            % {"error": type(error).__name__},
            created_by=by,
        )
    if hasattr(source, "done"):
        source.done(applied=record.state != OrgImport.State.FAILED)
    if record.state == OrgImport.State.FAILED:
        _tell_administrators(record)
    return record


def _read_plan_apply(source, *, by: User | None) -> OrgImport:
    units, managers = source.read()
    plan = plan_org_import(units, managers)
    too_much = _changes_too_much(plan)
    if too_much:
        return OrgImport.objects.create(
            source=source.label,
            state=OrgImport.State.FAILED,
            summary=plan.summary(),
            error=too_much,
            created_by=by,
        )
    if plan.errors:
        return OrgImport.objects.create(
            source=source.label,
            state=OrgImport.State.FAILED,
            summary=plan.summary(),
            error=_("%(count)s rows have errors; nothing has been changed.")
            % {"count": len(plan.errors)},
            created_by=by,
        )
    return apply_org_import(plan, actor=by, source=source.label)


def _tell_administrators(record: OrgImport) -> None:
    """One e-mail per failure, but not again while a source keeps failing for the same
    reason (SD Løn down all night would otherwise write every hour)."""
    previous = (
        OrgImport.objects.filter(source=record.source, created_at__lte=record.created_at)
        .exclude(pk=record.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    if (
        record.source == OrgImport.Source.SD
        and previous is not None
        and previous.state == OrgImport.State.FAILED
        and previous.error == record.error
    ):
        return
    addresses = (
        User.objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    queue_email(
        template="org_import_failed",
        key=f"org-import-{record.pk}",
        to=list(addresses),
        context={
            "source": record.get_source_display(),
            "error": record.error,
            "rows": len(record.summary.get("errors", [])),
            "url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("org_import"),
        },
    )
