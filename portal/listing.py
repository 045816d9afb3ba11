"""What every list shares: pages whose count is bounded, and a sort order chosen by name.

A list over ten years of history must not count the whole table to draw its page links:
it counts at most COUNT_LIMIT rows and says "more than" beyond.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator

COUNT_LIMIT = 10_000


class BoundedPaginator(Paginator):
    """A paginator that counts at most `limit` rows; `capped` says there were more."""

    def __init__(self, object_list, per_page, *, limit: int = COUNT_LIMIT, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit
        self.capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.limit + 1].count()
        self.capped = counted > self.limit
        return min(counted, self.limit)

    def page(self, number):
        """The page's ids first (an index walk, however deep the page), then only those
        rows with their joins, annotations and prefetches, in the same order."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(
            self.object_list.prefetch_related(None).values_list("pk", flat=True)[
                bottom : bottom + self.per_page
            ]
        )
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


def paginate(queryset, request, *, per_page: int, limit: int = COUNT_LIMIT):
    """The page named by ?page= (the last one when too high, the first when not a number)."""
    return BoundedPaginator(queryset, per_page, limit=limit).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class Sort:
    """One way to sort a list: its value in the URL, its label and the ordering."""

    value: str
    label: str
    ordering: tuple[str, ...]


def sort_choices(sorts: list[Sort]) -> list[tuple[str, str]]:
    return [(sort.value, sort.label) for sort in sorts]


def ordering_for(sorts: list[Sort], value: str | None) -> tuple[str, ...]:
    """The ordering of the named sort; the first one when the name is unknown."""
    return next((s.ordering for s in sorts if s.value == value), sorts[0].ordering)
