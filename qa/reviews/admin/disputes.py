"""Admin for QA managers: the Disputes queue (qa/reviews/disputes.py).

The changelist is replaced by one page: the open disputes first, oldest first, with their age, the call, the
agent, the criterion, the AI's result and the disputed result of record (the reviewer's), the agent's reason, and
a resolve form on each; then the resolved ones. Every form posts to one view that calls
qa.reviews.disputes.dispute_resolve, which holds the rules (who may resolve, the outcome and its result).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from qa.mirror import rules
from qa.mirror.admin.base import ManagersOnly, ReadOnlyAdmin
from qa.mirror.criterion_results import CriterionResult
from qa.reviews import blinding, disputes
from qa.reviews.models import Dispute

RESOLVED_SHOWN = 100  # the newest resolved ones; the API lists them all


def _ai_results(call_ids) -> dict[tuple[int, str], dict]:
    """(call, criterion) -> the AI's result as Heify gave it."""
    found = {}
    for call, name, passed, value in CriterionResult.objects.filter(transcription_id__in=call_ids).order_by(
            "position").values_list("transcription_id", "name", "passed", "value"):
        found.setdefault((call, name), {"passed": passed, "value": value})
    return found


def _parse_passed(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def _parse_value(value: str) -> int | str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # refused by name by the service's check


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin, ManagersOnly, admin.ModelAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/resolve/", view(self.resolve_view), name="qa_dispute_resolve"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        visible = disputes.disputes_visible(request.user)
        open_ = list(visible.filter(status=Dispute.Status.OPEN))
        resolved = list(visible.exclude(status=Dispute.Status.OPEN).order_by("-resolved_at", "-id")[:RESOLVED_SHOWN])
        shown = open_ + resolved
        ai = _ai_results({d.transcription_id for d in shown})
        blind = set(blinding.blind_calls(request.user).values_list("transcription_id", flat=True)) if shown else set()
        now = timezone.now()
        rows = [{
            "dispute": d, "age": timesince(d.raised_at, now),
            "ai": None if d.transcription_id in blind else disputes.result_said(ai.get((d.transcription_id,
                                                                                      d.criterion_name))),
            "disputed": disputes.result_said(d.result_when_raised),
            "given": disputes.result_said({"passed": d.upheld_passed, "value": d.upheld_value}),
            "scale": (d.result_when_raised or {}).get("value") is not None
            or (ai.get((d.transcription_id, d.criterion_name)) or {}).get("value") is not None,
            "may_resolve": request.user.pk not in disputes.call_reviewers(d),
        } for d in shown]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Disputes"),
            "opts": self.model._meta,
            "open_rows": rows[:len(open_)],
            "resolved_rows": rows[len(open_):],
            "scale_values": range(rules.SCALE_MIN, rules.SCALE_MAX + 1),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/qa/dispute/queue.html", context)

    def resolve_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        data = request.POST
        try:
            dispute = disputes.dispute_resolve(
                dispute_id=pk, outcome=data.get("outcome", ""), reason=data.get("reason", ""),
                passed=_parse_passed(data.get("passed", "")), value=_parse_value(data.get("value", "")),
                acting_user=request.user)
        except Dispute.DoesNotExist:
            messages.error(request, _("There is no dispute #%(number)s.") % {"number": pk})
        except (ValidationError, PermissionDenied) as refusal:
            said = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
            messages.error(request, _("Dispute #%(number)s: %(why)s") % {"number": pk, "why": said})
        else:
            messages.success(request, _("Dispute #%(number)s %(outcome)s.") % {
                "number": dispute.pk, "outcome": dispute.get_status_display()})
            return HttpResponseRedirect(reverse("admin:qa_dispute_changelist"))
        return self.changelist_view(request)  # refused: the queue again, saying why
