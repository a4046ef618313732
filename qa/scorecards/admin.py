"""Admin for evaluator revisions: read-only, and one page per evaluator with a diff between any two.

Revisions are written by qa.mirror.revisions when criteria change; nobody adds, edits
or deletes one here. Whoever may read evaluators may read their revisions.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qa import policy
from qa.mirror import revisions
from qa.mirror.admin.base import ReadOnlyAdmin
from qa.mirror.models import Evaluator, EvaluatorRevision
from qa.policy import Permission

# A diff row's change and its fields (qa.mirror.revisions.revision_diff's codes), as a person reads them.
CHANGES = {"added": gettext_lazy("added"), "removed": gettext_lazy("removed"), "changed": gettext_lazy("changed"),
           "unchanged": gettext_lazy("unchanged")}
FIELDS = {"name": gettext_lazy("name"), "description": gettext_lazy("description"), "type": gettext_lazy("type"),
          "weight": gettext_lazy("weight")}


@admin.register(EvaluatorRevision)
class EvaluatorRevisionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("evaluator", "number", "source", "author", "at", "in_force_from", "criteria_count")
    list_filter = ("source", "evaluator")
    list_select_related = ("evaluator", "author")
    readonly_fields = ("evaluator", "number", "source", "author", "at", "in_force_from", "criteria")
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return policy.may(request.user, Permission.VIEW_EVALUATOR)

    @admin.display(description=gettext_lazy("criteria"))
    def criteria_count(self, obj):
        return len(obj.criteria)

    def get_urls(self):
        return [
            path("evaluator/<int:pk>/", self.admin_site.admin_view(self.evaluator_view),
                 name="qa_evaluatorrevision_evaluator"),
            *super().get_urls(),
        ]

    def evaluator_view(self, request, pk: int):
        """Every revision of one evaluator, and the diff of two of them (?a=&b=; default: the last two)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        evaluator = get_object_or_404(Evaluator, pk=pk)
        found = list(evaluator.revisions.select_related("author").order_by("-number"))
        by_number = {r.number: r for r in found}

        def pick(name, default):
            value = request.GET.get(name, "")
            return by_number.get(int(value)) if value.isdigit() else default

        newest = found[0] if found else None
        b = pick("b", newest)
        a = pick("a", found[1] if len(found) > 1 else newest)
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(evaluator)s: revisions") % {"evaluator": evaluator},
            "opts": self.model._meta,
            "evaluator": evaluator,
            "revisions": found,
            "a": a,
            "b": b,
            "diff": [{**row, "change_label": CHANGES.get(row["change"], row["change"]),
                      "fields_label": [str(FIELDS.get(name, name)) for name in row["fields"]]}
                     for row in revisions.revision_diff(a.criteria, b.criteria)] if a and b else [],
        }
        return TemplateResponse(request, "admin/qa/evaluatorrevision/history.html", context)
