"""New hires from the HR system: plan an import (the dry run), apply it, prompt the
unit's managers to order, remind them, and tell payroll who would start without the
certificates their position requires.

Every change to a hire goes through a function here.
"""

import base64
import datetime
import json
import logging
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from portal.cpr import InvalidCpr, decrypt_cpr, encrypt_cpr, hash_cpr, normalise_cpr
from portal.models import Membership, Unit, User
from portal.tabular import has_control_chars, shown

from .hr_sources import HireRecord, SDLoenSource, SourceError, read_hire_file
from .models import (
    AccessLog,
    ChildContactRule,
    Hire,
    HireColumns,
    HireImport,
    JobCode,
    Notification,
    Order,
    OrderLine,
    Person,
    PositionProfile,
    ProfileRequirement,
    UnreadHire,
)
from .notifications import payroll_addresses, queue_email

logger = logging.getLogger(__name__)

# A hire in one of these has been dealt with by the manager: an import never undoes it.
DECIDED = (Hire.Status.ORDERED, Hire.Status.NOT_NEEDED)


class HireError(Exception):
    """A change to a hire or an import that is not allowed; the message is for the user."""


# --- Planning (the dry run) ---------------------------------------------------------


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
    duplicates: int = 0
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
            "withdrawn": len(self.withdrawn),
            "unchanged": self.unchanged,
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
        try:
            name = _clean_name(record.full_name)
            try:
                cpr = normalise_cpr(record.cpr)
            except InvalidCpr:
                raise ValueError(_("The CPR number is not valid.")) from None
            unit = units.get(record.unit.strip().lower()) if record.unit else None
            if unit is None:
                # Quoted without any CPR number: a shifted column may put one here, and
                # the message is kept in the import's summary.
                raise ValueError(
                    _("The unit “%(unit)s” is not known or is closed.")
                    % {"unit": shown(record.unit)}
                )
            start_date = _parse_date(record.start_date)
            _check_code(record.employment_id, _("employment id"), MAX_EMPLOYMENT_ID)
            if not record.job_code:
                raise ValueError(_("The job code is missing."))
            _check_code(str(record.job_code), _("job code"), MAX_JOB_CODE)
        except ValueError as error:
            plan.errors.append(
                (record.row, _("Row %(row)s: %(error)s") % {"row": record.row, "error": error})
            )
            plan.rejected.append((record, str(error)))
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
    for key, item in planned.items():
        hire = existing.get(key)
        if hire is None:
            if not item.withdrawn:
                plan.new.append(item)
            else:
                plan.unchanged += 1  # withdrawn before we ever saw it: nothing to do
        elif item.withdrawn:
            if hire.status == Hire.Status.WITHDRAWN:
                plan.unchanged += 1
            else:
                plan.withdrawn.append(item)
        elif (hire.full_name, hire.unit_id, hire.start_date, hire.job_code) != (
            item.full_name,
            item.unit_id,
            item.start_date,
            item.job_code,
        ) or hire.status == Hire.Status.WITHDRAWN:
            plan.changed.append(item)
        else:
            plan.unchanged += 1
    return plan


def _unit_lookup() -> dict[str, Unit]:
    """Open units by HR id and by name (lower case); the HR id wins."""
    lookup = {}
    units = list(Unit.objects.filter(is_active=True))
    for unit in units:
        lookup.setdefault(unit.name.lower(), unit)
    for unit in units:
        if unit.external_id:
            lookup[unit.external_id.lower()] = unit
    return lookup


# --- Imports: dry run, then apply ---------------------------------------------------


@sensitive_variables("records")
def _encrypt_records(records: list[HireRecord]) -> str:
    payload = json.dumps([{**vars(r), "start_date": str(r.start_date)} for r in records])
    return encrypt_cpr(base64.b64encode(payload.encode()).decode())


