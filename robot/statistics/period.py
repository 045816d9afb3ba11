"""What a figure is about: a period of whole months, an area and a certificate kind
(Filters), and whose orders count (Scope)."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from orders.models import CertificateKind
from portal.models import Area, User
from portal.selectors import units_of


@dataclass(frozen=True)
class Filters:
    """A period of whole months [start, end), and optionally one area and one kind."""

    start: datetime.date
    end: datetime.date
    area_id: int | None = None
    kind_id: int | None = None

    def __post_init__(self):
        # The summary counts per month: a period that is not whole months has no answer.
        if self.start.day != 1 or self.end.day != 1:
            raise ValueError("A statistics period starts and ends on the first of a month.")

    @property
    def start_at(self) -> datetime.datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        return _midnight(self.end)

    @classmethod
    def month(cls, month: datetime.date, **kwargs) -> "Filters":
        first = month.replace(day=1)
        return cls(start=first, end=add_months(first, 1), **kwargs)


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def default_filters(today: datetime.date | None = None) -> Filters:
    """The last twelve months, this one included."""
    today = today or timezone.localdate()
    end = add_months(today.replace(day=1), 1)
    return Filters(start=add_months(end, -12), end=end)


@dataclass(frozen=True)
class Scope:
    """Whose orders count: every unit (payroll, administrators) or the user's own units."""

    unit_ids: tuple[int, ...] | None
    shows_cases: bool  # payroll may open the cases behind a figure

    @classmethod
    def for_user(cls, user: User) -> "Scope":
        if user.is_payroll or user.is_staff:
            return cls(unit_ids=None, shows_cases=user.is_payroll)
        return cls(unit_ids=tuple(units_of(user).values_list("pk", flat=True)), shows_cases=False)

    @property
    def is_everything(self) -> bool:
        return self.unit_ids is None

    @property
    def has_no_units(self) -> bool:
        """A manager whose every unit has been closed sees no figures at all."""
        return self.unit_ids == ()


def lines_q(scope: Scope, filters: Filters, prefix: str = "") -> Q:
    """Q for order lines in the scope and the area/kind filters, seen from a related model."""
    q = Q()
    if scope.unit_ids is not None:
        q &= Q(**{f"{prefix}order__unit_id__in": scope.unit_ids})
    if filters.area_id:
        q &= Q(**{f"{prefix}order__unit__area_id": filters.area_id})
    if filters.kind_id:
        q &= Q(**{f"{prefix}kind_id": filters.kind_id})
    return q


def summary_q(scope: Scope, filters: Filters) -> Q:
    """The same choice on the summary's rows, which carry the unit and the kind."""
    q = Q()
    if scope.unit_ids is not None:
        q &= Q(unit_id__in=scope.unit_ids)
    if filters.area_id:
        q &= Q(unit__area_id=filters.area_id)
    if filters.kind_id:
        q &= Q(kind_id=filters.kind_id)
    return q


def filter_choices(user: User) -> tuple[list[Area], list[CertificateKind]]:
    scope = Scope.for_user(user)
    areas = Area.objects.order_by("name")
    if scope.unit_ids is not None:
        areas = areas.filter(units__in=scope.unit_ids).distinct()
    return list(areas), list(CertificateKind.objects.order_by("sort_order", "name"))
