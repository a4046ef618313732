"""The "Audit log" admin list (qa/audit.py's rows): read-only, filtered by action, object type, user and date,
searched by whole ids, exported as CSV or Excel; a call's History page reads its rows through `readable` too.

Only who may read the trail sees it (qa.policy.may_read_audit: QA managers and superusers); a reviewer is refused
the list and its export (403). Every reading leaves out the rows of the calls the reader scores blind in
calibration (qa.reviews.blinding): a verdict's row says what a reviewer thought of the AI's. That rule is why
the list lives with the reviews. The export is the list's own query (its filters and search), written by
qa.spreadsheets, as the call lists' are (qa/reviews/admin/exports.py).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from qa import audit, policy, spreadsheets
from qa.audit import AuditEvent
from qa.mirror.admin.paging import capped_paginator
from qa.reviews import blinding
from qa.reviews.admin.exports import ListExportMixin


def readable(events: QuerySet, user) -> QuerySet:
    """The rows `user` may read: not those of the calls they score blind (qa.reviews.blinding), in the same
    query."""
    return events.exclude(object_type=AuditEvent.ObjectType.TRANSCRIPTION,
                          object_id__in=blinding.blind_calls(user))


@admin.register(AuditEvent)
class AuditEventAdmin(ListExportMixin, admin.ModelAdmin):
    # At 1280 px beside the filters: the object's link names its type; the request id is on the row and in the export.
    list_display = ("created_at", "actor_label", "action", "object_link", "changes")
    list_filter = ("action", "object_type", "actor", "created_at")
    search_fields = ("object_id", "heify_id", "request_id")  # whole values only: get_search_results
    search_help_text = _("An object's id here, its whole Heify id, or a whole request id.")
    readonly_fields = ("created_at", "actor", "actor_label", "action", "object_type", "object_id", "heify_id",
                       "object_repr", "request_id", "before", "after")
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_module_permission(self, request):
        return policy.may_read_audit(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.may_read_audit(request.user)

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

    @admin.display(description=_("object"), ordering="object_repr")
    def object_link(self, obj):
        label = f"{obj.get_object_type_display()} {obj.object_repr or obj.object_id}"
        try:
            url = reverse(f"admin:{obj.object_type.replace('.', '_')}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("changes"))
    def changes(self, obj):
        text = "; ".join(f"{key}: {before or '—'} → {after or '—'}" for key, before, after in audit.change_rows(obj))
        return Truncator(text).chars(200)

    # --- export (qa/reviews/admin/exports.py: the list's own query, filtered and searched, every page) ---------

    def export_table(self, request, changelist) -> spreadsheets.Table:
        return audit_table(changelist.queryset)


AUDIT_HEADERS = (gettext_noop("When"), gettext_noop("Who"), gettext_noop("Action"), gettext_noop("Object type"),
                 gettext_noop("Object ID"), gettext_noop("Heify ID"), gettext_noop("Object"),
                 gettext_noop("Request ID"), gettext_noop("Before"), gettext_noop("After"))


def audit_table(events: QuerySet) -> spreadsheets.Table:
    """The rows of the audit log, read a batch at a time (the cells' rules are qa.spreadsheets')."""
    # Labels and headers in the reader's language, read now (the rows are written as the response goes out).
    actions = {code: str(label) for code, label in AuditEvent.Action.choices}
    types = {code: str(label) for code, label in AuditEvent.ObjectType.choices}

    def rows():
        for (created_at, who, action, object_type, object_id, heify_id, object_repr, request_id, before,
             after) in events.values_list("created_at", "actor_label", "action", "object_type", "object_id",
                                          "heify_id", "object_repr", "request_id", "before", "after").iterator(
                chunk_size=spreadsheets.BATCH * 2):
            yield [created_at, who, actions.get(action, action), types.get(object_type, object_type), object_id,
                   heify_id, object_repr, request_id, audit.as_text(before), audit.as_text(after)]

    return spreadsheets.Table(title=gettext("Audit log"), headers=[gettext(header) for header in AUDIT_HEADERS],
                              rows=rows())
