"""What the editable Heify objects share in the admin.

Forms carry the version the user started from, so a save based on an old
version is refused with both versions shown; saving goes through qa.mirror.services,
never through ModelForm.save, so the admin holds no rule of its own. Saving
and deleting run after Django's transaction around the add, change and
delete views is over (HeifyObjectAdmin says how, with public hooks only): the
service writes in short transactions of its own and calls Heify between
them, with none open.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qa import audit, limits, policy
from qa.mirror import services


def apply_rule(form: forms.BaseForm, func, *args, **kwargs):
    """Run a rule from qa.mirror.rules; file its messages on the form's fields (or the form)."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


class PrettyJSONField(forms.JSONField):
    """A JSON editor that shows the whole object, indented.

    The text is read by qa.mirror.rules.parse_json, within the limits every entry
    point shares (depth, size, numbers, NUL), not by a bare json.loads, which
    recurses out on deep nesting and lets NaN and 5,000-digit numbers through.
    `name` starts the messages (`metadata.team: ...`).
    """

    def __init__(self, *, name: str = "value", **kwargs):
        attrs = {"rows": 14, "cols": 80, "class": "vLargeTextField json-editor"}
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        super().__init__(**kwargs)
        self.json_name = name

    def _parse(self, text: str):
        try:
            return limits.parse_json(text, field=self.json_name)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[self.json_name], code="invalid") from None

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        converted = self._parse(value)
        return forms.fields.JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data, initial):
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return self._parse(data)
        except ValidationError:
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class VersionedForm(forms.ModelForm):
    """Carries the version the user started from; a stale save is a form error."""

    based_on_version = forms.IntegerField(label=gettext_lazy("Based on version"), widget=forms.HiddenInput,
                                          required=False)
    # Fields whose submitted and current values the stale message shows.
    compare_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["based_on_version"].initial = self.instance.version

    # Set by the admin when the first attempt to save this form was refused (by Heify, or by another change
    # that came first).
    save_refusal: ValidationError | None = None

    def clean(self):
        data = super().clean()
        if self.save_refusal is not None:
            self.add_error(None, self.save_refusal.messages)
        if self.instance.pk:
            compare = {name: data.get(name) for name in self.compare_fields}
            # An early word for the person; the save checks again, atomically.
            apply_rule(self, services.begin_edit, self.instance, data.get("based_on_version"), compare=compare)
        return data


class ReadOnlyAdmin:
    """A record nobody adds, edits or deletes in the admin: what the app writes, shown (before admin.ModelAdmin)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditHistoryMixin:
    """For the admin of an object the services write (before admin.ModelAdmin): its History page shows its
    audit rows (qa.audit), newest first, above Django's own log, to whoever may read the trail
    (templates/admin/qa/object_history.html). `audit_rows` is the hook a screen narrows them with."""

    history_audit_rows = 200  # the newest; the rest in the Audit log

    def audit_rows(self, request, obj):
        return audit.object_history(obj)

    def history_view(self, request, object_id, extra_context=None):
        context = dict(extra_context or {})
        if policy.may_read_audit(request.user):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and self.has_view_or_change_permission(request, obj):
                events = list(self.audit_rows(request, obj)[:self.history_audit_rows])
                context["audit_events"] = [(event, audit.change_rows(event)) for event in events]
                context["audit_more"] = len(events) == self.history_audit_rows
                context["audit_list_url"] = (reverse("admin:qa_auditevent_changelist")
                                             + f"?object_type__exact={audit.object_type(obj)}&q={obj.pk}")
        return super().history_view(request, object_id, context)


class GoneFilter(admin.SimpleListFilter):
    """A list shows what Heify still has; "Deleted in Heify: Yes" shows only what it no longer has (history)."""

    title = gettext_lazy("Deleted in Heify")
    parameter_name = "gone"
    YES = "yes"

    def lookups(self, request, model_admin):
        return [(self.YES, _("Yes"))]

    def choices(self, changelist):
        for value, label in ((None, _("No")), (self.YES, _("Yes"))):
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}) if value
                else changelist.get_query_string(remove=[self.parameter_name]),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queryset.filter(gone_at__isnull=self.value() != self.YES)


class GoneAwareAdmin:
    """The admin of a mirrored object (before admin.ModelAdmin): an object's own page answers whether or not
    Heify still has it (read-only once gone); its list, through GoneFilter (which every such list declares),
    and the autocomplete offer what Heify still has."""

    def get_queryset(self, request):
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            queryset = self.model.objects.get_queryset()  # what may be chosen
        else:
            queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.gone_at)


@dataclass
class _SaveLater:
    """A valid form Django's change view would have saved: saved by HeifyObjectAdmin once that view is over."""

    KEY: ClassVar[str] = "_qa_save_later"
    form: forms.BaseForm
    change: bool
    formsets: list = field(default_factory=list)
    message: list | str = ""


