"""Admin for alerts: the rules QA managers set, and every alert with the state of its deliveries.

Rules are QA managers' business (whoever may manage the review queues);
alerts are read-only here, written only by qa.alerts.services, with one action: try a
delivery that gave up once more.
"""

from django import forms
from django.contrib import admin
from django.db.models import Prefetch
from django.utils import formats, translation
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from qa.alerts import services as alerts
from qa.alerts.models import Alert, AlertDelivery, AlertRule
from qa.mirror.admin.base import JobStateShown, ManagedByManagers, ManagersOnly, ReadOnlyAdmin
from qa.mirror.report_rules import ScoreSource
from qa.reviews import blinding

STATE_CSS = {"sent": "sync-ok", "failed": "sync-error"}


def _figure(value: float | None) -> str:
    """A threshold as the reader's language writes it (80 -> 80, 52.5 -> 52,5 in Spanish)."""
    if value is None:
        return ""
    return formats.localize(int(value) if float(value).is_integer() else value)


class AlertRuleForm(forms.ModelForm):
    # The AI's score unless another is chosen: a form (or a script) that does not say keeps watching it.
    score = forms.TypedChoiceField(
        label=gettext_lazy("Watches"), choices=ScoreSource.choices, required=False, empty_value=ScoreSource.AI,
        initial=ScoreSource.AI, widget=forms.RadioSelect, help_text=AlertRule._meta.get_field("score").help_text,
    )

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "score", "enabled", "last_calls", "pass_rate_below", "hours", "users", "groups"]


@admin.register(AlertRule)
class AlertRuleAdmin(JobStateShown, ManagedByManagers, admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["name", "kind", "score_watched", "threshold", "enabled", "recipient_count", "job_state",
                    "created_at"]
    list_filter = ["kind", "score", "enabled"]
    search_fields = ["name"]
    filter_horizontal = ["users", "groups"]
    fields = ["name", "kind", "score", "enabled", "last_calls", "pass_rate_below", "hours", "users", "groups",
              "job_error"]

    @admin.display(description=gettext_lazy("watches"), ordering="score")
    def score_watched(self, obj):
        return "—" if obj.kind == AlertRule.Kind.CLAIM_WAITING else obj.get_score_display()
    readonly_fields = ["job_error"]

    @admin.display(description=gettext_lazy("threshold"))
    def threshold(self, obj):
        if obj.kind == AlertRule.Kind.PASS_RATE:
            return ngettext("below %(rate)s%% over %(calls)s call", "below %(rate)s%% over %(calls)s calls",
                            obj.last_calls or 0) % {"rate": _figure(obj.pass_rate_below), "calls": obj.last_calls}
        if obj.kind == AlertRule.Kind.CLAIM_WAITING:
            return _("over %(hours)s h") % {"hours": _figure(obj.hours)}
        return ""

    @admin.display(description=gettext_lazy("recipients"))
    def recipient_count(self, obj):
        users, groups = obj.users.count(), obj.groups.count()
        return _("%(users)s, %(groups)s") % {
            "users": ngettext("%(count)s user", "%(count)s users", users) % {"count": users},
            "groups": ngettext("%(count)s group", "%(count)s groups", groups) % {"count": groups}}


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin, ManagersOnly, admin.ModelAdmin):
    list_display = ["subject_shown", "rule", "created_at", "delivery_states"]
    list_filter = ["rule__kind", "rule", "deliveries__state"]
    search_fields = ["subject", "event_key", "participant_id"]
    list_select_related = ["rule"]
    readonly_fields = ["rule", "event_key", "subject_shown", "body_shown", "link", "participant_id", "transcription",
                       "created_at", "delivery_states"]
    fields = readonly_fields
    actions = ["retry_failed"]
    show_full_result_count = False

    def get_queryset(self, request):
        # A critical fail's alert gives the call's score: not listed to a manager scoring the call blind, as it is
        # not sent to them (qa.alerts.services.recipients).
        return super().get_queryset(request).exclude(
            rule__kind=AlertRule.Kind.CRITICAL_FAIL, transcription__in=blinding.blind_calls(request.user),
        ).prefetch_related(Prefetch("deliveries", AlertDelivery.objects.order_by("channel")))

    # The subject and body in the reader's language (stored as messages: qa.alerts.texts).
    @admin.display(description=gettext_lazy("subject"), ordering="subject")
    def subject_shown(self, obj):
        return alerts.written(obj, translation.get_language())[0]

    @admin.display(description=gettext_lazy("body"))
    def body_shown(self, obj):
        return alerts.written(obj, translation.get_language())[1]

    def has_manage_permission(self, request):
        return self._manager(request)

    @admin.display(description=gettext_lazy("deliveries"))
    def delivery_states(self, obj):
        deliveries = list(obj.deliveries.all())
        if not deliveries:
            return _("no channel (no recipients, no webhook)")
        return format_html_join(
            " ", '<span class="{}" title="{}">{}: {} ({})</span>',
            ((STATE_CSS.get(d.state, "sync-waiting"), d.last_error, d.get_channel_display(), d.get_state_display(),
              ngettext("%(count)s attempt", "%(count)s attempts", d.attempts) % {"count": d.attempts})
             for d in deliveries),
        )

    @admin.action(description=gettext_lazy("Try the deliveries that gave up once more"), permissions=["manage"])
    def retry_failed(self, request, queryset):
        count = alerts.alert_deliveries_retry(alert_ids=queryset.values_list("pk", flat=True),
                                              acting_user=request.user)
        self.message_user(request, ngettext("%(count)s delivery queued again.", "%(count)s deliveries queued again.",
                                            count) % {"count": count})
