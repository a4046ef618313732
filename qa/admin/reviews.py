"""Admin for the review queues: the reviewer's daily screen and the review page.

The queue list and the review page are the transcription screens
(qa/admin/transcriptions.py) with the review's own columns, filters, buttons
and forms on top. Every button posts to one view that calls qa.queues; the
rules of what may move where live there and in qa.rules, and the page shows
the buttons and forms qa.queues.allowed_steps allows, nothing it restates.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone

from qa import queues, rules
from qa.admin.transcriptions import TranscriptionAdmin, format_score
from qa.models import ReviewItem, Transcription

DEFAULT_QUEUE = "PENDING_REVIEW"
NO_GROUP = "none"
SCORE_BANDS = [("0-20", 0, 20), ("21-40", 20, 40), ("41-60", 40, 60), ("61-80", 60, 80), ("81-100", 80, 100)]


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(g, rules.group_label(g).capitalize()) for g in rules.GROUPS] + [(NO_GROUP, "No group")]

    def value(self):
        return super().value() or DEFAULT_QUEUE

    def queryset(self, request, queryset):
        return queryset.filter(queues.in_group(None if self.value() == NO_GROUP else self.value()))

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class MineFilter(admin.SimpleListFilter):
    title = "reviewer"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "My reviews")]

    def queryset(self, request, queryset):
        return queryset.filter(assigned_to=request.user) if self.value() == "1" else queryset


class ScoreFilter(admin.SimpleListFilter):
    title = "score"
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [(label, label) for label, _, _ in SCORE_BANDS] + [("none", "No score")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(score__isnull=True)
        for label, low, high in SCORE_BANDS:
            if self.value() == label:  # a score belongs to the first band it does not exceed
                return queryset.filter(score__lte=high, **({"score__gt": low} if low else {"score__gte": 0}))
        return queryset


class ReassignForm(forms.Form):
    """Only the user is parsed here; the reason and whether the user reviews are qa.queues' to judge."""

    to_user = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True),
        error_messages={"required": "Choose a reviewer to reassign the call to.",
                        "invalid_choice": "Choose a reviewer from the list to reassign the call to."},
    )


