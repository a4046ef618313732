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
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from qa import db
from qa.mirror import call_search, revisions, rules, services
from qa.mirror.admin.base import AuditHistoryMixin, GoneAwareAdmin, GoneFilter
from qa.mirror.admin.paging import capped_paginator
from qa.mirror.models import (
    CRITERION_TYPE_CHOICES,
    GROUP_CHOICES,
    Configuration,
    Evaluator,
    Participant,
    Transcription,
)
from qa.mirror.rules import Group, Status
from qa.reviews import blinding, queues
from qa.reviews.admin.audit import readable
from qa.reviews.admin.exports import CallListExportMixin


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"), help_text=gettext_lazy("The call's audio or video file."))
    configuration = forms.ModelChoiceField(
        Configuration.objects.filter(heify_id__isnull=False, gone_at__isnull=True),
        label=gettext_lazy("Configuration"),
        help_text=gettext_lazy("How Heify processes it (language, vocabulary, extraction fields)."),
    )
    evaluator = forms.ModelChoiceField(
        Evaluator.objects.filter(heify_id__isnull=False, gone_at__isnull=True), required=False,
        label=gettext_lazy("Evaluator"), help_text=gettext_lazy("The scorecard to evaluate it with (optional)."),
    )
    participant = forms.ModelChoiceField(
        Participant.objects.filter(heify_id__isnull=False, gone_at__isnull=True), required=False,
        label=gettext_lazy("Participant"), help_text=gettext_lazy("The agent on the call (optional)."),
    )
    name = forms.CharField(max_length=500, required=False, label=gettext_lazy("Name"),
                           help_text=gettext_lazy("Defaults to the file name."))


NO_GROUP = "none"
# What a rater who has not submitted their calibration answers on a call is shown instead of the AI's verdicts.
AI_HIDDEN = gettext_lazy("Hidden until you submit your calibration answers on this call.")
AI_HIDDEN_ROW = {"passed": None, "value": None, "points_range": None, "points": ""}
AI_FACTS = ("AI score", "Critical fail", "Reviewed score")  # the reviewed one tells the others' verdicts


def critical_badge() -> str:
    return format_html('<span class="qa-badge qa-critical">{}</span>', _("Critical"))


MISSING_HINT = gettext_lazy("Not in the back office (deleted in Heify, or not synced yet)")

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
    """A score or points as people write them in the active language: 86.7, 86,7 in Spanish; never 86.0."""
    return "" if score is None else f"{round(score, 1):g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))


VOID_SCORE_HINT = gettext_lazy("A critical criterion failed: the call fails whatever its score, so the score does not "
                               "count.")


def score_with_critical(score: float | None, critical: bool, *, text: str | None = None) -> str:
    """The score as a person must read it (`text`, if given, for the figure): struck through, with the reason,
    when a critical fail voids it."""
    shown = format_score(score) if text is None else text
    if not critical:
        return shown
    if score is None:
        return critical_badge()
    return format_html('<span class="qa-void-score" title="{}"><s>{}</s> {}</span>', VOID_SCORE_HINT,
                       shown, critical_badge())


# The score of record (qa.reviews.record), where it cannot be one figure, or none.
INEXACT_HINT = gettext_lazy("Not exact: Heify gave only passed or failed on a scale criterion and its score does not "
                            "settle the value, so the score of record lies in this range; reports count its middle.")
NO_RECORD_HINT = gettext_lazy("No score of record: the criteria that scored this call are not known here, so the "
                              "reviewer's results cannot be scored; reports read the AI's score.")


def reviewed_score_html(*, reviewed_at, score: float | None, low: float | None, high: float | None,
                        critical: bool | None, compact: bool = False) -> str:
    """The score of record as the pages show it beside the AI's: "60", or where it cannot be exact its middle and
    range, "64 (48–80)" (`compact`, for a list's column: the range alone, its middle on hover); "" for a call not
    reviewed."""
    if reviewed_at is None:
        return ""
    if score is None and not critical:
        return format_html('<span class="qa-quiet" title="{}">{}</span>', NO_RECORD_HINT, _("none"))
    text = format_score(score)
    if score is not None and low is not None and high is not None and round(low, 1) != round(high, 1):
        shown = format_points(low, high) if compact else f"{text} ({format_points(low, high)})"
        text = format_html('<span class="qa-inexact" title="{} {}">{}</span>', INEXACT_HINT,
                           _("Its middle: %(middle)s.") % {"middle": text}, shown)
    return score_with_critical(score, bool(critical), text=text)