def _decrypt_records(token: str) -> list[HireRecord]:
    payload = base64.b64decode(decrypt_cpr(token)).decode()
    return [HireRecord(**item) for item in json.loads(payload)]


def _unit_names(plan: HirePlan) -> dict[int, str]:
    ids = {p.unit_id for p in plan.new + plan.changed + plan.withdrawn}
    return dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))


def start_file_import(*, data: bytes, filename: str, by: User) -> HireImport:
    """Read an uploaded new-hire report and record its dry run; nothing is applied."""
    columns = HireColumns.objects.first() or HireColumns()
    try:
        records = read_hire_file(data, filename, columns=columns)
    except SourceError as error:
        # On record with its reason, like a failed poll; the uploader sees it on the form.
        HireImport.objects.create(
            source=HireImport.Source.FILE,
            state=HireImport.State.FAILED,
            filename=_stored_filename(filename),
            error=str(error),
            created_by=by,
        )
        raise
    plan = plan_hire_import(records)
    return HireImport.objects.create(
        source=HireImport.Source.FILE,
        state=HireImport.State.DRY_RUN,
        filename=_stored_filename(filename),
        payload_encrypted=_encrypt_records(records),
        summary=plan.summary(_unit_names(plan)),
        created_by=by,
    )


def _stored_filename(filename: str) -> str:
    """A file is often named after the person ("251296-1236 Anna.xlsx"): the number is
    masked before the name is stored."""
    return shown(filename, 255)


@transaction.atomic
def apply_hire_import(*, hire_import: HireImport, by: User | None) -> HireImport:
    """Apply a dry run: all of it or, when a row is bad, none of it."""
    hire_import = HireImport.objects.select_for_update().get(pk=hire_import.pk)
    if hire_import.state == HireImport.State.APPLIED:
        return hire_import  # a double click
    if hire_import.state != HireImport.State.DRY_RUN:
        raise HireError(_("This import can no longer be applied."))
    if not hire_import.payload_encrypted:
        raise HireError(_("This import can no longer be applied."))
    plan = plan_hire_import(_decrypt_records(hire_import.payload_encrypted))
    if plan.errors:
        raise HireError(
            _(
                "The file has rows with errors. Correct them and upload it again; "
                "nothing has been imported."
            )
        )
    apply_plan(plan)
    hire_import.state = HireImport.State.APPLIED
    hire_import.applied_at = timezone.now()
    hire_import.payload_encrypted = ""  # the CPR numbers now live only on the persons
    hire_import.summary = plan.summary(_unit_names(plan))
    hire_import.created_by = hire_import.created_by or by
    hire_import.save(
        update_fields=["state", "applied_at", "payload_encrypted", "summary", "created_by"]
    )
    return hire_import


@transaction.atomic
def discard_hire_import(*, hire_import: HireImport) -> None:
    HireImport.objects.filter(pk=hire_import.pk, state=HireImport.State.DRY_RUN).update(
        state=HireImport.State.DISCARDED, payload_encrypted=""
    )


