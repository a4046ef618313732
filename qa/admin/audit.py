"""The audit trail in the admin: the "Audit log" list (read-only; filters, search, CSV and Excel export) and
the audit rows on every Heify object's History page.

Only who may read the trail sees it: QA managers (their role holds qa.view_auditevent) and superusers;
a reviewer is refused the list and its export (403), and their History pages show Django's own log only.
Every reading leaves out the rows of the calls the reader scores blind in calibration (qa.reviews.blinding): a
verdict's row says what a reviewer thought of the AI's. The export is the list's own query (its filters and
search), through qa.insights.exports' writers, as the call lists' are (qa/admin/exports.py).
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponseBadRequest
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from qa import audit
from qa.admin.exports import _format, export_links
from qa.admin.paging import capped_paginator
from qa.audit import AuditEvent
from qa.insights import exports
from qa.reviews import blinding

VIEW_AUDIT = "qa.view_auditevent"
HISTORY_ROWS = 200  # on an object's History page; the rest in the list


def may_read_audit(user) -> bool:
    """Who may read the audit trail: QA managers and superusers (the permission their role holds)."""
    return bool(user is not None and user.is_active and user.has_perm(VIEW_AUDIT))


def readable(events: QuerySet, user) -> QuerySet:
    """The rows `user` may read: not those of the calls they score blind (qa.reviews.blinding), in the same query."""
    return events.exclude(object_type=AuditEvent.ObjectType.TRANSCRIPTION,
                          object_id__in=blinding.blind_calls(user))


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def change_rows(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) of each changed field, as JSON text ("" where a side has none)."""
    keys = dict.fromkeys([*event.before, *event.after])
    return [(key, _json(event.before[key]) if key in event.before else "",
             _json(event.after[key]) if key in event.after else "") for key in keys]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_link", "changes", "request_id")
    list_filter = ("action", "object_type", "actor", "created_at")
    list_select_related = False  # the label says who; no join
    search_fields = ("object_id", "heify_id", "request_id")  # whole values only: get_search_results
    search_help_text = "An object's id here, its whole Heify id, or a whole request id."
    readonly_fields = ("created_at", "actor", "actor_label", "action", "object_type", "object_id", "heify_id",
                       "object_repr", "request_id", "before", "after")
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_module_permission(self, request):
        return may_read_audit(request.user)

    def has_view_permission(self, request, obj=None):
        return may_read_audit(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the trail is kept

    def get_queryset(self, request):
        return readable(super().get_queryset(request), request.user)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return capped_paginator(request, queryset, per_page)

    def get_search_results(self, request, queryset, search_term):
        """Whole values, each an indexed equality: the object's id (a number), its Heify id, a request id."""
        term = search_term.strip()
        if not term:
            return queryset, False
        found = Q(heify_id=term) | Q(request_id=term)
        if term.isdigit() and len(term) < 19:
            found |= Q(object_id=int(term))
        return queryset.filter(found), False

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, obj):
        label = f"{obj.get_object_type_display()} {obj.object_repr or obj.object_id}"
        try:
            url = reverse(f"admin:{obj.object_type.replace('.', '_')}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="changes")
    def changes(self, obj):
        text = "; ".join(f"{key}: {before or '—'} → {after or '—'}" for key, before, after in change_rows(obj))
        return Truncator(text).chars(200)

    # --- export ----------------------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view), name="qa_auditevent_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {"export_links": export_links("admin:qa_auditevent_export", request.GET), **(extra_context or {})}
        return super().changelist_view(request, context)

    def export_view(self, request, fmt: str):
        """The list as it is filtered and searched, every page, newest first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = _format(fmt)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("These filters do not apply to this list; open the list and filter again.")
        return exports.streaming_response(audit_table(changelist.queryset), fmt)


AUDIT_HEADERS = ("When", "Who", "Action", "Object type", "Object ID", "Heify ID", "Object", "Request ID",
                 "Before", "After")


def audit_table(events: QuerySet) -> exports.Table:
    """The rows of the audit log, read a batch at a time (the cells' rules are qa.insights.exports')."""
    labels = {"action": dict(AuditEvent.Action.choices), "object_type": dict(AuditEvent.ObjectType.choices)}

    def rows():
        for (created_at, who, action, object_type, object_id, heify_id, object_repr, request_id, before,
             after) in events.values_list("created_at", "actor_label", "action", "object_type", "object_id",
                                          "heify_id", "object_repr", "request_id", "before", "after").iterator(
                chunk_size=exports.BATCH * 2):
            yield [created_at, who, labels["action"].get(action, action),
                   labels["object_type"].get(object_type, object_type), object_id, heify_id, object_repr,
                   request_id, _json(before), _json(after)]

    return exports.Table(title="Audit log", headers=list(AUDIT_HEADERS), rows=rows())


class AuditHistoryMixin:
    """For the admin of a Heify object (before admin.ModelAdmin): its History page shows its audit rows, newest
    first, above Django's own log, to whoever may read the trail (templates/admin/qa/object_history.html)."""

    def history_view(self, request, object_id, extra_context=None):
        context = dict(extra_context or {})
        if may_read_audit(request.user):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and self.has_view_or_change_permission(request, obj):
                events = readable(audit.object_history(obj), request.user)
                context["audit_events"] = [(event, change_rows(event)) for event in events[:HISTORY_ROWS]]
                context["audit_more"] = len(context["audit_events"]) == HISTORY_ROWS
                context["audit_list_url"] = (reverse("admin:qa_auditevent_changelist")
                                             + f"?object_type__exact={audit.object_type(obj)}&q={obj.pk}")
        return super().history_view(request, object_id, context)