@dataclass
class _DeleteLater:
    """A deletion Django's delete view confirmed: done by HeifyObjectAdmin once that view is over."""

    KEY: ClassVar[str] = "_qa_delete_later"
    obj: models.Model
    obj_display: str = ""
    obj_id: str = ""


class HeifyObjectAdmin(AuditHistoryMixin, GoneAwareAdmin, admin.ModelAdmin):
    """Admin for an object Heify owns and we edit: sync state shown, saves through a service (which writes the
    audit row), History with the audit rows."""

    sync_fields = ("heify_id", "client_id", "created_at", "sync_state_badge", "synced_at", "sync_error", "gone_at")
    sync_fieldset = ("Heify", {"fields": sync_fields, "classes": ("collapse",)})  # a name: the same in every language
    readonly_fields = sync_fields
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=gettext_lazy("updated in Heify"), ordering="remote_updated_at")
    def updated_in_heify(self, obj):
        """Heify's updated_at, as a date a person reads (the column read "HEIFY UPDATED_AT")."""
        value = getattr(obj, "remote_updated_at", None)
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else (
            self.get_empty_value_display())

    @admin.display(description=gettext_lazy("sync"), ordering="sync_state")
    def sync_state_badge(self, obj):
        css = {"synced": "sync-ok", "rejected": "sync-error"}.get(obj.sync_state, "sync-waiting")
        label = _("gone from Heify") if obj.gone_at else obj.get_sync_state_display()
        if not obj.heify_id and obj.sync_state == "synced":
            label = _("local only")
        return format_html('<span class="{}" title="{}">{}</span>', css, obj.sync_error, label)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletes go one by one, through Heify
        return actions

    # Saving and deleting. Django runs its add, change and delete views in one transaction (changeform_view and
    # delete_view open transaction.atomic); qa.mirror.services must not run inside it: Heify would be told of a change
    # that might still roll back, and the rows would stay locked while Heify answers (the services' writes are
    # durable and refuse to be nested). So the hooks Django calls inside its transaction (save_model,
    # save_related, log_change, log_addition, response_add, response_change, delete_model, response_delete)
    # only note what to do, and the documented views below (add_view, change_view, delete_view) do it once
    # Django's transaction is over, then log and answer as Django would have. A refused save shows the form
    # again. Every method used is one of the admin's public hooks, so a Django release cannot move it from
    # under us, as it could the private _changeform_view this replaces.

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        refusal = getattr(request, "save_refusal", None)
        return type(form.__name__, (form,), {"save_refusal": refusal}) if refusal else form

    def add_view(self, request, form_url="", extra_context=None):
        return self._then_save(request, functools.partial(super().add_view, request, form_url, extra_context))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        view = functools.partial(super().change_view, request, object_id, form_url, extra_context)
        return self._then_save(request, view)

    def _then_save(self, request, view):
        response = view()  # Django's own: the form checked; a valid one is noted (_SaveLater), not saved
        later = request.__dict__.pop(_SaveLater.KEY, None)
        if later is None:
            return response  # a page shown, or a form with its errors
        try:
            self._save(request, later.form, later.formsets)
        except ValidationError as refusal:  # Heify's (the object was put back), or another's change came first
            # The form again, the person's input kept and the refusal on top; nothing logged.
            request.save_refusal = refusal
            return view()
        obj = later.form.instance
        if later.change:
            self.log_change(request, obj, later.message)
            return self.response_change(request, obj)
        self.log_addition(request, obj, later.message)
        return self.response_add(request, obj)

    def save_model(self, request, obj, form, change):
        request.__dict__[_SaveLater.KEY] = _SaveLater(form=form, change=change)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            formset.save(commit=False)  # only to fill in the change message's lists
        request.__dict__[_SaveLater.KEY].formsets = formsets

    def log_addition(self, request, obj, message):
        if (later := request.__dict__.get(_SaveLater.KEY)) is not None:
            later.message = message
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if (later := request.__dict__.get(_SaveLater.KEY)) is not None:
            later.message = message
            return None
        return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if _SaveLater.KEY in request.__dict__:
            return HttpResponse(status=204)  # never sent: _then_save answers once saved
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if _SaveLater.KEY in request.__dict__:
            return HttpResponse(status=204)  # as above
        return super().response_change(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)  # the confirmation, or noted
        later = request.__dict__.pop(_DeleteLater.KEY, None)
        if later is None:
            return response
        obj = later.obj
        try:
            finished = services.heify_object_delete(obj=obj, acting_user=request.user)
        except ValidationError as refusal:  # Heify's, or another change of it on its way: nothing deleted
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return HttpResponseRedirect(request.path.removesuffix("delete/") + "change/")
        super().log_deletions(request, [obj])
        if not finished:
            self.message_user(
                request,
                _("Heify could not be reached: “%(object)s” is marked for deletion and will be deleted in Heify, "
                  "then here, when Heify is back.") % {"object": obj},
                messages.WARNING,
            )
        return self.response_delete(request, later.obj_display, later.obj_id)

    def log_deletions(self, request, queryset):
        """Nothing yet: delete_view logs the deletion once Heify has not refused it."""

    def delete_model(self, request, obj):
        request.__dict__[_DeleteLater.KEY] = _DeleteLater(obj=obj)

    def response_delete(self, request, obj_display, obj_id):
        if (later := request.__dict__.get(_DeleteLater.KEY)) is not None:
            later.obj_display, later.obj_id = obj_display, obj_id
            return HttpResponse(status=204)  # never sent: delete_view answers once deleted
        return super().response_delete(request, obj_display, obj_id)

    def _save(self, request, form, formsets):
        for notice in self.save_with_service(form, formsets, acting_user=request.user) or ():
            self.message_user(request, notice, messages.WARNING)
        if form.instance.awaits_heify:
            self.message_user(
                request,
                _("Heify could not take the change now (%(error)s). It is saved here, marked as waiting, and will "
                  "be sent automatically when Heify is back.") % {"error": form.instance.sync_error},
                messages.WARNING,
            )

    def save_with_service(self, form, formsets, *, acting_user) -> list[str] | None:
        raise NotImplementedError