def age(moment) -> str:
    if moment is None:
        return ""
    seconds = max(0, (timezone.now() - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return "just now"


@admin.register(ReviewItem)
class ReviewQueueAdmin(TranscriptionAdmin):
    change_form_template = "admin/qa/reviewitem/change_form.html"
    list_display = [
        "name_display", "critical_fail_display", "score_display", "participant_display", "evaluator_display",
        "queue_age", "assigned_to", "date_display",
    ]
    list_display_links = ["name_display"]
    list_filter = [
        QueueFilter, MineFilter, "critical_fail_triggered", ScoreFilter, "evaluator", "participant",
        ("occurred_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["configuration", "evaluator", "participant", "assigned_to"]
    ordering = ["-critical_fail_triggered", "occurred_at", "id"]  # most urgent first
    actions = ["move_to_pending", "move_to_archived", "move_to_no_group"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(gone_at__isnull=True)

    def has_add_permission(self, request):
        return False

    def has_manage_permission(self, request):
        return queues.step_refusal(request.user, queues.Step.MOVE) is None

    @admin.display(description="call", ordering="name")
    def name_display(self, obj):
        return obj.name or obj.heify_id

    @admin.display(description="in queue for", ordering="group_changed_at")
    def queue_age(self, obj):
        return age(obj.group_changed_at or obj.occurred_at)

    # --- bulk moves (managers) ---------------------------------------------------------------

    def _bulk_move(self, request, queryset, group):
        try:
            moved = queues.transcriptions_move(
                ids=list(queryset.values_list("pk", flat=True)), group=group, acting_user=request.user,
                note="bulk move from the queue list",
            )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return
        self.message_user(request, f"{moved} call(s) moved to {rules.group_label(group)}.")

    @admin.action(description="Move to the pending-review queue", permissions=["manage"])
    def move_to_pending(self, request, queryset):
        self._bulk_move(request, queryset, "PENDING_REVIEW")

    @admin.action(description="Archive", permissions=["manage"])
    def move_to_archived(self, request, queryset):
        self._bulk_move(request, queryset, "ARCHIVED")

    @admin.action(description="Take out of every queue (no group)", permissions=["manage"])
    def move_to_no_group(self, request, queryset):
        self._bulk_move(request, queryset, None)

    # --- the review page -----------------------------------------------------------------------

    def get_urls(self):
        urls = super().get_urls()
        review = [
            path("<int:pk>/review/<str:step>/", self.admin_site.admin_view(self.review_step),
                 name="qa_reviewitem_step"),
        ]
        return review + urls

    def detail_context(self, request, obj: Transcription) -> dict:
        context = super().detail_context(request, obj)
        steps = queues.allowed_steps(request.user, obj)
        verdicts = {v.criterion_name: v for v in obj.criterion_verdicts.select_related("reviewer")}
        for row in context["criteria_rows"]:
            row["verdict"] = verdicts.get(row["name"])
        recent = []
        if obj.participant_id:
            recent = list(
                Transcription.objects.filter(participant_id=obj.participant_id, status="COMPLETED",
                                             score__isnull=False)
                .exclude(pk=obj.pk).order_by("-occurred_at").values("pk", "occurred_at", "score",
                                                                    "critical_fail_triggered")[:10]
            )
        context.update({
            "review": {
                "group": obj.group,
                "group_label": rules.group_label(obj.group),
                "assigned_to": obj.assigned_to,
                "queue_age": age(obj.group_changed_at or obj.occurred_at),
                "steps": steps,
                "has_verdicts": bool(verdicts),
                "text_max_length": rules.REVIEW_TEXT_MAX_LENGTH,
                "reviewers": list(
                    get_user_model().objects.filter(
                        Q(is_superuser=True) | Q(groups__permissions__codename="review_transcription")
                        | Q(user_permissions__codename="review_transcription"), is_active=True,
                    ).exclude(pk=obj.assigned_to_id).distinct().order_by("username")[:200]
                ) if queues.Step.REASSIGN in steps else [],
            },
            "history": list(queues.history(obj)[:100]),
            "recent_scores": [{**r, "score": format_score(r["score"])} for r in recent],
        })
        return context

    DONE = {"claim": "You are reviewing this call.", "release": "Released back to the queue.", "archive": "Archived.",
            "reopen": "Reopened.", "reassign": "Reassigned.", "note": "Note saved.", "verdict": "Verdict saved."}

    def review_step(self, request, pk: int, step: str):
        """One button or form of the review page: call qa.queues, say what happened, go back.

        Whether the user's role allows the step is asked before the call is
        looked up: without it, the answer is 403 whether the call exists or not.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step not in self.DONE:
            return HttpResponseNotAllowed(list(self.DONE))
        queues.require_step(request.user, step)  # a PermissionDenied here is Django's 403
        call = get_object_or_404(self.get_queryset(request), pk=pk)
        user, post = request.user, request.POST
        note = post.get("note", "")

        def reassign():
            form = ReassignForm(post)
            if not form.is_valid():
                raise ValidationError(form.errors["to_user"])
            return queues.transcription_reassign(transcription_id=call.pk, acting_user=user,
                                                 reason=post.get("reason", ""), to_user=form.cleaned_data["to_user"])

        actions = {
            "claim": lambda: queues.transcription_claim(transcription_id=call.pk, reviewer=user),
            "release": lambda: queues.transcription_release(transcription_id=call.pk, acting_user=user, note=note),
            "archive": lambda: queues.transcription_archive(transcription_id=call.pk, acting_user=user, note=note),
            "reopen": lambda: queues.transcription_reopen(transcription_id=call.pk, acting_user=user, note=note),
            "reassign": reassign,
            "note": lambda: queues.transcription_note(transcription_id=call.pk, author=user, text=note),
            "verdict": lambda: queues.criterion_verdict_record(
                transcription_id=call.pk, reviewer=user, criterion_name=post.get("criterion", ""),
                agrees=post.get("agrees") == "yes", reason=post.get("reason", ""),
            ),
        }
        change_url = reverse("admin:qa_reviewitem_change", args=[call.pk])
        try:
            actions[step]()
        except (ValidationError, PermissionDenied) as refusal:
            self.message_user(request, " ".join(getattr(refusal, "messages", None) or [str(refusal)]),
                              messages.ERROR)
        else:
            self.message_user(request, self.DONE[step])
            if step in ("archive", "release"):
                return HttpResponseRedirect(reverse("admin:qa_reviewitem_changelist"))
        return HttpResponseRedirect(change_url)


def queue_link(group: str | None) -> str:
    url = reverse("admin:qa_reviewitem_changelist")
    return f"{url}?queue={group or NO_GROUP}"

