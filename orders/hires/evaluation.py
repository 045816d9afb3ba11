"""What a hire's position requires: each hire's profile and status from its job code,
the certificates its position needs and an order already placed for the person.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Unit, User

from ..models import ChildContactRule, Hire, JobCode, Order, OrderLine, Person, ProfileRequirement


def orders_by_person_and_unit(persons) -> dict[tuple[int, int], Order]:
    """The newest order per (person, unit): a manager may have ordered before the import."""
    result = {}
    # An order from years ago (a former employment) does not answer for a new hire.
    since = timezone.now() - datetime.timedelta(days=365)
    for order in Order.objects.filter(
        person__in=[p.pk for p in persons], created_at__gte=since
    ).order_by("created_at"):
        result[(order.person_id, order.unit_id)] = order
    return result


class NeedsLookup:
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


def evaluate(hire: Hire, *, needs: NeedsLookup, orders: dict) -> None:
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


def kinds_had(person_ids: list[int]) -> dict[int, set[int]]:
    """Certificate kinds each person has had answered or has on order."""
    had = defaultdict(set)
    for person_id, kind_id in OrderLine.objects.filter(
        person_id__in=person_ids,
        status__in=[*OrderLine.OPEN_STATUSES, OrderLine.Status.CLEARED, OrderLine.Status.REJECTED],
    ).values_list("person_id", "kind_id"):
        had[person_id].add(kind_id)
    return had


def evaluate_job_change(hire: Hire, *, needs: NeedsLookup, had: set[int]) -> None:
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
def reevaluate_open_hires(*, job_codes: Iterable[str] | None = None) -> int:
    """After an administrator maps job codes: hires without a decision (only those with
    one of `job_codes`, when given) are looked at again."""
    open_hires = Hire.objects.select_for_update().filter(
        status__in=[
            Hire.Status.UNMAPPED,
            Hire.Status.AWAITING_ORDER,
            Hire.Status.NONE_REQUIRED,
        ],
        renewal_due_since__isnull=True,
    )
    if job_codes is not None:
        open_hires = open_hires.filter(job_code__in=list(job_codes))
    hires = list(open_hires)
    if not hires:
        return 0
    needs = NeedsLookup()
    orders = orders_by_person_and_unit(Person.objects.filter(pk__in={h.person_id for h in hires}))
    changed = []
    for hire in hires:
        before = (hire.status, hire.profile_id)
        evaluate(hire, needs=needs, orders=orders)
        if (hire.status, hire.profile_id) != before:
            changed.append(hire)
    Hire.objects.bulk_update(changed, ["status", "profile", "order"])
    return len(changed)


def job_code_administrators() -> str:
    """Whom payroll asks to map a job code or rename a column: the active administrators
    who may change job codes, by name and e-mail address (payroll cannot open the admin)."""
    users = (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="change_jobcode")
            | Q(groups__permissions__codename="change_jobcode")
        )
        .distinct()
        .order_by("first_name", "last_name", "username")[:5]
    )
    people = [
        f"{user.get_full_name() or user.username} ({user.email})"
        if user.email
        else user.get_full_name() or user.username
        for user in users
    ]
    if not people:
        return _("the portal's administrators")
    return ", ".join(people)
