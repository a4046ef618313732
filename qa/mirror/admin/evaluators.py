"""Admin for evaluators (scorecards) and their criteria, under Heify's rules."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from qa import limits
from qa.mirror import rules, services
from qa.mirror.admin.base import (
    GoneFilter,
    HeifyObjectAdmin,
    PrettyJSONField,
    VersionedForm,
    apply_rule,
    check_rows,
    formset_rows,
)
from qa.mirror.models import Criterion, Evaluator


class LanguageInUseFilter(admin.SimpleListFilter):
    """The languages the evaluators have, not every ISO 639-1 language (about 180)."""

    title = _("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        names = dict(rules.language_choices())
        used = Evaluator.objects.exclude(language="").values_list("language", flat=True).distinct().order_by()
        return sorted(((code, names.get(code, code)) for code in used), key=lambda choice: choice[1].casefold())

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


class CriterionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return  # the rows' own errors come first
        self.criteria = [
            {**row, "id": row["id"].heify_id if row.get("id") else None} for row in formset_rows(self)
        ]
        check_rows(rules.clean_criteria, self.criteria)  # the save applies it again


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionFormSet
    fields = ("name", "type", "weight", "description")
    extra = 0
    min_num = rules.CRITERIA_MIN
    max_num = rules.CRITERIA_MAX
    # The rule's own message (which says how many there are) beats the formset's.
    validate_min = validate_max = False
    formfield_overrides = {
        Criterion._meta.get_field("description").__class__: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 50})},
    }


class EvaluatorForm(VersionedForm):
    context = PrettyJSONField(name="context", label=_("Context"), required=False,
                              help_text=_("Any JSON that guides the AI."))

    class Meta:
        model = Evaluator
        fields = ("tag", "description", "language", "context")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            self.fields["language"].choices = [("", "---------"), *rules.language_choices()]

    def clean_tag(self):
        return apply_rule(self, rules.clean_tag, self.cleaned_data.get("tag"))

    def clean_description(self):
        return apply_rule(self, limits.clean_text, self.cleaned_data.get("description"), field="description")

    def clean_context(self):
        return apply_rule(self, limits.clean_json_value, self.cleaned_data.get("context"), field="context")


@admin.register(Evaluator)
class EvaluatorAdmin(HeifyObjectAdmin):
    form = EvaluatorForm
    inlines = [CriterionInline]
    list_display = ("tag", "language", "criteria_count", "strict_count", "sync_state_badge", "updated_in_heify")
    list_filter = (LanguageInUseFilter, "sync_state", GoneFilter)
    search_fields = ("tag", "description", "heify_id")

    class Media:
        js = ("qa/criteria_weights.js",)
        css = {"all": ("qa/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ("tag", "description", "language", "context", "based_on_version")}),
            ("Heify", {"fields": (*self.sync_fields, "updated_in_heify"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # Heify does not let a tag change after creation.
        return (*self.sync_fields, "updated_in_heify", *(("tag",) if obj else ()))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            criteria_count=Count("criteria"),
            strict_count=Count("criteria", filter=Q(criteria__type=rules.STRICT)),
        )

    @admin.display(description=_("criteria"), ordering="criteria_count")
    def criteria_count(self, obj):
        return obj.criteria_count

    @admin.display(description=_("strict"), ordering="strict_count")
    def strict_count(self, obj):
        return obj.strict_count

    def save_with_service(self, form, formsets, *, acting_user):
        data = {**form.cleaned_data, "tag": form.cleaned_data.get("tag", form.instance.tag)}
        data["criteria"] = formsets[0].criteria
        _, notices = services.evaluator_save(
            evaluator=form.instance, data=data, expected_version=form.cleaned_data.get("based_on_version"),
            acting_user=acting_user,
        )
        return notices