@sensitive_variables("plan")
def apply_plan(plan: HirePlan) -> None:
    """Create, update and withdraw hires in bulk (the caller holds the transaction)."""
    now = timezone.now()
    items = plan.new + plan.changed + plan.withdrawn
    persons = _persons_for([p.cpr for p in items])
    needs = _NeedsLookup()
    existing = {
        h.source_key: h
        for h in Hire.objects.select_for_update().filter(
            source_key__in=[p.key for p in plan.changed + plan.withdrawn]
        )
    }
    orders = _orders_by_person_and_unit(persons.values())
    new_hires = []
    for item in plan.new:
        person = persons[hash_cpr(item.cpr)]
        hire = Hire(
            source_key=item.key,
            person=person,
            full_name=item.full_name,
            unit_id=item.unit_id,
            start_date=item.start_date,
            job_code=item.job_code,
            created_at=now,
            updated_at=now,
        )
        _evaluate(hire, needs=needs, orders=orders)
        new_hires.append(hire)
    Hire.objects.bulk_create(new_hires, batch_size=1000)
    changed = []
    had = _kinds_had([existing[item.key].person_id for item in plan.changed])
    for item in plan.changed:
        hire = existing[item.key]
        new_job = hire.job_code != item.job_code
        hire.full_name, hire.unit_id = item.full_name, item.unit_id
        hire.start_date, hire.job_code, hire.updated_at = item.start_date, item.job_code, now
        if hire.status not in DECIDED:
            _evaluate(hire, needs=needs, orders=orders)
        elif new_job:
            _evaluate_job_change(hire, needs=needs, had=had.get(hire.person_id, set()))
        changed.append(hire)
    withdrawn = []
    for item in plan.withdrawn:
        hire = existing[item.key]
        hire.status, hire.updated_at = Hire.Status.WITHDRAWN, now
        withdrawn.append(hire)
    Hire.objects.bulk_update(
        changed + withdrawn,
        ["full_name", "unit", "start_date", "job_code", "profile", "status", "order", "updated_at"],
        batch_size=1000,
    )
    for hire in withdrawn:
        _tell_manager_of_withdrawal(hire)


def _persons_for(cprs: list[str]) -> dict[str, Person]:
    """Persons by CPR hash, creating the missing ones in one statement."""
    by_hash = {hash_cpr(cpr): cpr for cpr in cprs}
    found = {p.cpr_hash: p for p in Person.objects.filter(cpr_hash__in=list(by_hash))}
    missing = [
        Person(cpr_hash=h, cpr_encrypted=encrypt_cpr(cpr))
        for h, cpr in by_hash.items()
        if h not in found
    ]
    if missing:
        Person.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
        found.update(
            {
                p.cpr_hash: p
                for p in Person.objects.filter(cpr_hash__in=[p.cpr_hash for p in missing])
            }
        )
    return found


def _orders_by_person_and_unit(persons) -> dict[tuple[int, int], Order]:
    """The newest order per (person, unit): a manager may have ordered before the import."""
    result = {}
    # An order from years ago (a former employment) does not answer for a new hire.
    since = timezone.now() - datetime.timedelta(days=365)
    for order in Order.objects.filter(
        person__in=[p.pk for p in persons], created_at__gte=since
    ).order_by("created_at"):
        result[(order.person_id, order.unit_id)] = order
    return result


class _NeedsLookup:
    """Job codes, and which positions need certificates, read once per import."""

    def __init__(self):
        self.job_codes = {(j.area_id, j.code): j for j in JobCode.objects.all()}
        self.unit_areas = dict(Unit.objects.values_list("pk", "area_id"))
        self.profiles_with_requirements = set(
            ProfileRequirement.objects.filter(legal_basis__is_active=True).values_list(
                "profile_id", flat=True
            )
        )
        self.areas_with_child_question = set(
            ChildContactRule.objects.values_list("area_id", flat=True)
        )
        self.required_kinds = defaultdict(set)
        for profile_id, kind_id in ProfileRequirement.objects.filter(
            level=ProfileRequirement.Level.REQUIRED,
            legal_basis__is_active=True,
        ).values_list("profile_id", "legal_basis__kind_id"):
            self.required_kinds[profile_id].add(kind_id)


def _evaluate(hire: Hire, *, needs: _NeedsLookup, orders: dict) -> None:
    """Set the profile and status of a hire nobody has decided on yet."""
    area_id = needs.unit_areas[hire.unit_id]
    job_code = needs.job_codes.get((area_id, hire.job_code))
    hire.profile_id = job_code.profile_id if job_code else None
    order = orders.get((hire.person_id, hire.unit_id))
    if job_code is None:
        hire.status = Hire.Status.UNMAPPED
    elif hire.profile_id is None or not (
        hire.profile_id in needs.profiles_with_requirements
        or area_id in needs.areas_with_child_question
    ):
        hire.status = Hire.Status.NONE_REQUIRED
    elif order is not None:
        hire.status, hire.order = Hire.Status.ORDERED, order
    else:
        hire.status = Hire.Status.AWAITING_ORDER


