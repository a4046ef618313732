"""Admin for managers: how the reviewers' verdicts agree with the AI's (qa/reviews/agreement.py), one evaluator
at a time.

The changelist is replaced by one page: pick an evaluator and a date range; per
criterion the agreement rate and Cohen's kappa with its 95% interval, the calls
behind each disagreement (links to their review pages), and per reviewer how
often they disagree, by criterion.
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from qa import date_inputs, policy
from qa.mirror.admin.base import ReadOnlyAdmin
from qa.mirror.models import Evaluator
from qa.reviews import agreement
from qa.reviews.models import EvaluatorAgreement


def _date(value: str) -> date | None:
    """A day of the pickers, in the reader's order or ISO (qa.date_inputs); one that is no date is left out."""
    try:
        return date_inputs.parse(value)
    except ValidationError:
        return None


def _value_rows(table: list[list[int]]) -> list[dict]:
    """The value table as the page shows it: a row per AI value, a cell per reviewer value."""
    return [{"value": value, "cells": [{"count": count, "same": i == j} for j, count in enumerate(row)]}
            for i, (value, row) in enumerate(zip(agreement.SCALE_VALUES, table, strict=True))]


@admin.register(EvaluatorAgreement)
class EvaluatorAgreementAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return policy.may_manage_queues(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        evaluators = list(Evaluator.objects.filter(heify_id__isnull=False).order_by("tag", "id"))
        chosen = next((e for e in evaluators if e.heify_id == request.GET.get("evaluator")),
                      evaluators[0] if evaluators else None)
        date_from, date_to = _date(request.GET.get("date_from", "")), _date(request.GET.get("date_to", ""))
        report, problem = None, ""
        if chosen is not None:
            try:
                report = agreement.evaluator_agreement(evaluator=chosen, date_from=date_from, date_to=date_to)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
        scale_criteria = [{**c, "value_rows": _value_rows(c["value_table"])}
                          for c in (report["criteria"] if report else []) if c["scale"]]
        context = {
            **self.admin_site.each_context(request),
            "title": _("How reviewers agree with the AI"),
            "opts": self.model._meta,
            "evaluators": evaluators,
            "chosen": chosen,
            "date_from": date_from,
            "date_to": date_to,
            "report": report,
            "scale_criteria": scale_criteria,
            "scale_values": agreement.SCALE_VALUES,
            "problem": problem,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/qa/evaluatoragreement/agreement.html", context)