# The columns reviewed_score_html reads, for lists that read values() rather than calls.
REVIEWED_SCORE_FIELDS = ("reviewed_at", "reviewed_score", "reviewed_score_low", "reviewed_score_high",
                         "reviewed_critical")


def call_reviewed_score(call, *, compact: bool = False) -> str:
    """reviewed_score_html of a Transcription."""
    return reviewed_score_html(reviewed_at=call.reviewed_at, score=call.reviewed_score, low=call.reviewed_score_low,
                               high=call.reviewed_score_high, critical=call.reviewed_critical, compact=compact)


def row_reviewed_score(row: dict | None, *, compact: bool = True) -> str:
    """reviewed_score_html of a values() row holding REVIEWED_SCORE_FIELDS ("" for None), for a list."""
    if not row:
        return ""
    return reviewed_score_html(reviewed_at=row["reviewed_at"], score=row["reviewed_score"],
                               low=row["reviewed_score_low"], high=row["reviewed_score_high"],
                               critical=row["reviewed_critical"], compact=compact)


def format_points(low: float, high: float) -> str:
    return format_score(low) if round(low, 1) == round(high, 1) else f"{format_score(low)}–{format_score(high)}"


def format_weight(weight: Decimal | None) -> str:
    return "" if weight is None else format(weight.normalize(), "f")


def format_datetime(value) -> str:
    return "" if value is None else formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def short_datetime(value) -> str:
    """A local date for a list: "1 Dec 17:35" this year, "12 Nov 2025" before; the whole one on hover."""
    local = timezone.localtime(value)
    short = "j M H:i" if local.year == timezone.localtime().year else "j M Y"
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(),
                       local.strftime("%Y-%m-%d %H:%M"), formats.date_format(local, short))  # digits: no l10n


def cut(text: str, css: str = "qa-cut") -> str:
    """A name cut to its column's width (by CSS), whole on hover."""
    return format_html('<span class="{}" title="{}">{}</span>', css, text, text)


def status_badge(obj: Transcription) -> str:
    return format_html(
        '<span class="qa-badge qa-status-{}">{}</span>', obj.status.lower(), obj.get_status_display()
    )


def format_field_value(value: Any) -> str:
    """An extracted value as a person reads it: lists joined, booleans as Yes/No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
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
        speaker = str(segment.get("speaker") or _("Unknown speaker"))
        if speaker not in roles:
            roles[speaker] = (AGENT, CUSTOMER)[len(roles)] if len(roles) < 2 else OTHER
        turns.append({"speaker": speaker, "role": roles[speaker], "text": segment.get("text") or ""})
    return turns


# What no list of calls shows: Heify's payloads (the call's and its relations'), the conversation, the extracted
# fields and the results (the detail page reads those). A list's rows are read without them.
LIST_DEFERRED = ("raw", "segments", "summary", "fields", "criteria_results", "failed_criteria", "error",
                 "reviewed_results", "reviewed_failed_criteria", "configuration__raw", "evaluator__raw",
                 "participant__raw")
ROW_PK = "2147483647"  # stands for a row's pk in the page's one link, replaced row by row


class CallChangeList(ChangeList):
    """A list of calls: its rows without the columns it does not show (LIST_DEFERRED), and the link of every row
    built once for the page. Django reverses each row's URL and resolves it again to add the list's filters
    (add_preserved_filters), the larger part of a 50-row page's time; here the first row's link, built that way,
    is the pattern of the others (their pk in its place), and the filters are in it already."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.row_link = add_preserved_filters(
            {"preserved_filters": self.preserved_filters, "opts": self.opts},
            super().url_for_result(self.model(pk=ROW_PK)))
        self.preserved_filters = ""  # in row_link: items_for_result adds nothing more

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*LIST_DEFERRED)

    def url_for_result(self, result):
        return self.row_link.replace(f"/{ROW_PK}/", f"/{quote(result.pk)}/", 1)


