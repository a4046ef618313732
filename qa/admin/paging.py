"""Paging the admin's big lists (calls, queues) without counting the whole table.

Django's changelist counts every matching row on each page view (the
paginator's `count`), which at a million calls is a scan of the table or of a
large part of an index. Here the count stops at a cap: a list knows it has
"10,000+" calls after counting 10,001, and a deep page (?p=400) counts only as
far as that page needs. Below the cap the count is exact, as before.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at `cap` rows (or as far as the page asked for needs).

    `capped` says whether more rows match than were counted; the admin's
    pagination template then says "10,000+".
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


def capped_paginator(request, queryset, per_page: int) -> CappedCountPaginator:
    """The admin's get_paginator: counts far enough for the page asked for (?p=N), at least COUNT_CAP rows."""
    try:
        page = max(1, int(request.GET.get("p", 1)))
    except ValueError:
        page = 1
    return CappedCountPaginator(queryset, per_page, cap=max(COUNT_CAP, page * per_page))
