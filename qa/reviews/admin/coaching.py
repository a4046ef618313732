"""Admin for coaching sessions (qa/reviews/coaching.py): QA managers open and change them with the admin's own
form, list them with the agent, the due date and whether the agent acknowledged them and they are completed, and
mark them completed. Agents see and acknowledge theirs on their own page (qa.agents.views), never here (no model
permission, and these screens ask qa.policy.may_manage_queues)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from qa import policy
from qa.mirror.admin.base import AuditHistoryMixin, apply_rule
from qa.reviews import coaching
from qa.reviews.models import CoachingSession


class LinesField(forms.CharField):
    """A list of short texts, one per line (blank lines left out)."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value):
        return [line.strip() for line in (super().to_python(value) or "").splitlines() if line.strip()]


class CoachingSessionForm(forms.ModelForm):
    focus_criteria = LinesField(required=False, label=_("Focus criteria"),
                                help_text=_("One criterion per line, as the agent's evaluators name them."))
    action_items = LinesField(required=False, label=_("Action items"),
                              help_text=_("One per line: what the agent is to do."))

    class Meta:
        model = CoachingSession
        fields = ("participant", "held_at", "calls", "focus_criteria", "notes", "action_items", "due_date")

    def clean(self):
        data = super().clean()
        participant = data.get("participant") or getattr(self.instance, "participant", None)
        if participant is not None and not self.errors:
            unchanged = self.instance.pk is not None and data.get("due_date") == self.instance.due_date
            apply_rule(self, coaching.clean_session, participant=participant, calls=data.get("calls") or [],
                       focus_criteria=data.get("focus_criteria"), notes=data.get("notes"),
                       action_items=data.get("action_items"), due_date=data.get("due_date"),
                       held_at=data.get("held_at") if "held_at" in self.changed_data else None,
                       due_date_unchanged=unchanged)
        return data


@admin.register(CoachingSession)
class CoachingSessionAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = CoachingSessionForm
    list_display = ("participant", "held_at", "due_date", "acknowledged", "completed", "created_by")
    list_filter = ("due_date", ("acknowledged_at", admin.EmptyFieldListFilter),
                   ("completed_at", admin.EmptyFieldListFilter))
    list_select_related = ("participant", "created_by")
    search_fields = ("participant__tag", "notes")
    autocomplete_fields = ("participant", "calls")
    date_hierarchy = "held_at"
    actions = ["mark_completed"]

    # Managers only: agents see their own on their page (qa.reviews.coaching.coaching_for).
    def has_module_permission(self, request):
        return policy.may_manage_queues(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.may_manage_queues(request.user)

    def has_add_permission(self, request):
        return policy.may_manage_queues(request.user)

    def has_change_permission(self, request, obj=None):
        return policy.may_manage_queues(request.user) and (obj is None or obj.completed_at is None)

    def has_delete_permission(self, request, obj=None):
        return False  # the agent acknowledged it: kept

    def get_readonly_fields(self, request, obj=None):
        done = ("created_by", "created_at", "acknowledged_at", "completed_at", "completed_by")
        return done + (("participant",) if obj is not None else ())

    @admin.display(description=_("acknowledged"), boolean=True, ordering="acknowledged_at")
    def acknowledged(self, obj):
        return obj.acknowledged_at is not None

    @admin.display(description=_("completed"), boolean=True, ordering="completed_at")
    def completed(self, obj):
        return obj.completed_at is not None

    def save_model(self, request, obj, form, change):
        """Through qa.reviews.coaching's actions, which hold the rules (the form only says them early)."""
        data = form.cleaned_data
        fields = {"calls": list(data.get("calls") or []), "focus_criteria": data["focus_criteria"],
                  "notes": data["notes"], "action_items": data["action_items"], "due_date": data["due_date"]}
        if change:
            if "held_at" in form.changed_data:
                fields["held_at"] = data["held_at"]
            coaching.coaching_change(session_id=obj.pk, acting_user=request.user, **fields)
        else:
            obj.pk = coaching.coaching_create(participant_id=data["participant"].pk, held_at=data.get("held_at"),
                                              acting_user=request.user, **fields).pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        """Nothing left: the action set the calls."""

    @admin.action(description=_("Mark the selected sessions completed"))
    def mark_completed(self, request, queryset):
        if not policy.may_manage_queues(request.user):
            raise PermissionDenied
        done = 0
        for session in queryset.filter(completed_at__isnull=True):
            coaching.coaching_complete(session_id=session.pk, acting_user=request.user)
            done += 1
        said = ngettext("%(count)s session marked completed.", "%(count)s sessions marked completed.", done)
        self.message_user(request, said % {"count": done}, messages.SUCCESS)
