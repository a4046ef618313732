"""Admin for participants: metadata edited and saved as one whole object."""

import json
from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from qa import analytics, heify, roles, rules, services, team
from qa.admin.base import HeifyObjectAdmin, PrettyJSONField, VersionedForm, apply_rule
from qa.admin.exports import ParticipantExportMixin
from qa.models import Participant

DASHBOARD_CALLS = 200  # the newest calls the dashboard lists


class ParticipantForm(VersionedForm):
    metadata = PrettyJSONField(
        name="metadata",
        required=False,
        help_text="The whole metadata object. Saving replaces it entirely, as Heify does: "
        "a key you remove here is removed in Heify.",
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


@admin.register(Participant)
class ParticipantAdmin(ParticipantExportMixin, HeifyObjectAdmin):
    form = ParticipantForm
    list_display = ("tag", "metadata_keys", "sync_state_badge", "remote_updated_at")
    list_filter = ("sync_state",)
    search_fields = ("tag", "heify_id")

    class Media:
        css = {"all": ("qa/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ("tag", "metadata", "based_on_version")}),
            ("Heify", {"fields": (*self.sync_fields, "remote_updated_at"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*self.sync_fields, "remote_updated_at")

    @admin.display(description="metadata")
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

    @staticmethod
    def _as_of(request) -> date | None:
        """The day asked for in ?as_of=, by the rule the API uses; a bad one is said, and today shown."""
        try:
            return rules.clean_report_date(request.GET.get("as_of"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages) + " The report shows today instead.")
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.heify_id:
            as_of = self._as_of(request)
            # The page lists the newest calls only; all of them are on the call list, linked from there.
            report = analytics.participant_report(obj, as_of=as_of, calls_shown=DASHBOARD_CALLS)
            context["report"], context["as_of"] = report, as_of
            context["chart_data"] = {
                "timeline": report["charts"]["timeline"],
                "distribution": report["score_distribution"],
            }
            shown = report["raw_data"][:DASHBOARD_CALLS]
            pks = dict(obj.transcriptions.filter(heify_id__in=[c["id"] for c in shown]).values_list("heify_id", "pk"))
            context["all_calls_url"] = (reverse("admin:qa_transcription_changelist")
                                        + f"?participant__heify_id__exact={obj.heify_id}")
            context["calls"] = [
                {**call, "review_url": reverse("admin:qa_reviewitem_change", args=[pks[call["id"]]])
                 if call["id"] in pks else ""}
                for call in shown
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def team_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sort = request.GET.get("o", "tag")
        descending = sort.startswith("-")
        rows = team.team_overview(as_of=self._as_of(request), sort=sort.lstrip("-"), descending=descending)
        context = {
            **self.admin_site.each_context(request),
            "title": "Team overview",
            "opts": self.model._meta,
            "rows": rows,
            "sort": sort,
            "columns": [("tag", "Participant"), ("calls", "Calls"), ("avg_score", "Avg score"),
                        ("pass_rate", "Pass rate %"), ("critical_fails", "Critical fails"),
                        ("pending_critical_reviews", "Pending critical reviews"), ("trend", "Trend")],
        }
        return TemplateResponse(request, "admin/qa/participant/team.html", context)

    def heify_report_view(self, request, pk: int):
        """Heify's own report beside ours. Asking costs one call of Heify's monthly analytics quota, so it is
        a QA manager's permission, and a report fetched today is shown again instead of asking twice."""
        participant = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, participant) or not request.user.has_perm(roles.COMPARE_WITH_HEIFY):
            raise PermissionDenied("Asking Heify for its report uses its monthly quota: QA managers only.")
        ours = analytics.participant_report(participant)
        stored, problem = heify.participant_report(participant.heify_id, ask=False), ""
        if request.method == "POST" and stored is None:
            try:
                stored = heify.participant_report(participant.heify_id)
            except heify.QuotaExceeded:
                problem = "Heify's monthly analytics quota is used up (429): its report cannot be asked for now."
            except heify.Unavailable as exc:
                problem = f"Heify could not answer: {exc.message}"
        theirs = stored.report if stored is not None else None
        sections = [key for key in ours if key != "metadata"]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{participant}: Heify's report beside ours",
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

    def save_with_service(self, form, formsets):
        services.participant_save(
            participant=form.instance,
            data=form.cleaned_data,
            expected_version=form.cleaned_data.get("based_on_version"),
        )
