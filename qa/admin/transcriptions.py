"""Admin for transcriptions: a read-only window on the calls Heify processed.

Calls come only from Heify, through syncer.mirror; nobody adds, edits or
deletes one here. The changelist is declarations; the detail page is a
template (templates/admin/qa/transcription/change_form.html) fed by
`render_change_form`, which reads the call and its evaluator's criteria in a
fixed, small number of queries.

Relations point at Heify ids with no database constraint, so a call's
evaluator or participant may be missing here (deleted in Heify, or not synced
yet): every screen joins them (a missing one comes back as None) and shows the
dangling id instead of failing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import Model, Q
from django.db.models.expressions import RawSQL
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from qa import rules, services
from qa.admin.exports import CallListExportMixin
from qa.admin.paging import capped_paginator
from qa.models import (
    CALL_SEARCH_TABLE,
    GROUP_CHOICES,
    Configuration,
    Criterion,
    Evaluator,
    Participant,
    Transcription,
)


class UploadForm(forms.Form):
    file = forms.FileField(help_text="The call's audio or video file.")
    configuration = forms.ModelChoiceField(
        Configuration.objects.filter(heify_id__isnull=False, gone_at__isnull=True),
        help_text="How Heify processes it (language, vocabulary, extraction fields).",
    )
    evaluator = forms.ModelChoiceField(
        Evaluator.objects.filter(heify_id__isnull=False, gone_at__isnull=True), required=False,
        help_text="The scorecard to evaluate it with (optional).",
    )
    participant = forms.ModelChoiceField(
        Participant.objects.filter(heify_id__isnull=False, gone_at__isnull=True), required=False,
        help_text="The agent on the call (optional).",
    )
    name = forms.CharField(max_length=500, required=False, help_text="Defaults to the file name.")


NO_GROUP = "none"
CRITICAL_BADGE = format_html('<span class="qa-badge qa-critical">{}</span>', "Critical")
MISSING_HINT = "Not in the back office (deleted in Heify, or not synced yet)"

# Heify labels speakers SPEAKER_00, SPEAKER_01... and does not say who is who.
# We assume the first voice heard is the agent's (calls open with the agent's
# greeting); the labels Heify gave are shown on every turn, so a wrong guess
# only swaps the colours.
AGENT, CUSTOMER, OTHER = "agent", "customer", "other"


def format_duration(seconds: float | None) -> str:
    """Seconds as m:ss (185.4 -> 3:05); minutes are not folded into hours."""
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def format_score(score: float | None) -> str:
    return "" if score is None else f"{round(score, 1):g}"


def format_weight(weight: Decimal | None) -> str:
    return "" if weight is None else format(weight.normalize(), "f")


def format_datetime(value) -> str:
    return "" if value is None else formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def status_badge(obj: Transcription) -> str:
    return format_html(
        '<span class="qa-badge qa-status-{}">{}</span>', obj.status.lower(), obj.get_status_display()
    )


def format_field_value(value: Any) -> str:
    """An extracted value as a person reads it: lists joined, booleans as Yes/No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(not isinstance(item, (list, dict)) for item in value):
        return ", ".join(format_field_value(item) for item in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def speaker_turns(segments: list) -> list[dict]:
    """Heify's segments as turns, each with its speaker's label and role."""
    roles: dict[str, str] = {}
    turns = []
    for segment in segments:
        if not isinstance(segment, dict):
            continue
        speaker = str(segment.get("speaker") or "Unknown speaker")
        if speaker not in roles:
            roles[speaker] = (AGENT, CUSTOMER)[len(roles)] if len(roles) < 2 else OTHER
        turns.append({"speaker": speaker, "role": roles[speaker], "text": segment.get("text") or ""})
    return turns


def call_search(search_term: str) -> Q:
    """What the list's search box finds: calls where every word of `search_term` (a quoted phrase is one word)
    is in the call's name or configuration tag, or in its participant's or evaluator's name, or is the whole
    Heify id of the call, its participant or its evaluator.

    Each condition is one an index serves (a trigram index on the names: pg_trgm on PostgreSQL, FTS5's on
    SQLite; the Heify id columns' B-trees): the agents and evaluators a word names are looked up first, in
    their own small tables, so the call table is searched by their ids rather than joined and scanned.
    """
    found = Q()
    for word in smart_split(search_term):
        if word[:1] in ('"', "'") and word[0] == word[-1]:
            word = unescape_string_literal(word)
        participants = list(Participant.objects.filter(tag__icontains=word).values_list("heify_id", flat=True))
        evaluators = list(Evaluator.objects.filter(tag__icontains=word).values_list("heify_id", flat=True))
        found &= (
            _text_search(word)
            | Q(heify_id=word) | Q(participant_id=word) | Q(evaluator_id=word)
            | Q(participant_id__in=[p for p in participants if p]) | Q(evaluator_id__in=[e for e in evaluators if e])
        )
    if connections[Transcription.objects.db].vendor == "sqlite" and found:
        # SQLite walks the list's date index and reads each row to test the OR; the matching ids first (each
        # term by its own index), then the walk only looks them up in that set.
        return Q(pk__in=Transcription.objects.filter(found).values("pk"))
    return found


def _text_search(word: str) -> Q:
    """Calls whose name or configuration tag contains `word`, any case."""
    if connections[Transcription.objects.db].vendor == "sqlite" and len(word) >= 3:
        # FTS5's trigram index (migration 0006): a phrase matches wherever its trigrams follow one another, as
        # a substring does; words shorter than a trigram are read from the table, as below.
        phrase = '"' + word.replace('"', '""') + '"'
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {CALL_SEARCH_TABLE} WHERE {CALL_SEARCH_TABLE} MATCH %s",
                               [phrase]))
    return Q(name__icontains=word) | Q(configuration_tag__icontains=word)


