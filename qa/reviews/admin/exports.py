"""“Export CSV” and “Export Excel” on the admin's call lists, the team overview and a participant's report.

An export is its screen's own query: a list's is read from the admin's
ChangeList for the same request, so it holds exactly the rows that the
filters, the search and the screen's own visibility rules select (every page,
not only the one shown), in the list's order; whoever may see the screen may
export it, and nobody else. qa.spreadsheets writes the file.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy

from qa import spreadsheets
from qa.reviews import blinding
from qa.reviews import exports as call_exports

FORMATS = ((spreadsheets.CSV, gettext_lazy("Export CSV")), (spreadsheets.XLSX, gettext_lazy("Export Excel (.xlsx)")))
# The transcription list's and the queues' evaluator filter (a related-field filter on Heify's id).
EVALUATOR_PARAM = "evaluator__heify_id__exact"


def export_links(url_name: str, query: QueryDict, *args) -> list[tuple[str, str]]:
    """The two links of a screen, carrying its filters (not its page)."""
    query = query.copy()
    query.pop("p", None)
    suffix = f"?{query.urlencode()}" if query else ""
    return [(label, reverse(url_name, args=[*args, fmt]) + suffix) for fmt, label in FORMATS]


def chosen_format(fmt: str) -> str:
    if fmt not in spreadsheets.WRITERS:
        raise Http404(gettext("No export format %(format)r: choose %(formats)s.") % {
            "format": fmt, "formats": " or ".join(spreadsheets.WRITERS)})
    return fmt


def review_url_maker(request):
    """pk -> the call's review page, as an absolute link (the file leaves the site)."""
    base = request.build_absolute_uri(reverse("admin:qa_reviewitem_changelist"))
    return lambda pk: f"{base}{pk}/change/"


class ListExportMixin:
    """For a ModelAdmin whose list exports: the two links on the list, and the export view that writes what
    `export_table(request, changelist)` gives for the list's own query."""

    def _export_url_name(self) -> str:
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        return [
            path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view),
                 name=f"{self.opts.app_label}_{self.opts.model_name}_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {"export_links": export_links(self._export_url_name(), request.GET), **(extra_context or {})}
        return super().changelist_view(request, context)

    # Each view asks the permission first: without it, 403 whatever the format or the object asked for.
    def export_view(self, request, fmt: str):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        fmt = chosen_format(fmt)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(gettext("These filters do not apply to this list; open the list and filter "
                                                  "again."))
        return spreadsheets.streaming_response(self.export_table(request, changelist), fmt)

    def export_table(self, request, changelist) -> spreadsheets.Table:
        raise NotImplementedError


class CallListExportMixin(ListExportMixin):
    """For a ModelAdmin of calls (the transcription list, the review queues and "my reviews")."""

    def export_table(self, request, changelist) -> spreadsheets.Table:
        title = str(self.opts.verbose_name_plural).capitalize()
        if request.GET.get("mine") == "1":
            title = gettext("My reviews")
        return call_exports.calls_table(
            changelist.queryset, review_url=review_url_maker(request),
            blind_call_ids=blinding.blind_call_ids(request.user),
            evaluator_id=request.GET.get(EVALUATOR_PARAM), title=title,
        )