def check_rows(func, rows: list[dict]) -> None:
    """Apply a rule to an inline's rows; its messages become the inline's errors."""
    try:
        func(rows)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from None


def formset_rows(formset) -> list[dict]:
    """The rows an inline formset submits, in order, leaving out deleted and blank ones."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class JobStateShown:
    """For rules a scheduled job applies: why it last failed on one (qa.jobs), in the list and on the form.
    Saving the rule (a manager put it right, or switched it back on) starts its count afresh."""

    @admin.display(description=gettext_lazy("job"))
    def job_state(self, obj):
        if not obj.job_error:
            return _("ok")
        shown = obj.job_error if len(obj.job_error) <= 200 else obj.job_error[:199] + "…"
        return format_html('<span class="sync-error" title="{}">{}</span>', obj.job_error, shown)

    def save_model(self, request, obj, form, change):
        obj.job_error, obj.job_failures, obj.job_retry_at = "", None, None
        super().save_model(request, obj, form, change)


class ManagersOnly:
    """A screen for those who manage the queues alone (QA managers, superusers): only they see it."""

    def _manager(self, request) -> bool:
        return policy.may_manage_queues(request.user)

    def has_module_permission(self, request):
        return self._manager(request)

    def has_view_permission(self, request, obj=None):
        return self._manager(request)


class ManagedByManagers(ManagersOnly):
    """Rules the managers keep (alert rules, sampling rules): only they see, add, change and delete them."""

    def has_add_permission(self, request):
        return self._manager(request)

    def has_change_permission(self, request, obj=None):
        return self._manager(request)

    def has_delete_permission(self, request, obj=None):
        return self._manager(request)