def _kinds_had(person_ids: list[int]) -> dict[int, set[int]]:
    """Certificate kinds each person has had answered or has on order."""
    had = defaultdict(set)
    for person_id, kind_id in OrderLine.objects.filter(
        person_id__in=person_ids,
        status__in=[*OrderLine.OPEN_STATUSES, OrderLine.Status.CLEARED, OrderLine.Status.REJECTED],
    ).values_list("person_id", "kind_id"):
        had[person_id].add(kind_id)
    return had


def _evaluate_job_change(hire: Hire, *, needs: "_NeedsLookup", had: set[int]) -> None:
    """A hire already dealt with moves to a new job: prompt again only when the new
    position requires a certificate the person has not had."""
    job_code = needs.job_codes.get((needs.unit_areas[hire.unit_id], hire.job_code))
    if job_code is None or job_code.profile_id is None:
        return
    required = needs.required_kinds.get(job_code.profile_id, set())
    if required - had:
        hire.profile_id, hire.status, hire.order = (
            job_code.profile_id,
            Hire.Status.AWAITING_ORDER,
            None,
        )


@transaction.atomic
def reevaluate_open_hires() -> int:
    """After an administrator maps job codes: hires without a decision are looked at again."""
    hires = list(
        Hire.objects.select_for_update().filter(
            status__in=[
                Hire.Status.UNMAPPED,
                Hire.Status.AWAITING_ORDER,
                Hire.Status.NONE_REQUIRED,
            ],
            renewal_due_since__isnull=True,
        )
    )
    if not hires:
        return 0
    needs = _NeedsLookup()
    orders = _orders_by_person_and_unit(Person.objects.filter(pk__in={h.person_id for h in hires}))
    changed = []
    for hire in hires:
        before = (hire.status, hire.profile_id)
        _evaluate(hire, needs=needs, orders=orders)
        if (hire.status, hire.profile_id) != before:
            changed.append(hire)
    Hire.objects.bulk_update(changed, ["status", "profile", "order"])
    return len(changed)


