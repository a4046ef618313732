"""“Export CSV” and “Export Excel” on the admin's call lists, the team overview and a participant's report.

An export is its screen's own query: a list's is read from the admin's
ChangeList for the same request, so it holds exactly the rows that the
filters, the search and the screen's own visibility rules select (every page,
not only the one shown), in the list's order; whoever may see the screen may
export it, and nobody else. qa.insights.exports writes the file.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from qa.insights import analytics, exports, team
from qa.mirror.models import Transcription
from qa.reviews import blinding

FORMATS = ((exports.CSV, "Export CSV"), (exports.XLSX, "Export Excel (.xlsx)"))
# The transcription list's and the queues' evaluator filter (a related-field filter on Heify's id).
EVALUATOR_PARAM = "evaluator__heify_id__exact"


def export_links(url_name: str, query: QueryDict, *args) -> list[tuple[str, str]]:
    """The two links of a screen, carrying its filters (not its page)."""
    query = query.copy()
    query.pop("p", None)
    suffix = f"?{query.urlencode()}" if query else ""
    return [(label, reverse(url_name, args=[*args, fmt]) + suffix) for fmt, label in FORMATS]


def _format(fmt: str) -> str:
    if fmt not in exports.WRITERS:
        raise Http404(f"No export format {fmt!r}: choose {' or '.join(exports.WRITERS)}.")
    return fmt


def review_url_maker(request):
    """pk -> the call's review page, as an absolute link (the file leaves the site)."""
    base = request.build_absolute_uri(reverse("admin:qa_reviewitem_changelist"))
    return lambda pk: f"{base}{pk}/change/"


class CallListExportMixin:
    """For a ModelAdmin of calls (the transcription list, the review queues and "my reviews")."""

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
        fmt = _format(fmt)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("These filters do not apply to this list; open the list and filter again.")
        title = str(self.opts.verbose_name_plural).capitalize()
        if request.GET.get("mine") == "1":
            title = "My reviews"
        table = exports.calls_table(
            changelist.queryset, review_url=review_url_maker(request),
            blind_call_ids=blinding.blind_call_ids(request.user),
            evaluator_id=request.GET.get(EVALUATOR_PARAM), title=title,
        )
        return exports.streaming_response(table, fmt)


class ParticipantExportMixin:
    """For the participant admin: the team overview's export and each participant's report's."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("team/export/<str:fmt>/", view(self.team_export_view), name="qa_participant_team_export"),
            path("<int:pk>/report/export/<str:fmt>/", view(self.report_export_view),
                 name="qa_participant_report_export"),
            *super().get_urls(),
        ]

    def team_export_view(self, request, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = _format(fmt)
        sort = request.GET.get("o", "tag")
        rows = team.team_overview(as_of=self._as_of(request)[0], sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                  reader=request.user)
        base = request.build_absolute_uri(reverse("admin:qa_participant_changelist"))
        table = exports.team_table(rows, participant_url=lambda pk: f"{base}{pk}/change/")
        return exports.streaming_response(table, fmt)

    def report_export_view(self, request, pk: int, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = _format(fmt)
        participant = get_object_or_404(self.get_queryset(request), pk=pk)
        report = analytics.participant_report(participant, as_of=self._as_of(request)[0],
                                              leave_out=blinding.blind_heify_ids(request.user, participant.heify_id))
        review_url = review_url_maker(request)
        calls = Transcription.objects.filter(participant_id=participant.heify_id) if participant.heify_id else []
        review_urls = {heify_id: review_url(call_pk) for heify_id, call_pk in
                       (calls.values_list("heify_id", "pk").iterator() if calls else ())}
        return exports.streaming_response(exports.report_table(participant, report, review_urls=review_urls), fmt)
