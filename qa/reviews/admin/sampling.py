"""Admin for sampling rules (qa/reviews/sampling.py): QA managers write them; the scheduled job applies them.

A rule's owner is the manager who created it: calls are moved in their name.
"Show what the next run would move" is the command's --dry-run, on screen.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from qa import limits
from qa.mirror.admin.base import JobStateShown, ManagedByManagers, apply_rule
from qa.reviews import sampling
from qa.reviews.models import SamplingRule


class SamplingRuleForm(forms.ModelForm):
    class Meta:
        model = SamplingRule
        fields = ("name", "active", "evaluator", "participant", "score_min", "score_max", "critical_only",
                  "period", "per_participant", "method", "precision_points")

    def clean(self):
        data = super().clean()
        apply_rule(self, limits.clean_sampling_rule, data)
        return data


@admin.register(SamplingRule)
class SamplingRuleAdmin(JobStateShown, ManagedByManagers, admin.ModelAdmin):
    form = SamplingRuleForm
    list_display = ("name", "active", "method", "period", "per_participant", "precision_points", "evaluator",
                    "participant", "owner", "calls_sampled", "job_state")
    list_filter = ("active", "method", "period")
    list_select_related = ("evaluator", "participant", "owner")
    autocomplete_fields = ("evaluator", "participant")
    readonly_fields = ("owner", "created_at", "job_error")
    actions = ["dry_run"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(picks_count=Count("picks"))

    @admin.display(description=_("calls sampled"), ordering="picks_count")
    def calls_sampled(self, obj):
        return obj.picks_count

    def save_model(self, request, obj, form, change):
        if obj.owner_id is None or not change:
            obj.owner = request.user  # moves are made in the name of whoever set the rule up
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Show what the next run would move (moves nothing)"))
    def dry_run(self, request, queryset):
        for rule in queryset:
            [run] = sampling.sampling_rules_apply(rule_id=rule.pk, dry_run=True)
            if run.error and rule.active:
                self.message_user(request, f"{rule.name} ({run.period_label()}): {run.error}", messages.ERROR)
                continue
            calls = ", ".join(c.heify_id[:8] for c in run.chosen[:20]) + ("…" if len(run.chosen) > 20 else "")
            said = {"rule": rule.name, "period": run.period_label(), "count": len(run.chosen), "calls": calls}
            self.message_user(request, (ngettext("%(rule)s (%(period)s): would move %(count)s call: %(calls)s",
                                                 "%(rule)s (%(period)s): would move %(count)s calls: %(calls)s",
                                                 len(run.chosen)) if calls else
                                        gettext("%(rule)s (%(period)s): would move no call.")) % said, messages.INFO)
