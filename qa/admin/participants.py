"""Admin for participants: metadata edited and saved as one whole object."""

from django.contrib import admin

from qa import rules, services
from qa.admin.base import HeifyObjectAdmin, PrettyJSONField, VersionedForm, apply_rule
from qa.models import Participant


class ParticipantForm(VersionedForm):
    metadata = PrettyJSONField(
        required=False,
        help_text="The whole metadata object. Saving replaces it entirely, as Heify does: "
        "a key you remove here is removed in Heify.",
    )
    compare_fields = ("metadata",)

    class Meta:
        model = Participant
        fields = ("tag", "metadata")

    def clean(self):
        data = super().clean()
        if "metadata" in data:  # absent when the JSON itself was invalid
            apply_rule(self, rules.clean_participant, data)
        return data


@admin.register(Participant)
class ParticipantAdmin(HeifyObjectAdmin):
    form = ParticipantForm
    list_display = ("tag", "metadata_keys", "sync_state_badge", "remote_updated_at")
    list_filter = ("sync_state",)
    search_fields = ("tag", "heify_id")

    class Media:
        css = {"all": ("qa/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ("tag", "metadata", "based_on_version")}),
            ("Heify", {"fields": (*self.sync_fields, "remote_updated_at"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*self.sync_fields, "remote_updated_at")

    @admin.display(description="metadata")
    def metadata_keys(self, obj):
        return ", ".join(sorted(obj.metadata)) if isinstance(obj.metadata, dict) else ""

    def save_with_service(self, form, formsets):
        services.participant_save(
            participant=form.instance,
            data=form.cleaned_data,
            expected_version=form.cleaned_data.get("based_on_version"),
        )
