"""Planning an import (the dry run): each HireRecord checked against the portal's units
and compared with the hires we know, changing nothing.
"""

import datetime
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from portal.cpr import InvalidCpr, hash_cpr, normalise_cpr
from portal.models import Unit
from portal.tabular import has_control_chars, shown

from ..models import Hire, JobCode
from .sources import HireRecord

# Hires nobody has decided on yet: their job code's mapping decides what they need.
UNDECIDED = (Hire.Status.UNMAPPED, Hire.Status.AWAITING_ORDER, Hire.Status.NONE_REQUIRED)


@dataclass
class PlannedHire:
    row: int
    key: str
    full_name: str
    cpr: str = field(repr=False)
    unit_id: int
    start_date: datetime.date
    job_code: str
    withdrawn: bool


@dataclass
class HirePlan:
    new: list[PlannedHire] = field(default_factory=list)
    changed: list[PlannedHire] = field(default_factory=list)
    withdrawn: list[PlannedHire] = field(default_factory=list)
    unchanged: int = 0
    # Withdrawn rows of hires already withdrawn, or never seen: nothing to apply, but
    # payroll counts them as withdrawn, not as unchanged.
    withdrawn_already: int = 0
    # Of `changed`: hires the same as before but whose job code was mapped since.
    remapped: int = 0
    duplicates: int = 0
    # Hires whose job code no position is mapped to, by (area name, code): nobody is
    # prompted for them until an administrator maps the code.
    unmapped: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # The records behind the errors, with the bare reason (a poll keeps them to retry).
    rejected: list[tuple[HireRecord, str]] = field(default_factory=list, repr=False)

    def summary(self, units: dict[int, str]) -> dict:
        """What the dry run shows: counts, names (never CPR numbers) and the bad rows."""

        def names(items):
            return [
                {
                    "row": p.row,
                    "name": p.full_name,
                    "unit": units.get(p.unit_id, ""),
                    "start_date": p.start_date.isoformat(),
                }
                for p in items[:200]
            ]

        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "remapped": self.remapped,
            "withdrawn": len(self.withdrawn) + self.withdrawn_already,
            "unchanged": self.unchanged,
            "unmapped": [
                {"area": area, "code": code, "count": len(hire_names), "names": hire_names[:50]}
                for (area, code), hire_names in sorted(self.unmapped.items())
            ],
            "unmapped_total": sum(len(hire_names) for hire_names in self.unmapped.values()),
            "duplicates": self.duplicates,
            "new_hires": names(self.new),
            "changed_hires": names(self.changed),
            "withdrawn_hires": names(self.withdrawn),
            "errors": [{"row": row, "message": message} for row, message in self.errors],
        }


