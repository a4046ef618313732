"""Admin for configurations: vocabulary and extraction fields without raw JSON."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from qa import policy
from qa.mirror import rules, services, webhook_urls
from qa.mirror.admin.base import GoneFilter, HeifyObjectAdmin, VersionedForm, apply_rule, check_rows, formset_rows
from qa.mirror.models import Configuration, ExtractionField


class TermsField(forms.CharField):
    """A list of terms edited as one term per line."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class ExtractionFieldFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        self.rows = [
            {"name": row["name"], "type": row["type"], "description": row["description"]}
            for row in formset_rows(self)
        ]
        check_rows(rules.clean_extraction_fields, self.rows)


class ExtractionFieldInline(admin.TabularInline):
    model = ExtractionField
    formset = ExtractionFieldFormSet
    fields = ("name", "type", "description")
    extra = 0
    max_num = rules.EXTRACTION_FIELDS_MAX
    validate_max = False  # the rule says how many there are
    formfield_overrides = {
        ExtractionField._meta.get_field("description").__class__: {
            "widget": forms.Textarea(attrs={"rows": 2, "cols": 60})
        },
    }


class ConfigurationForm(VersionedForm):
    vocabulary = TermsField(label=_("Vocabulary"), required=False,
                            help_text=_("One term per line: names, products, jargon."))
    webhook_success_url = forms.URLField(
        label=_("Webhook success URL"), required=False, max_length=2000, assume_scheme="https",
        help_text=_("Heify POSTs here when a transcription completes."),
    )
    webhook_error_url = forms.URLField(
        label=_("Webhook error URL"), required=False, max_length=2000, assume_scheme="https",
        help_text=_("Heify POSTs here when a transcription fails."),
    )

    class Meta:
        model = Configuration
        fields = (
            "tag", "vocabulary", "summary", "summary_language", "analytics_language",
            "webhook_success_url", "webhook_error_url",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("summary_language", "analytics_language"):
            if name in self.fields:  # not for a reader, who sees them read-only
                self.fields[name].choices = [("", "---------"), *rules.language_choices()]

    def clean(self):
        data = super().clean()
        # Extraction fields are checked by their inline.
        apply_rule(self, rules.clean_configuration, {**data, "extraction_fields": []})
        return data


@admin.register(Configuration)
class ConfigurationAdmin(HeifyObjectAdmin):
    form = ConfigurationForm
    inlines = [ExtractionFieldInline]
    list_display = ("tag", "summary", "summary_language", "analytics_language", "field_count", "sync_state_badge")
    list_filter = ("summary", "summary_language", "sync_state", GoneFilter)
    search_fields = ("tag", "heify_id")

    class Media:
        css = {"all": ("qa/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        # The URLs hold the webhook secret: whoever may not see it reads them masked, never as fields.
        webhooks = ("webhook_success_url", "webhook_error_url")
        if not policy.may_see_webhook_secret(request.user):
            webhooks = ("masked_webhook_success_url", "masked_webhook_error_url")
        return [
            (None, {"fields": ("tag", "vocabulary", "based_on_version")}),
            (_("Processing"), {"fields": ("summary", "summary_language", "analytics_language")}),
            (_("Webhooks"), {"fields": webhooks}),
            self.sync_fieldset,
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "masked_webhook_success_url", "masked_webhook_error_url")

    @admin.display(description=_("webhook success URL"))
    def masked_webhook_success_url(self, obj):
        return webhook_urls.masked(obj.webhook_success_url) if obj else ""

    @admin.display(description=_("webhook error URL"))
    def masked_webhook_error_url(self, obj):
        return webhook_urls.masked(obj.webhook_error_url) if obj else ""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(field_count=Count("extraction_fields"))

    @admin.display(description=_("extraction fields"), ordering="field_count")
    def field_count(self, obj):
        return obj.field_count

    def save_with_service(self, form, formsets, *, acting_user):
        services.configuration_save(
            configuration=form.instance,
            data={**form.cleaned_data, "extraction_fields": formsets[0].rows},
            expected_version=form.cleaned_data.get("based_on_version"), acting_user=acting_user,
        )
