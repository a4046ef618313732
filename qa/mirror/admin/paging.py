"""Paging the admin's big lists (calls, queues) without counting the whole table.

Django's changelist counts every matching row on each page view (the
paginator's `count`), which at a million calls is a scan of the table or of a
large part of an index. Here the count stops at a cap: a list knows it has
"1000+" calls after counting 1,001, and a deep page (?p=400) counts only as
far as that page needs. Below the cap the count is exact, as before. A page is
read as its ids first, then its rows (CappedCountPaginator.page).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at `cap` rows (or as far as the page asked for needs).

    `capped` says whether more rows match than were counted; the admin's
    pagination template then says "1000+".
    """

    def __init__(self, object_list, per_page, *args, cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # COUNT(*) over a subquery with LIMIT cap + 1: the database stops at the cap.
        found = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)

    capped = False

    def page(self, number):
        """The page's rows in two steps: its ids first (a walk of an index that carries the filtered columns,
        without reading the table), then those rows, in the list's order."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


def capped_paginator(request, queryset, per_page: int) -> CappedCountPaginator:
    """The admin's get_paginator: counts far enough for the page asked for (?p=N), at least COUNT_CAP rows."""
    try:
        page = max(1, int(request.GET.get("p", 1)))
    except ValueError:
        page = 1
    return CappedCountPaginator(queryset, per_page, cap=max(COUNT_CAP, page * per_page))