def unit_manager_addresses(unit_id: int) -> list[str]:
    return sorted(
        Membership.objects.filter(
            unit_id=unit_id,
            role=Membership.Role.MANAGER,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def hire_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("orders:list")


def _tell_manager_of_withdrawal(hire: Hire) -> None:
    if (
        hire.order_id is None
        or not OrderLine.objects.open().filter(order_id=hire.order_id).exists()
    ):
        return
    order = hire.order
    queue_email(
        template="hire_withdrawn",
        key=f"hire:{hire.pk}:withdrawn",
        to=unit_manager_addresses(hire.unit_id),
        order=order,
        context={
            "hire": hire,
            "url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("orders:detail", kwargs={"public_id": order.public_id}),
        },
    )


# --- The manager's side -------------------------------------------------------------


def hires_visible_to(user: User):
    """Hires of the user's own units; payroll sees all. Anything else must answer 404."""
    if not user.is_authenticated:
        return Hire.objects.none()
    if user.is_payroll:
        return Hire.objects.all()
    return Hire.objects.filter(unit__memberships__user=user)


@transaction.atomic
def link_order(*, hire: Hire, order: Order, by: User) -> Hire:
    """The manager ordered from the prompt: the hire is done."""
    hire = Hire.objects.select_for_update().get(pk=hire.pk)
    hire.status, hire.order, hire.decided_by, hire.decided_at = (
        Hire.Status.ORDERED,
        order,
        by,
        timezone.now(),
    )
    hire.renewal_due_since = None
    hire.save(update_fields=["status", "order", "decided_by", "decided_at", "renewal_due_since"])
    return hire


@transaction.atomic
def mark_not_needed(*, hire: Hire, by: User, reason: str) -> Hire:
    """The manager says no certificate is needed, and why; payroll sees the reason."""
    hire = Hire.objects.select_for_update().get(pk=hire.pk)
    reason = " ".join(reason.split())
    if not reason:
        raise HireError(_("Give a reason why no certificate is needed."))
    if hire.status == Hire.Status.NOT_NEEDED:
        return hire
    if hire.status != Hire.Status.AWAITING_ORDER:
        raise HireError(_("This new hire no longer awaits an order."))
    hire.status, hire.not_needed_reason = Hire.Status.NOT_NEEDED, reason[:1000]
    hire.decided_by, hire.decided_at = by, timezone.now()
    hire.save(update_fields=["status", "not_needed_reason", "decided_by", "decided_at"])
    return hire


def log_hire_access(*, user: User, hires) -> None:
    now = timezone.now()
    AccessLog.objects.bulk_create(
        AccessLog(
            at=now,
            user=user,
            username=user.get_username(),
            person_id=h.person_id,
            action=AccessLog.Action.LIST_HIRES,
        )
        for h in hires
    )


# --- Reminders and payroll's compliance list ----------------------------------------


def send_hire_reminders(*, now: datetime.datetime) -> int:
    """Managers of hires starting within HIRE_REMINDER_DAYS with nothing ordered get one
    reminder each. Also picks up job codes mapped since the import."""
    reevaluate_open_hires()
    # A dry run nobody applied within a day is discarded: its CPR numbers go with it.
    HireImport.objects.filter(
        state=HireImport.State.DRY_RUN, created_at__lt=now - datetime.timedelta(days=1)
    ).update(state=HireImport.State.DISCARDED, payload_encrypted="")
    # An employment SD keeps sending unusable is not kept (with its CPR) for ever.
    UnreadHire.objects.filter(
        first_seen_at__lt=now - datetime.timedelta(days=settings.HIRE_UNREAD_KEEP_DAYS)
    ).delete()
    today = timezone.localdate(now)
    hires = Hire.objects.prompting().filter(
        start_date__lte=today + datetime.timedelta(days=settings.HIRE_REMINDER_DAYS),
        start_date__gte=today - datetime.timedelta(days=settings.HIRE_COMPLIANCE_DAYS),
    )
    sent = 0
    for hire in hires:
        with transaction.atomic():
            notification = queue_email(
                template="hire_reminder",
                key=f"hire:{hire.pk}",
                to=unit_manager_addresses(hire.unit_id),
                hire=hire,
                context={"hire": hire, "url": hire_url()},
            )
            sent += notification is not None
    return sent


def hire_reminders_sent(*, before: datetime.datetime) -> QuerySet[Notification]:
    """Reminders about new hires (they name the hire) sent before `before` and not yet
    emptied."""
    return Notification.objects.filter(
        hire__isnull=False, order__isnull=True, created_at__lte=before
    ).exclude(subject="", body="")


@dataclass
class ComplianceRow:
    hire: Hire
    reasons: list[str]


def compliance_list(*, today: datetime.date | None = None) -> list[ComplianceRow]:
    """Hires who started, or start within HIRE_COMPLIANCE_DAYS, without every required
    certificate answered, each with why. A fixed number of queries."""
    today = today or timezone.localdate()
    hires = list(
        Hire.objects.filter(
            start_date__lte=today + datetime.timedelta(days=settings.HIRE_COMPLIANCE_DAYS),
            start_date__gte=today - datetime.timedelta(days=settings.HIRE_COMPLIANCE_LOOKBACK_DAYS),
        )
        .exclude(status__in=[Hire.Status.WITHDRAWN, Hire.Status.NONE_REQUIRED])
        .select_related("unit", "profile", "person")
        .order_by("start_date", "full_name")
    )
    required = defaultdict(set)
    kind_names = {}
    for r in ProfileRequirement.objects.filter(
        profile_id__in={h.profile_id for h in hires if h.profile_id},
        level=ProfileRequirement.Level.REQUIRED,
    ).select_related("legal_basis__kind"):
        required[r.profile_id].add(r.legal_basis.kind_id)
        kind_names[r.legal_basis.kind_id] = r.legal_basis.kind.name
    lines = defaultdict(list)
    for line in (
        OrderLine.objects.filter(person_id__in={h.person_id for h in hires})
        .select_related("kind")
        .order_by("status_changed_at")
    ):
        lines[line.person_id].append(line)
        kind_names.setdefault(line.kind_id, line.kind.name)
    rows = []
    for hire in hires:
        reasons = _missing_reasons(
            hire,
            required=required[hire.profile_id] if hire.profile_id else set(),
            lines=lines[hire.person_id],
            kind_names=kind_names,
        )
        if reasons:
            rows.append(ComplianceRow(hire=hire, reasons=reasons))
    return rows


def _missing_reasons(
    hire: Hire, *, required: set[int], lines: list[OrderLine], kind_names: dict[int, str]
) -> list[str]:
    if hire.status == Hire.Status.UNMAPPED:
        return [
            _("Job code %(code)s has no position: map it in the administration.")
            % {"code": hire.job_code}
        ]
    if hire.status == Hire.Status.NOT_NEEDED:
        return [
            _("The manager marked it not needed: %(reason)s") % {"reason": hire.not_needed_reason}
        ]
    if hire.status == Hire.Status.AWAITING_ORDER and not lines:
        return [_("Nothing has been ordered.")]
    latest = {}
    for line in lines:
        latest[line.kind_id] = line  # ordered by time: the newest wins
    # Kinds ordered for the hire count too (e.g. a child certificate after a "yes").
    kinds = required | {
        line.kind_id for line in lines if hire.order_id and line.order_id == hire.order_id
    }
    reasons = []
    for kind_id in sorted(kinds):
        line = latest.get(kind_id)
        name = kind_names.get(kind_id, "")
        if line is None:
            reasons.append(_("%(kind)s: not ordered.") % {"kind": name})
        elif line.status not in (
            OrderLine.Status.CLEARED,
            OrderLine.Status.IN_REVIEW,
            OrderLine.Status.REJECTED,
        ):
            reasons.append(
                _("%(kind)s: %(status)s.")
                % {"kind": name, "status": line.get_status_display().lower()}
            )
    return reasons


def open_lines_in_closed_units():
    """Lines still open in units the HR system has closed: payroll must re-home them."""
    return (
        OrderLine.objects.open()
        .filter(order__unit__is_active=False)
        .select_related("order__unit", "kind")
        .order_by("order__unit__name", "order__start_date")
    )


# --- SD Løn, polled by the beat schedule --------------------------------------------


def poll_sd(*, today: datetime.date | None = None, source=None) -> HireImport | None:
    """Ask SD for employments changed since the last successful poll and apply them.
    A failed poll is recorded (visible to payroll) and the same period is asked again."""
    if not settings.SD_URL:
        return None
    today = today or timezone.localdate()
    last = (
        HireImport.objects.filter(source=HireImport.Source.SD, state=HireImport.State.APPLIED)
        .order_by("-period_end")
        .first()
    )
    first_failed = (
        HireImport.objects.filter(source=HireImport.Source.SD, state=HireImport.State.FAILED)
        .order_by("period_start")
        .first()
    )
    if last is not None:
        start = last.period_end
    elif first_failed is not None:
        start = first_failed.period_start  # the first poll never succeeded: ask it again
    else:
        start = today - datetime.timedelta(days=settings.SD_FIRST_POLL_DAYS)
    source = source or SDLoenSource.from_settings()
    record = HireImport(source=HireImport.Source.SD, period_start=start, period_end=today)
    try:
        plan = _fetch_and_apply(source, record, start=start, today=today)
    except SourceError as error:
        _record_failed_poll(record, str(error))
        return record
    except Exception as error:  # noqa: BLE001  a poll must end recorded, never crash
        # The type only: a database error may quote the value (a CPR number) that broke it.
        logger.exception("SD Løn poll failed: %s", type(error).__name__)
        _record_failed_poll(
            record,
            _("The poll failed unexpectedly (%(error)s); nothing has been changed.")
            % {"error": type(error).__name__},
        )
        return record
    if plan.errors:
        logger.warning("SD Løn poll: %s employments could not be read", len(plan.errors))
    return record


def _fetch_and_apply(source, record: HireImport, *, start, today) -> HirePlan:
    fetched = source.fetch(start=start, end=today)
    unread = list(UnreadHire.objects.filter(source=HireImport.Source.SD))
    records = _with_unread(fetched, unread)
    if hasattr(source, "fill_names"):
        source.fill_names(records, today=today)  # more calls to SD: outside the transaction
    with transaction.atomic():
        list(UnreadHire.objects.select_for_update().filter(pk__in=[u.pk for u in unread]))
        plan = plan_hire_import(records)
        # One employment SD sends that cannot be used must not hold back the others.
        apply_plan(plan)
        _record_unread(plan, unread, now=timezone.now())
        record.state, record.applied_at = HireImport.State.APPLIED, timezone.now()
        record.summary = plan.summary(_unit_names(plan))
        record.save()
    return plan


def _record_failed_poll(record: HireImport, error: str) -> None:
    """Record why (payroll sees it on the import page) and tell payroll by e-mail, once
    for a run of polls failing for the same reason, not every hour SD is down."""
    polls = HireImport.objects.filter(source=HireImport.Source.SD)
    previous = polls.order_by("-created_at", "-id").first()
    record.pk = None
    record.state, record.error = HireImport.State.FAILED, error
    record.summary, record.applied_at = {}, None
    logger.warning("SD Løn poll failed: %s", error)
    record.save()
    if (
        previous is not None
        and previous.state == HireImport.State.FAILED
        and previous.error == error
    ):
        return
    queue_email(
        template="sd_poll_failed",
        key=f"sd-poll-{record.public_id}",
        to=payroll_addresses(),
        context={"error": error, "url": _hire_imports_url()},
    )


def _hire_imports_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("payroll:hire_imports")


def _unread_key(record: HireRecord) -> str:
    employment_id = record.employment_id
    if employment_id and len(employment_id) <= MAX_EMPLOYMENT_ID:
        if not has_control_chars(employment_id):
            return f"emp:{employment_id}"
    seen = "|".join(
        [record.full_name, record.unit, str(record.start_date), record.job_code, record.cpr]
    )
    return f"rec:{hash_cpr(seen)}"


def _with_unread(fetched: list[HireRecord], unread: list[UnreadHire]) -> list[HireRecord]:
    """What SD sent now, and the earlier employments that could not be read, unless SD
    sent a newer version of them."""
    keys = {_unread_key(r) for r in fetched}
    records = list(fetched)
    for item in unread:
        if item.key in keys or not item.payload_encrypted:
            continue
        (earlier,) = _decrypt_records(item.payload_encrypted)
        earlier.row = len(records) + 1
        records.append(earlier)
    return records


def _record_unread(plan: HirePlan, unread: list[UnreadHire], *, now) -> None:
    """Keep every employment that could not be read, with the reason; forget the ones
    that now could."""
    earlier = {item.key: item for item in unread}
    still_bad = set()
    for hire_record, reason in plan.rejected:
        key = _unread_key(hire_record)
        still_bad.add(key)
        # Shown to payroll as read, but never with a NUL (it cannot be stored) or a CPR
        # number (a shifted column); the record itself is kept encrypted to try again.
        fields = {
            "employment_id": shown(hire_record.employment_id, 100),
            "full_name": shown(hire_record.full_name, 200),
            "unit": shown(hire_record.unit, 100),
            "start_date": shown(_shown_date(hire_record.start_date), 40),
            "reason": reason,
            "payload_encrypted": _encrypt_records([hire_record]),
            "last_seen_at": now,
        }
        if key in earlier:
            item = earlier[key]
            for name, value in fields.items():
                setattr(item, name, value)
            item.attempts += 1
            item.save()
        else:
            # A poll running at the same time may have written the key since `unread`
            # was read: take its row over rather than fail the whole poll on the key.
            UnreadHire.objects.update_or_create(
                key=key,
                defaults={"source": HireImport.Source.SD, **fields},
                create_defaults={"source": HireImport.Source.SD, "first_seen_at": now, **fields},
            )
    UnreadHire.objects.filter(
        pk__in=[i.pk for k, i in earlier.items() if k not in still_bad]
    ).delete()


def _shown_date(value) -> str:
    """SD's ISO dates as payroll reads dates; anything else as it came."""
    try:
        return datetime.date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def unread_hires():
    """Employments the web service sent that could not be used: payroll sees them."""
    return UnreadHire.objects.all()


def failed_polls():
    """The latest poll, when it failed: shown to payroll until a poll succeeds."""
    latest = (
        HireImport.objects.filter(source=HireImport.Source.SD)
        .order_by("-created_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.state == HireImport.State.FAILED else None


def prompts_for(user: User) -> list[Hire]:
    """ "Ny medarbejder mangler attest": the user's units' hires awaiting an order. Only
    managers and secretaries of the unit; the view logs who saw them."""
    if not user.is_authenticated or user.is_payroll:
        return []
    prompts = list(
        Hire.objects.prompting().filter(unit__memberships__user=user).order_by("start_date")[:50]
    )
    log_hire_access(user=user, hires=prompts)
    return prompts


# --- Renewals -----------------------------------------------------------------------


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@transaction.atomic
def prompt_renewals(*, now: datetime.datetime) -> int:
    """Staff whose position requires a renewed check every N years, and whose required
    certificate was cleared longer ago than that, prompt their managers again."""
    today = timezone.localdate(now)
    years = dict(
        PositionProfile.objects.filter(renewal_years__isnull=False).values_list(
            "pk", "renewal_years"
        )
    )
    if not years:
        return 0
    staff = list(
        Hire.objects.select_for_update().filter(
            profile_id__in=list(years), status=Hire.Status.ORDERED
        )
    )
    needs = _NeedsLookup()
    persons = {h.person_id for h in staff}
    cleared = defaultdict(dict)
    for person_id, kind_id, at in OrderLine.objects.filter(
        person_id__in=persons,
        status=OrderLine.Status.CLEARED,
    ).values_list("person_id", "kind_id", "status_changed_at"):
        previous = cleared[person_id].get(kind_id)
        cleared[person_id][kind_id] = max(at, previous) if previous else at
    open_kinds = set(
        OrderLine.objects.open().filter(person_id__in=persons).values_list("person_id", "kind_id")
    )
    due = []
    for hire in staff:
        cutoff = _years_before(today, years[hire.profile_id])
        for kind_id in needs.required_kinds.get(hire.profile_id, set()):
            last = cleared[hire.person_id].get(kind_id)
            if (
                last is not None
                and timezone.localdate(last) <= cutoff
                and (hire.person_id, kind_id) not in open_kinds
            ):
                hire.status, hire.order, hire.renewal_due_since = (
                    Hire.Status.AWAITING_ORDER,
                    None,
                    today,
                )
                due.append(hire)
                break
    Hire.objects.bulk_update(due, ["status", "order", "renewal_due_since"])
    return len(due)


def renewals_overdue():
    """Renewal prompts nobody has ordered for: payroll sees them."""
    return (
        Hire.objects.filter(renewal_due_since__isnull=False, status=Hire.Status.AWAITING_ORDER)
        .select_related("unit", "profile", "person")
        .order_by("renewal_due_since")
    )