def _clean_name(value: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", value or "").split())
    if not name:
        raise ValueError(_("The name is missing."))
    if (
        any(unicodedata.category(ch).startswith("C") for ch in name)
        or any(ch.isdigit() for ch in name)
        or name[:1] in ("=", "+", "-", "@")
    ):
        raise ValueError(_("The name contains characters a name cannot have."))
    return name[:200]


# "emp:" and the id must fit Hire.source_key (200) and UnreadHire.employment_id (100).
MAX_EMPLOYMENT_ID = 100
MAX_JOB_CODE = 40  # JobCode.code, Hire.job_code


def _check_code(value: str, what: str, limit: int) -> None:
    """An id is stored and used as a key: too long or with control characters (a NUL
    cannot even be stored), it is a bad row, not a database error for the whole import."""
    if len(value) > limit:
        raise ValueError(
            _("The %(field)s is longer than %(limit)s characters.")
            % {"field": what, "limit": limit}
        )
    if has_control_chars(value):
        raise ValueError(
            _("The %(field)s contains control characters (such as NUL).") % {"field": what}
        )


def _parse_date(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("The start date is not a date (use dd.mm.yyyy)."))


def _source_key(*, employment_id: str, cpr_hash: str, start_date: datetime.date) -> str:
    if employment_id:
        return f"emp:{employment_id}"
    return f"cpr:{cpr_hash}:{start_date.isoformat()}"


@sensitive_variables("cpr")
def plan_hire_import(records: list[HireRecord]) -> HirePlan:
    """Compare the records with the hires we know; change nothing. A fixed number of
    queries whatever the number of rows."""
    plan = HirePlan()
    units = _unit_lookup()
    planned: dict[str, PlannedHire] = {}
    for record in records:
        problems, name, cpr, start_date = [], "", "", None
        # Every problem of the row at once: payroll corrects the file in one go.
        try:
            name = _clean_name(record.full_name)
        except ValueError as error:
            problems.append(str(error))
        try:
            cpr = normalise_cpr(record.cpr)
        except InvalidCpr:
            problems.append(_("The CPR number is not valid."))
        unit = units.get(record.unit.strip().lower()) if record.unit else None
        if unit is None:
            # Quoted without any CPR number: a shifted column may put one here, and
            # the message is kept in the import's summary.
            problems.append(
                _("The unit “%(unit)s” is not known or is closed.") % {"unit": shown(record.unit)}
            )
        try:
            start_date = _parse_date(record.start_date)
        except ValueError as error:
            problems.append(str(error))
        try:
            _check_code(record.employment_id, _("employment id"), MAX_EMPLOYMENT_ID)
        except ValueError as error:
            problems.append(str(error))
        try:
            if not record.job_code:
                raise ValueError(_("The job code is missing."))
            _check_code(str(record.job_code), _("job code"), MAX_JOB_CODE)
        except ValueError as error:
            problems.append(str(error))
        if problems:
            reason = " ".join(problems)
            plan.errors.append(
                (record.row, _("Row %(row)s: %(error)s") % {"row": record.row, "error": reason})
            )
            plan.rejected.append((record, reason))
            continue
        key = _source_key(
            employment_id=record.employment_id, cpr_hash=hash_cpr(cpr), start_date=start_date
        )
        if key in planned:
            plan.duplicates += 1  # the same hire twice in one delivery is one hire
        planned[key] = PlannedHire(
            row=record.row,
            key=key,
            full_name=name,
            cpr=cpr,
            unit_id=unit.pk,
            start_date=start_date,
            job_code=str(record.job_code),
            withdrawn=record.withdrawn,
        )
    existing = {h.source_key: h for h in Hire.objects.filter(source_key__in=list(planned))}
    areas = {unit.pk: unit.area for unit in units.values()}
    mapping = dict(
        ((area_id, code), profile_id)
        for area_id, code, profile_id in JobCode.objects.filter(
            code__in={item.job_code for item in planned.values()}
        ).values_list("area_id", "code", "profile_id")
    )
    for key, item in planned.items():
        hire = existing.get(key)
        mapped = (areas[item.unit_id].pk, item.job_code) in mapping
        if hire is None:
            if not item.withdrawn:
                plan.new.append(item)
            else:
                plan.withdrawn_already += 1  # withdrawn before we ever saw it
        elif item.withdrawn:
            if hire.status == Hire.Status.WITHDRAWN:
                plan.withdrawn_already += 1
            else:
                plan.withdrawn.append(item)
        elif (hire.full_name, hire.unit_id, hire.start_date, hire.job_code) != (
            item.full_name,
            item.unit_id,
            item.start_date,
            item.job_code,
        ) or hire.status == Hire.Status.WITHDRAWN:
            plan.changed.append(item)
        elif _mapping_changed(
            hire, mapped=mapped, profile_id=mapping.get((areas[item.unit_id].pk, item.job_code))
        ):
            # The same row again after an administrator mapped its job code: looked at
            # again now rather than at the next hourly run.
            plan.changed.append(item)
            plan.remapped += 1
        else:
            plan.unchanged += 1
        if not item.withdrawn and not mapped and (hire is None or hire.status in UNDECIDED):
            area = areas[item.unit_id]
            plan.unmapped.setdefault((area.name, item.job_code), []).append(item.full_name)
    return plan


def _mapping_changed(hire: Hire, *, mapped: bool, profile_id: int | None) -> bool:
    """A hire without a decision whose job code now maps to another position than the one
    it was evaluated with (or to one at all)."""
    if hire.status not in UNDECIDED or hire.renewal_due_since is not None:
        return False
    if not mapped:
        return hire.status != Hire.Status.UNMAPPED
    return hire.status == Hire.Status.UNMAPPED or hire.profile_id != profile_id


def _unit_lookup() -> dict[str, Unit]:
    """Open units by HR id and by name (lower case); the HR id wins."""
    lookup = {}
    units = list(Unit.objects.filter(is_active=True).select_related("area"))
    for unit in units:
        lookup.setdefault(unit.name.lower(), unit)
    for unit in units:
        if unit.external_id:
            lookup[unit.external_id.lower()] = unit
    return lookup


def unit_names(plan: HirePlan) -> dict[int, str]:
    """The names of the units a plan touches, for its summary."""
    ids = {p.unit_id for p in plan.new + plan.changed + plan.withdrawn}
    return dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))


def shown_summary(summary: dict) -> dict:
    """A summary for its page: the start dates (stored as ISO text in JSON) as dates, so
    the page shows them the Danish way."""
    shown_lists = {}
    for name in ("new_hires", "changed_hires", "withdrawn_hires"):
        shown_lists[name] = [
            {**item, "start_date": _iso_date(item.get("start_date"))}
            for item in summary.get(name, [])
        ]
    return {**summary, **shown_lists}


def _iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
