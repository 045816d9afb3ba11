"""Payroll's compliance list: hires who start, or have started, without the certificates
their position requires, and open lines left in units the HR system has closed.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from ..models import Hire, Order, OrderLine, ProfileRequirement
from ..selectors import start_window


@dataclass
class ComplianceRow:
    hire: Hire
    reasons: list[str]


def compliance_list(*, today: datetime.date | None = None) -> list[ComplianceRow]:
    """Hires who started, or start within HIRE_COMPLIANCE_DAYS, without every required
    certificate answered, each with why. A fixed number of queries."""
    since, until = start_window(today)
    hires = list(
        Hire.objects.filter(start_date__range=(since, until))
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
        # A certificate payroll is still assessing is missing too, as the order list's
        # badge says: the hire may not start on it yet.
        elif line.status not in (OrderLine.Status.CLEARED, OrderLine.Status.REJECTED):
            reasons.append(
                _("%(kind)s: %(status)s.")
                % {"kind": name, "status": line.get_status_display().lower()}
            )
    return reasons


def hires_without_position():
    """Hires whose job code no position is mapped to, whatever their start date: nobody
    is prompted for them until an administrator maps the code, and an answer takes
    weeks, so payroll sees them at once."""
    return (
        Hire.objects.filter(status=Hire.Status.UNMAPPED)
        .select_related("unit__area", "person")
        .order_by("job_code", "start_date", "full_name")
    )


def orders_without_hire_missing_certificates(*, today: datetime.date | None = None):
    """Orders placed by hand (no hire from the HR system) whose person starts within the
    window, or started within the look-back, with a certificate still missing: the orders
    the order list flags that compliance_list cannot see."""
    since, until = start_window(today)
    return (
        Order.objects.filter(start_date__range=(since, until), hires__isnull=True)
        .filter(pk__in=OrderLine.objects.uncleared().values("order"))
        .select_related("unit", "person", "profile")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("kind", "replaced_by"))
        )
        .order_by("start_date", "full_name")
    )


def open_lines_in_closed_units():
    """Lines still open in units the HR system has closed: payroll must re-home them."""
    return (
        OrderLine.objects.open()
        .filter(order__unit__is_active=False)
        .select_related("order__unit", "kind")
        .order_by("order__unit__name", "order__start_date")
    )