class RelatedOrNoneFilter(admin.RelatedFieldListFilter):
    """Django's related-object filter, with "No evaluator" instead of "-" for the empty choice."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.empty_value_display = f"No {self.title}"


class GroupFilter(admin.SimpleListFilter):
    """The review groups, plus the calls in no group (Heify's null)."""

    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [*GROUP_CHOICES, (NO_GROUP, "No group")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == NO_GROUP:
            return queryset.filter(group__isnull=True)
        if value in rules.GROUPS:
            return queryset.filter(group=value)
        return queryset


@admin.register(Transcription)
class TranscriptionAdmin(CallListExportMixin, admin.ModelAdmin):
    list_display = [
        "name", "status_display", "group", "participant_display", "evaluator_display", "score_display",
        "critical_fail_display", "duration_display", "date_display",
    ]
    list_filter = [
        "status", GroupFilter, ("evaluator", RelatedOrNoneFilter), ("participant", RelatedOrNoneFilter),
        "critical_fail_triggered", "occurred_at",
    ]
    # Searched by get_search_results (call_search), not by Django's join of every field.
    search_fields = ["name", "configuration_tag", "participant__tag", "evaluator__tag", "=heify_id"]
    search_help_text = "A call's name, its configuration, agent or evaluator name (part of it), or a whole Heify id."
    list_select_related = ["configuration", "evaluator", "participant"]
    list_per_page = 50
    # Counting a big table on every page, facet counts and date_hierarchy's
    # date queries are each a full scan: none of them here. The count of a
    # page stops at a cap (qa/admin/paging.py).
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return capped_paginator(request, queryset, per_page)

    def get_search_results(self, request, queryset, search_term):
        return queryset.filter(call_search(search_term)), False

    class Media:
        css = {"all": ["qa/transcription.css"]}

    def get_queryset(self, request):
        # The detail page shows the evaluator and participant too: join them
        # there as well, so no screen fetches a related object on its own.
        return super().get_queryset(request).select_related(*self.list_select_related)

    # --- read-only: Heify is the source of every call ---------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a transcription means uploading a call to Heify (qa.add_transcription);
        the call itself is never edited here."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                call = services.transcription_upload(**form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, f"“{call}” was sent to Heify; it is {call.get_status_display()}.")
                return HttpResponseRedirect(reverse("admin:qa_transcription_change", args=[call.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a call to Heify",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/qa/transcription/upload.html", context)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- changelist columns ------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description="participant", ordering="participant__tag")
    def participant_display(self, obj):
        return self._related_label(obj.participant, obj.participant_id)

    @admin.display(description="evaluator", ordering="evaluator__tag")
    def evaluator_display(self, obj):
        return self._related_label(obj.evaluator, obj.evaluator_id)

    @admin.display(description="score", ordering="score")
    def score_display(self, obj):
        return format_score(obj.score) or self.get_empty_value_display()

    @admin.display(description="critical fail", ordering="critical_fail_triggered")
    def critical_fail_display(self, obj):
        # A badge on the calls that failed, not Django's icons: its green tick
        # would read as "good" on exactly the calls that need attention.
        return CRITICAL_BADGE if obj.critical_fail_triggered else ""

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, obj):
        return format_duration(obj.duration) or self.get_empty_value_display()

    @admin.display(description="date", ordering="occurred_at")
    def date_display(self, obj):
        if obj.occurred_at is None:
            return self.get_empty_value_display()
        return formats.date_format(timezone.localtime(obj.occurred_at), "Y-m-d H:i")

    def _related_label(self, related: Model | None, heify_id: str | None, *, short: bool = True):
        """The related object's name, or its dangling Heify id when it is not here."""
        if related is not None:
            return str(related)
        if heify_id:
            return format_html(
                '<span class="qa-missing" title="{}: {}">missing · {}</span>',
                MISSING_HINT, heify_id, f"{heify_id[:8]}…" if short else heify_id,
            )
        return self.get_empty_value_display()

    # --- the detail page ----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.detail_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def detail_context(self, request, obj: Transcription) -> dict:
        """What the detail template shows; one query beyond the call itself."""
        return {
            "facts": self._facts(obj),
            "turns": speaker_turns(obj.segments or []),
            "extracted_fields": [
                {"name": str(field.get("name") or ""), "value": format_field_value(field.get("value"))}
                for field in obj.fields or []
                if isinstance(field, dict)
            ],
            "criteria_rows": self._criteria_rows(obj),
            "error_json": json.dumps(obj.error, indent=2, ensure_ascii=False) if obj.error else "",
            "error_message": obj.error.get("message", "") if isinstance(obj.error, dict) else "",
            "error_code": obj.error.get("code", "") if isinstance(obj.error, dict) else "",
        }

    def _facts(self, obj: Transcription) -> list[tuple[str, str]]:
        critical = CRITICAL_BADGE if obj.critical_fail_triggered else "No"
        if obj.awaits_heify:
            sync_state = obj.get_sync_state_display().capitalize() + (f" ({obj.sync_error})" if obj.sync_error else "")
        elif obj.sync_error:
            sync_state = f"Sync error: {obj.sync_error}"
        elif obj.synced_at:
            sync_state = f"In sync (last written {format_datetime(obj.synced_at)})"
        else:
            sync_state = "Never synced"
        facts = [
            ("Status", status_badge(obj)),
            ("Group", obj.get_group_display() if obj.group else "No group"),
            ("Score", format_score(obj.score)),
            ("Critical fail", critical),
            ("Participant", self._related_link(obj.participant, obj.participant_id, Participant)),
            ("Evaluator", self._related_link(obj.evaluator, obj.evaluator_id, Evaluator)),
            ("Configuration", obj.configuration_tag),
            ("Duration", format_duration(obj.duration)),
            ("Language", obj.language),
            ("Speakers", "" if obj.num_speakers is None else str(obj.num_speakers)),
            ("Date", format_datetime(obj.occurred_at)),
            ("Processing started", format_datetime(obj.processing_started_at)),
            ("Completed", format_datetime(obj.completed_at)),
            ("Heify ID", format_html("<code>{}</code>", obj.heify_id) if obj.heify_id else ""),
            ("Sync", f"{sync_state} · version {obj.version}"),
        ]
        return [(label, value if value != "" else self.get_empty_value_display()) for label, value in facts]

    def _related_link(self, related: Model | None, heify_id: str | None, model: type[Model]):
        if related is None:
            return self._related_label(related, heify_id, short=False)
        if not self.admin_site.is_registered(model):
            return str(related)
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[related.pk], current_app=self.admin_site.name,
            )
        except NoReverseMatch:
            return str(related)
        return format_html('<a href="{}">{}</a>', url, related)

    def _criteria_rows(self, obj: Transcription) -> list[dict]:
        """Each result Heify gave, with its criterion from the evaluator matched by name.

        A result whose criterion is no longer in the evaluator (renamed, or the
        evaluator is missing) still shows, without type, weight or description.
        """
        results = [result for result in obj.criteria_results or [] if isinstance(result, dict)]
        criteria: dict[str, Criterion] = {}
        if results and obj.evaluator is not None:
            for criterion in Criterion.objects.filter(evaluator=obj.evaluator).order_by("-position", "-id"):
                criteria[criterion.name] = criterion  # the first of two same-named criteria wins
        rows = []
        for result in results:
            name = str(result.get("name") or "")
            criterion = criteria.get(name)
            passed = result.get("passed")
            rows.append({
                "name": name,
                "passed": passed if isinstance(passed, bool) else None,
                "value": result.get("value"),
                "known": criterion is not None,
                "type": criterion.get_type_display() if criterion else "",
                "strict": criterion is not None and criterion.type == rules.STRICT,
                "weight": format_weight(criterion.weight) if criterion else "",
                "description": criterion.description if criterion else "",
            })
        return rows
