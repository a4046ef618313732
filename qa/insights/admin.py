"""Admin for participants: metadata edited and saved as one whole object."""

import json
from collections.abc import Sequence
from datetime import date, datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qa import date_inputs, heify, limits, policy, spreadsheets
from qa.insights import analytics, coaching_effect, exports, team
from qa.insights.report import trend_label
from qa.mirror import report_rules, revisions, rules, services
from qa.mirror.admin.base import GoneFilter, HeifyObjectAdmin, PrettyJSONField, VersionedForm, apply_rule
from qa.mirror.models import Participant, Transcription
from qa.reviews import blinding
from qa.reviews.admin.exports import chosen_format, review_url_maker
from qa.reviews.admin.transcriptions import format_duration, format_points, score_with_critical, short_datetime


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
        fmt = chosen_format(fmt)
        sort = request.GET.get("o", "tag")
        score = self._score(request)[0]
        rows = team.team_overview(as_of=self._as_of(request)[0], sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                  reader=request.user, score=score)
        base = request.build_absolute_uri(reverse("admin:qa_participant_changelist"))
        table = exports.team_table(rows, participant_url=lambda pk: f"{base}{pk}/change/", score=score)
        return spreadsheets.streaming_response(table, fmt)

    def report_export_view(self, request, pk: int, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = chosen_format(fmt)
        participant = get_object_or_404(self.get_queryset(request), pk=pk)
        score = self._score(request)[0]
        report = analytics.participant_report(participant, as_of=self._as_of(request)[0],
                                              leave_out=blinding.blind_heify_ids(request.user, participant.heify_id),
                                              score=score)
        review_url = review_url_maker(request)
        calls = Transcription.objects.filter(participant_id=participant.heify_id) if participant.heify_id else []
        review_urls = {heify_id: review_url(call_pk) for heify_id, call_pk in
                       (calls.values_list("heify_id", "pk").iterator() if calls else ())}
        table = exports.report_table(participant, report, review_urls=review_urls, score=score)
        return spreadsheets.streaming_response(table, fmt)


class ParticipantForm(VersionedForm):
    metadata = PrettyJSONField(
        name="metadata",
        required=False,
        help_text=gettext_lazy("The whole metadata object. Saving replaces it entirely, as Heify does: "
                               "a key you remove here is removed in Heify."),
    )
    compare_fields = ("metadata",)

    class Meta:
        model = Participant
        fields = ("tag", "metadata")

    def clean(self):
        data = super().clean()
        if "metadata" in data:  # absent when the JSON itself was invalid
            apply_rule(self, rules.clean_participant, data)
        return data


class NewestCalls(Sequence):
    """The report's included calls for a Paginator: as many as the report counts, of which raw_data holds the
    newest (enough for the pages up to the one asked for: a page beyond the last shows the last)."""

    def __init__(self, report: dict):
        self.calls, self.total = report["raw_data"], report["metadata"]["total_records_analyzed"]

    def __len__(self):
        return self.total

    def __getitem__(self, index):
        return self.calls[index]


@admin.register(Participant)
class ParticipantAdmin(ParticipantExportMixin, HeifyObjectAdmin):
    form = ParticipantForm
    list_display = ("tag", "metadata_keys", "sync_state_badge", "updated_in_heify")
    list_filter = ("sync_state", GoneFilter)
    search_fields = ("tag", "heify_id")

    class Media:
        css = {"all": ("qa/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ("tag", "metadata", "based_on_version")}),
            ("Heify", {"fields": (*self.sync_fields, "updated_in_heify"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*self.sync_fields, "updated_in_heify")

    @admin.display(description=gettext_lazy("metadata"))
    def metadata_keys(self, obj):
        return ", ".join(sorted(obj.metadata)) if isinstance(obj.metadata, dict) else ""

    change_form_template = "admin/qa/participant/change_form.html"

    # --- analytics -----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("team/", self.admin_site.admin_view(self.team_view), name="qa_participant_team"),
            path("<int:pk>/heify-report/", self.admin_site.admin_view(self.heify_report_view),
                 name="qa_participant_heify_report"),
            *super().get_urls(),
        ]

    CALLS_PER_PAGE = 25

    @staticmethod
    def _as_of(request) -> tuple[date | None, str]:
        """The ?as_of= day by the rule the API uses, or None for today; and what is wrong with it, if anything."""
        try:
            return limits.clean_report_date(date_inputs.parse(request.GET.get("as_of"))), ""
        except ValidationError as exc:
            return None, " ".join([*exc.messages, _("Shown as of today.")])

    @staticmethod
    def _score(request) -> tuple[report_rules.ScoreSource, str]:
        """The ?score= the figures are on (ai, the default, or reviewed), and what is wrong with it, if anything."""
        try:
            return report_rules.clean_score_source(request.GET.get("score")), ""
        except ValidationError as exc:
            return report_rules.ScoreSource.AI, " ".join([*exc.messages, _("Shown on the AI score.")])

    @staticmethod
    def _score_choices(score: report_rules.ScoreSource) -> list[tuple[str, str, bool]]:
        return [(choice.value, capfirst(choice.label), choice == score)
                for choice in report_rules.ScoreSource]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {"title": _("Participant"), **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and policy.may_manage_queues(request.user):
            # The link form (posted to qa.agents.views.participant_agent): which account sees this participant's calls.
            context["agent_link"] = {"url": reverse("admin:qa_participant_agent", args=[obj.pk]),
                                     "username": obj.agent_user.get_username() if obj.agent_user_id else ""}
        if obj is not None and obj.heify_id:
            as_of, as_of_error = self._as_of(request)
            # The calls up to the asked page are read as raw_data; the figures cover every included call.
            asked = request.GET.get("calls_page", "")
            asked = int(asked) if asked.isdigit() and 0 < int(asked) < 10**6 else 1
            score, score_error = self._score(request)
            leave_out = blinding.blind_heify_ids(request.user, obj.heify_id)
            report, context["criteria_rows"], context["review"] = analytics.participant_dashboard(
                obj, as_of=as_of, calls_shown=asked * self.CALLS_PER_PAGE, leave_out=leave_out, score=score)
            # Coaching sessions on the trend, and their focus criteria before and after (one query).
            context["coaching"] = coaching_effect.coaching_effect(obj, as_of=as_of, leave_out=leave_out)
            context.update({"report": report, "as_of": as_of, "as_of_error": as_of_error, "score": score,
                            "score_error": score_error, "score_choices": self._score_choices(score),
                            "trend_label": trend_label(report["trend"]["direction"]),
                            "review_rows": [(_("Reviewed calls"), context["review"]["reviewed"]),
                                            (_("All calls"), context["review"]["all_calls"])]})
            context["chart_data"] = {
                "timeline": report["charts"]["timeline"],
                "distribution": report["score_distribution"],
                "coaching": coaching_effect.timeline_marks(context["coaching"]),
            }
            page = Paginator(NewestCalls(report), self.CALLS_PER_PAGE).get_page(asked)
            known = revisions.with_evaluator_revision(obj.transcriptions.filter(heify_id__in=[c["id"] for c in page]))
            # Both scores of each call shown, whichever the figures are on.
            pks = {heify_id: (pk, revision, scores) for heify_id, pk, revision, *scores in known.values_list(
                "heify_id", "pk", "evaluator_revision", "score", "critical_fail_triggered", "reviewed_at",
                "reviewed_score", "reviewed_score_low", "reviewed_score_high", "reviewed_critical")}
            context["calls_page"] = page
            context["calls_query"] = (f"as_of={as_of.isoformat()}&" if as_of else "") + (
                f"score={score.value}&" if score != report_rules.ScoreSource.AI else "")
            context["export_query"] = context["calls_query"].rstrip("&")
            context["all_calls_url"] = (reverse("admin:qa_transcription_changelist")
                                        + f"?participant__heify_id__exact={obj.heify_id}")
            context["calls"] = [
                {**call, "when": short_datetime(datetime.fromisoformat(call["date"])),
                 "score_shown": score_with_critical(call["score"], call["critical"] or False),
                 **self._both_scores(pks[call["id"]][2] if call["id"] in pks else None),
                 "failed_criteria": call["failed_criteria"] or [],
                 "duration_shown": format_duration(call["duration"]),
                 "group_label": rules.group_label(call["group"]).capitalize() if call["group"] else "",
                 "review_url": reverse("admin:qa_reviewitem_change", args=[pks[call["id"]][0]])
                 if call["id"] in pks else "", "evaluator_revision": pks.get(call["id"], (None, None))[1]}
                for call in page
            ]
            context["durations"] = {
                key: format_duration(report["duration_insights"]["thresholds"][key]) for key in ("p25", "p75")
            } if report["duration_insights"].get("thresholds") else {}
            context["evaluator_rows"] = [
                {**e, "avg_duration_shown": format_duration(e["avg_duration"])} for e in report["evaluators"]]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _both_scores(scores: Sequence | None) -> dict:
        """A call's AI score and its reviewed score (the score of record: its range where it is not exact), as
        the calls table shows them side by side; the reviewed one empty until a reviewer gave a verdict."""
        if scores is None:
            return {"ai_shown": "", "reviewed_shown": "", "reviewed": False}
        ai, ai_critical, reviewed_at, reviewed, low, high, reviewed_critical = scores
        shown = ""
        if reviewed_at is not None:
            shown = score_with_critical(report_rules.of_record(ai, reviewed),
                                        report_rules.of_record(ai_critical, reviewed_critical))
            if low is not None and high is not None and low != high:
                shown = format_html('{} <span class="qa-quiet" title="{}">({})</span>', shown,
                                    _("Not exact: a scale value the score needs is not known."),
                                    format_points(low, high))
        return {"ai_shown": score_with_critical(ai, ai_critical), "reviewed_shown": shown,
                "reviewed": reviewed_at is not None}

    def team_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sort = request.GET.get("o", "tag")
        descending = sort.startswith("-")
        as_of, as_of_error = self._as_of(request)
        score, score_error = self._score(request)
        rows = team.team_overview(as_of=as_of, sort=sort.lstrip("-"), descending=descending, reader=request.user,
                                  score=score)
        kept = {key: value for key, value in (("as_of", as_of and as_of.isoformat()), ("score", score.value))
                if value and (key, value) != ("score", report_rules.ScoreSource.AI.value)}
        other = next(source for source in report_rules.ScoreSource if source != score)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Team overview"),
            "opts": self.model._meta,
            "rows": [{**row, "other": row["scores"][other.value], "trend_label": trend_label(row["trend"]["direction"])}
                     for row in rows],
            "sort": sort,
            "as_of_error": as_of_error,
            "score": score,
            "score_error": score_error,
            "score_choices": self._score_choices(score),
            "kept_query": urlencode(kept),
            "columns": [("tag", _("Participant")), ("calls", _("Calls")), ("reviewed_calls", _("Reviewed calls")),
                        ("avg_score", _("Avg score")), ("pass_rate", _("Pass rate %")),
                        ("critical_fails", _("Critical fails")),
                        ("pending_critical_reviews", _("Pending critical reviews")), ("trend", _("Trend"))],
            # Each row's figures on the other score, shown beside its own where they differ.
            "other_score": other,
        }
        return TemplateResponse(request, "admin/qa/participant/team.html", context)

    def heify_report_view(self, request, pk: int):
        """Heify's own report beside ours. Asking costs one call of Heify's monthly analytics quota, so it is
        a QA manager's permission, and a report fetched today is shown again instead of asking twice."""
        # The permission before the lookup: without it, 403 whether the participant exists or not.
        if not self.has_view_permission(request) or not policy.may_compare_with_heify(request.user):
            raise PermissionDenied(_("Asking Heify for its report uses its monthly quota: QA managers only."))
        participant = get_object_or_404(self.get_queryset(request), pk=pk)
        if blinding.blind_heify_ids(request.user, participant.heify_id):
            raise PermissionDenied(blinding.HEIFY_REPORT_WHILE_BLIND)
        ours = analytics.participant_report(participant)
        stored, problem = heify.participant_report(participant.heify_id, ask=False), ""
        if request.method == "POST" and stored is None:
            try:
                stored = heify.participant_report(participant.heify_id)
            except heify.QuotaExceeded:
                problem = _("Heify's monthly analytics quota is used up (429): its report cannot be asked for now.")
            except heify.Unavailable as exc:
                problem = _("Heify could not answer: %(reason)s") % {"reason": exc.message}
        theirs = stored.report if stored is not None else None
        sections = [key for key in ours if key != "metadata"]
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(participant)s: Heify's report beside ours") % {"participant": participant},
            "opts": self.model._meta,
            "original": participant,
            "problem": problem,
            "fetched_at": stored.fetched_at if stored is not None else None,
            "ours": json.dumps(ours, indent=2, ensure_ascii=False),
            "theirs": json.dumps(theirs, indent=2, ensure_ascii=False) if theirs is not None else "",
            "agreement": [(key, isinstance(theirs, dict) and theirs.get(key) == ours[key]) for key in sections]
            if isinstance(theirs, dict) else [],
        }
        return TemplateResponse(request, "admin/qa/participant/heify_report.html", context)

    def save_with_service(self, form, formsets, *, acting_user):
        services.participant_save(
            participant=form.instance,
            data=form.cleaned_data,
            expected_version=form.cleaned_data.get("based_on_version"), acting_user=acting_user,
        )