class RelatedOrNoneFilter(admin.RelatedFieldListFilter):
    """Django's related-object filter, with "No evaluator" instead of "-" for the empty choice."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.empty_value_display = _("No %(what)s") % {"what": self.title}

    def queryset(self, request, queryset):
        found = super().queryset(request, queryset)
        if self.used_parameters.get(self.lookup_kwarg_isnull) == [True]:
            # SQLite would take "no evaluator" to match a quarter of the calls and walk the list's date index,
            # reading every call when none matches (307 against 0.7 ms at 100,000 calls). Told it is rare, it
            # reads the few through the evaluator's index.
            found = db.rare_hinted(found, Q(**{f"{self.field_path}__isnull": True}))
        return found


class GroupFilter(admin.SimpleListFilter):
    """The review groups, plus the calls in no group (Heify's null)."""

    title = gettext_lazy("group")
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [*GROUP_CHOICES, (NO_GROUP, _("No group"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == NO_GROUP:
            return queryset.filter(group__isnull=True)
        if value in rules.GROUPS:
            return queryset.filter(group=value)
        return queryset


@admin.register(Transcription)
class TranscriptionAdmin(AuditHistoryMixin, CallListExportMixin, GoneAwareAdmin, admin.ModelAdmin):
    # Fits a 1280 px screen beside the filters: the critical fail is shown in the score's cell,
    # names are cut with the whole name on hover, dates are short (the whole one on hover).
    list_display = [
        "name_display", "result_display", "reviewed_display", "group_display", "participant_display",
        "evaluator_display", "duration_display", "date_display",
    ]
    list_display_links = ["name_display"]
    list_filter = [
        "status", GroupFilter, ("evaluator", RelatedOrNoneFilter), ("participant", RelatedOrNoneFilter),
        "critical_fail_triggered", "occurred_at", GoneFilter,
    ]
    # Searched by get_search_results (qa.mirror.call_search), not by Django's join of every field.
    search_fields = ["name", "configuration_tag", "participant__tag", "evaluator__tag", "=heify_id"]
    search_help_text = gettext_lazy("A call's name, its configuration, agent or evaluator name (part of it), or a "
                                    "whole Heify id.")
    list_select_related = ["configuration", "evaluator", "participant"]
    list_per_page = 50
    # Counting a big table on every page, facet counts and date_hierarchy's
    # date queries are each a full scan: none of them here. The count of a
    # page stops at a cap (qa/mirror/admin/paging.py).
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    actions = ["move_to_pending", "move_to_archived", "move_to_no_group"]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return capped_paginator(request, queryset, per_page)

    def get_changelist(self, request, **kwargs):
        return CallChangeList

    def get_search_results(self, request, queryset, search_term):
        # Every list of calls (and its export) leaves out those its reader is calibrating blind
        # (qa.reviews.calibration).
        queryset = blinding.without_blind_calls(queryset, request.user)
        return queryset.filter(call_search.calls_matching(search_term)), False

    def audit_rows(self, request, obj):
        # The History page, as the Audit log: nothing of a call its reader scores blind.
        return readable(super().audit_rows(request, obj), request.user)

    class Media:
        css = {"all": ["qa/transcription.css"]}

    # Titles a QA person would use (Django's own read "Select transcription to view"); the lists
    # and the call's page leave out the navigation sidebar, so that they fit a 1280 px screen.
    list_title = gettext_lazy("All calls")
    detail_title = gettext_lazy("Call")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {
            "title": self.list_title, "is_nav_sidebar_enabled": False, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {
            "title": self.detail_title, "is_nav_sidebar_enabled": False, **(extra_context or {})})

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
                call = services.transcription_upload(**form.cleaned_data, acting_user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, _("“%(call)s” was sent to Heify; it is %(status)s.") % {
                    "call": call, "status": call.get_status_display()})
                return HttpResponseRedirect(reverse("admin:qa_transcription_change", args=[call.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upload a call to Heify"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/qa/transcription/upload.html", context)

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # The detail page is a template of its own (render_change_form's context), which shows no field of the
        # admin's read-only form: none is built (Django would make a form field of each of the call's columns
        # on every page view, to find out which fields there are).
        return []

    def has_delete_permission(self, request, obj=None):
        return False

    # --- bulk moves between queues (those qa.reviews.queues lets move calls) -------------------------

    def has_manage_permission(self, request):
        return queues.step_refusal(request.user, queues.Step.MOVE) is None

    def _bulk_move(self, request, queryset, group):
        try:
            moved = queues.transcriptions_move(
                ids=list(queryset.values_list("pk", flat=True)), group=group, acting_user=request.user,
                note="bulk move from a list of calls",
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return
        self.message_user(request, ngettext("%(count)s call moved to %(group)s.", "%(count)s calls moved to %(group)s.",
                                            moved) % {"count": moved, "group": rules.group_label(group)})

    @admin.action(description=gettext_lazy("Move to the pending-review queue"), permissions=["manage"])
    def move_to_pending(self, request, queryset):
        self._bulk_move(request, queryset, Group.PENDING_REVIEW)

    @admin.action(description=gettext_lazy("Archive"), permissions=["manage"])
    def move_to_archived(self, request, queryset):
        self._bulk_move(request, queryset, Group.ARCHIVED)

    @admin.action(description=gettext_lazy("Take out of every queue (no group)"), permissions=["manage"])
    def move_to_no_group(self, request, queryset):
        self._bulk_move(request, queryset, None)

    # --- changelist columns ------------------------------------------------------------

    @admin.display(description=gettext_lazy("call"), ordering="name")
    def name_display(self, obj):
        return cut(obj.name or obj.heify_id or str(obj), "qa-cut-name")

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description=gettext_lazy("AI score"), ordering="score")
    def result_display(self, obj):
        """The score of a completed call; the status of one Heify has not completed (it has no score)."""
        if obj.status != Status.COMPLETED:
            return status_badge(obj)
        return self.score_display(obj)

    @admin.display(description=gettext_lazy("group"), ordering="group")
    def group_display(self, obj):
        return rules.group_label(obj.group).capitalize() if obj.group else self.get_empty_value_display()

    @admin.display(description=gettext_lazy("participant"), ordering="participant__tag")
    def participant_display(self, obj):
        label = self._related_label(obj.participant, obj.participant_id)
        return cut(label) if obj.participant is not None else label

    @admin.display(description=gettext_lazy("evaluator"), ordering="evaluator__tag")
    def evaluator_display(self, obj):
        label = self._related_label(obj.evaluator, obj.evaluator_id)
        return cut(label) if obj.evaluator is not None else label

    @admin.display(description=gettext_lazy("AI score"), ordering="score")
    def score_display(self, obj):
        return score_with_critical(obj.score, obj.critical_fail_triggered) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("reviewed"))
    def reviewed_display(self, obj):
        """The score of record beside the AI's: the call's own columns, no query (qa.reviews.record)."""
        return call_reviewed_score(obj, compact=True) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("critical fail"), ordering="critical_fail_triggered")
    def critical_fail_display(self, obj):
        # A badge on the calls that failed, not Django's icons: its green tick
        # would read as "good" on exactly the calls that need attention.
        return critical_badge() if obj.critical_fail_triggered else ""

    @admin.display(description=gettext_lazy("duration"), ordering="duration")
    def duration_display(self, obj):
        return format_duration(obj.duration) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("date"), ordering="occurred_at")
    def date_display(self, obj):
        if obj.occurred_at is None:
            return self.get_empty_value_display()
        return short_datetime(obj.occurred_at)

    def _related_label(self, related: Model | None, heify_id: str | None, *, short: bool = True):
        """The related object's name, or its dangling Heify id when it is not here."""
        if related is not None:
            return str(related)
        if heify_id:
            return format_html(
                '<span class="qa-missing" title="{}: {}">{} · {}</span>',
                MISSING_HINT, heify_id, _("missing"), f"{heify_id[:8]}…" if short else heify_id,
            )
        return self.get_empty_value_display()

    # --- the detail page ----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.detail_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def detail_context(self, request, obj: Transcription) -> dict:
        """What the detail template shows; two queries beyond the call itself (the calls calibration hides from
        the reader, the criteria)."""
        blind = blinding.blind_call_ids(request.user)  # hides_ai_from, for this call and the ones it lists
        ai_hidden = obj.pk in blind
        criteria_rows = self._criteria_rows(obj)
        if ai_hidden:
            criteria_rows = [{**row, **AI_HIDDEN_ROW} for row in criteria_rows]
        return {
            "ai_hidden": AI_HIDDEN if ai_hidden else "",
            "blind_call_ids": blind,
            "facts": [(_(label), AI_HIDDEN if ai_hidden and label in AI_FACTS else value)
                      for label, value in self._facts(obj)],
            "turns": speaker_turns(obj.segments or []),
            "extracted_fields": [
                {"name": str(field.get("name") or ""), "value": format_field_value(field.get("value"))}
                for field in obj.fields or []
                if isinstance(field, dict)
            ],
            "criteria_rows": criteria_rows,
            "points_total": self._points_total(obj, criteria_rows),
            "review_url": "" if obj.gone_at else  # history: no review page, no step
            reverse("admin:qa_reviewitem_change", args=[obj.pk], current_app=self.admin_site.name),
            "transcription_url": reverse("admin:qa_transcription_change", args=[obj.pk],
                                         current_app=self.admin_site.name),
            "error_json": json.dumps(obj.error, indent=2, ensure_ascii=False) if obj.error else "",
            "error_message": obj.error.get("message", "") if isinstance(obj.error, dict) else "",
            "error_code": obj.error.get("code", "") if isinstance(obj.error, dict) else "",
        }

    def _facts(self, obj: Transcription) -> list[tuple[str, str]]:
        """The call's facts: (label, as marked: detail_context translates it; value, in the reader's language)."""
        critical = critical_badge() if obj.critical_fail_triggered else _("No")
        if obj.awaits_heify:
            sync_state = obj.get_sync_state_display().capitalize() + (f" ({obj.sync_error})" if obj.sync_error else "")
        elif obj.gone_at:
            sync_state = _("Deleted in Heify (%(when)s): kept as history, counted nowhere") % {
                "when": format_datetime(obj.gone_at)}
        elif obj.sync_error:
            sync_state = _("Sync error: %(error)s") % {"error": obj.sync_error}
        elif obj.synced_at:
            sync_state = _("In sync (last written %(when)s)") % {"when": format_datetime(obj.synced_at)}
        else:
            sync_state = _("Never synced")
        facts = [
            (gettext_noop("Status"), status_badge(obj)),
            (gettext_noop("Group"), obj.get_group_display() if obj.group else _("No group")),
            (gettext_noop("AI score"),
             format_html("{} <span class=\"qa-quiet\">— {}</span>", format_score(obj.score),
                         _("does not count: a critical criterion failed"))
             if obj.critical_fail_triggered and obj.score is not None else format_score(obj.score)),
            (gettext_noop("Critical fail"), critical),
            (gettext_noop("Reviewed score"), call_reviewed_score(obj) if obj.reviewed_at else _("Not reviewed yet")),
            (gettext_noop("Participant"), self._related_link(obj.participant, obj.participant_id, Participant)),
            (gettext_noop("Evaluator"), self._related_link(obj.evaluator, obj.evaluator_id, Evaluator)),
            (gettext_noop("Evaluator revision"), revisions.call_revision_label(obj)),
            (gettext_noop("Configuration"), obj.configuration_tag),
            (gettext_noop("Duration"), format_duration(obj.duration)),
            (gettext_noop("Language"), obj.language),
            (gettext_noop("Speakers"), "" if obj.num_speakers is None else str(obj.num_speakers)),
            (gettext_noop("Date"), format_datetime(obj.occurred_at)),
            (gettext_noop("Processing started"), format_datetime(obj.processing_started_at)),
            (gettext_noop("Completed"), format_datetime(obj.completed_at)),
            (gettext_noop("Heify ID"), format_html("<code>{}</code>", obj.heify_id) if obj.heify_id else ""),
            (gettext_noop("Sync"), _("%(state)s · version %(version)s") % {"state": sync_state,
                                                                          "version": obj.version}),
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
        """Each result Heify gave, with the type and weight its criterion had in the evaluator's revision that
        scored the call (pinned on the result, qa.mirror.criterion_results: its weights give the points, whatever
        the evaluator's criteria are now) and that revision's description of it; one query.

        A result whose criterion is not in that revision (renamed, or the
        evaluator is missing) still shows, without type, weight or description.
        """
        results = revisions.scored_results(obj)
        if results:
            obj.evaluator_revision = results[0].revision  # what the page's label says
        types = dict(CRITERION_TYPE_CHOICES)
        rows = []
        for result in results:
            kind, known = result.type, bool(result.type)
            scale = kind == rules.SCALE
            value = result.value if scale else None
            points = None
            if known and result.passed is not None:
                points = rules.criterion_points_range(kind, result.weight, passed=result.passed, value=value)
            rows.append({
                "name": result.name,
                "passed": result.passed,
                "value": value,
                "scale": scale,
                "known": known,
                "type": types.get(kind, "") if known else "",
                "strict": kind == rules.STRICT,
                "weight": format_weight(result.weight),
                "description": result.description,
                "points_range": points,
                "points": format_points(*points) if points else "",
            })
        return rows

    @staticmethod
    def _points_total(obj: Transcription, rows: list[dict]) -> dict | None:
        """The sum of the criteria's points beside Heify's score, so a reader can check it by hand."""
        if not rows or obj.score is None or any(row["points_range"] is None for row in rows):
            return None
        low = sum(row["points_range"][0] for row in rows)
        high = sum(row["points_range"][1] for row in rows)
        return {"points": format_points(low, high), "exact": round(low, 1) == round(high, 1),
                "score": format_score(obj.score), "critical": obj.critical_fail_triggered,
                "void_hint": VOID_SCORE_HINT}
