"""Objects in Heify's own JSON shape, plus read-only sync fields.

Serializers check the shape of input (types, required fields); Heify's rules
are applied by qa.mirror.services when the view saves, so the admin and the API give
the same messages.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qa import limits
from qa.mirror import report_rules, revisions, rules, webhook_urls
from qa.mirror.models import GROUP_CHOICES, STATUS_CHOICES
from qa.mirror.rules import Status
from qa.reviews import blinding, record


class StorableJSONField(serializers.JSONField):
    """Any JSON within qa.mirror.rules' limits: PostgreSQL can store it and Heify can be sent it."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return limits.clean_json_value(value, field=self.field_name)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict[self.field_name]) from None


class SyncSerializer(serializers.Serializer):
    """Where the object stands with Heify (read-only)."""

    state = serializers.CharField(source="sync_state", read_only=True)
    error = serializers.CharField(source="sync_error", read_only=True)
    synced_at = serializers.DateTimeField(read_only=True, allow_null=True)
    gone_at = serializers.DateTimeField(read_only=True, allow_null=True)
    version = serializers.IntegerField(read_only=True)


class ExtractionFieldSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    type = serializers.CharField(max_length=16, help_text=", ".join(rules.EXTRACTION_FIELD_TYPES))
    description = serializers.CharField(allow_blank=True, max_length=limits.TEXT_MAX_LENGTH)


class WebhooksSerializer(serializers.Serializer):
    success_url = serializers.CharField(required=False, allow_blank=True, allow_null=True, source="webhook_success_url")
    error_url = serializers.CharField(required=False, allow_blank=True, allow_null=True, source="webhook_error_url")


class ConfigurationSerializer(serializers.Serializer):
    configuration_id = serializers.CharField(source="heify_id", read_only=True, allow_null=True)
    client_id = serializers.CharField(read_only=True)
    tag = serializers.CharField(max_length=rules.TAG_MAX_LENGTH)
    vocabulary = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=limits.TEXT_MAX_LENGTH), required=False)
    extraction_fields = ExtractionFieldSerializer(many=True, required=False)
    summary = serializers.BooleanField(required=False, default=False)
    summary_language = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=8)
    analytics_language = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=8)
    webhooks = WebhooksSerializer(source="*", required=False)
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    sync = SyncSerializer(source="*", read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["extraction_fields"] = [field.as_heify() for field in instance.extraction_fields.all()]
        # The URLs hold the webhook secret: masked unless the reader manages configurations (no reader: masked).
        request = self.context.get("request")
        user = getattr(request, "user", None)
        data["webhooks"] = {key: webhook_urls.webhook_url_for(user, url) for key, url in data["webhooks"].items()}
        return data


class CriterionSerializer(serializers.Serializer):
    id = serializers.CharField(source="heify_id", required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=rules.TAG_MAX_LENGTH)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=limits.TEXT_MAX_LENGTH)
    type = serializers.CharField(max_length=16, help_text=gettext_lazy("boolean, scale or strict (any case)"))
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True,
                                      coerce_to_string=False)


class EvaluatorSerializer(serializers.Serializer):
    evaluator_id = serializers.CharField(source="heify_id", read_only=True, allow_null=True)
    client_id = serializers.CharField(read_only=True)
    tag = serializers.CharField(max_length=rules.TAG_MAX_LENGTH,
                                help_text=gettext_lazy("Cannot change after creation."))
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=limits.TEXT_MAX_LENGTH)
    language = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=8)
    context = StorableJSONField(required=False, allow_null=True)
    criteria = CriterionSerializer(many=True, help_text=gettext_lazy("1 to 10; non-strict weights sum to 100."))
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(source="remote_updated_at", read_only=True, allow_null=True)
    sync = SyncSerializer(source="*", read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["criteria"] = CriterionSerializer(instance.criteria.all(), many=True).data
        return data


class ParticipantSerializer(serializers.Serializer):
    participant_id = serializers.CharField(source="heify_id", read_only=True, allow_null=True)
    client_id = serializers.CharField(read_only=True)
    tag = serializers.CharField(max_length=rules.TAG_MAX_LENGTH)
    metadata = StorableJSONField(required=False,
                                 help_text=gettext_lazy("A JSON object, replaced whole on every write."))
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(source="remote_updated_at", read_only=True, allow_null=True)
    sync = SyncSerializer(source="*", read_only=True)


class SegmentSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    speaker = serializers.CharField(allow_blank=True)


class CriterionResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    passed = serializers.BooleanField()


class ReviewedResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    passed = serializers.BooleanField(allow_null=True)
    value = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("1-5 on a scale criterion, where known."))
    source = serializers.ChoiceField(choices=["ai", "reviewer"])


class ReviewSerializer(serializers.Serializer):
    """The score of record (qa.reviews.record.review_json's shape)."""

    score = serializers.FloatField(allow_null=True,
                                   help_text=gettext_lazy("null where the call's criteria are not known here."))
    score_range = serializers.ListField(child=serializers.FloatField(), allow_null=True, min_length=2, max_length=2)
    critical_fail_triggered = serializers.BooleanField(allow_null=True)
    criteria_results = ReviewedResultSerializer(many=True)
    reviewed_by = serializers.CharField(allow_null=True)
    reviewed_at = serializers.DateTimeField()


class TranscriptionSerializer(serializers.Serializer):
    """Heify's transcription; `details` only when COMPLETED, `error` only when FAILED."""

    transcription_id = serializers.CharField(source="heify_id", read_only=True)
    client_id = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=STATUS_CHOICES, read_only=True)
    configuration_id = serializers.CharField(read_only=True, allow_null=True)
    configuration_tag = serializers.CharField(read_only=True)
    evaluator_id = serializers.CharField(read_only=True, allow_null=True)
    participant_id = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True, allow_null=True)
    group = serializers.ChoiceField(choices=GROUP_CHOICES, allow_null=True, required=True)
    duration = serializers.FloatField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(source="occurred_at", read_only=True, allow_null=True)
    details = serializers.SerializerMethodField()
    error = serializers.JSONField(read_only=True, allow_null=True)
    evaluator_revision = serializers.SerializerMethodField(
        help_text=gettext_lazy("The evaluator revision in force when Heify completed the call (ours, not Heify's).")
    )
    sync = SyncSerializer(source="*", read_only=True)
    review = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The score of record (the reviewer's results where given, the AI's elsewhere, scored by Heify's rule under "
            "the revision that scored the call): null until a verdict exists, and while the reader calibrates on the "
            "call. score_range: [low, high] where a scale value the score needs is unknown (score is then its middle), "
            "else null."))

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, obj) -> dict | None:
        return None if self.ai_hidden(obj) else record.review_json(obj)

    def get_evaluator_revision(self, obj) -> int | None:
        return revisions.call_revision(obj)

    def ai_hidden(self, obj) -> bool:
        """qa.reviews.calibration's rule for the reader (no reader: hidden); a list's calls share one look-up."""
        if "blind_call_ids" not in self.context:
            user = getattr(self.context.get("request"), "user", None)
            self.context["blind_call_ids"] = blinding.blind_call_ids(user) if user else None
        blind = self.context["blind_call_ids"]
        return blind is None or obj.pk in blind

    def get_details(self, obj) -> dict | None:
        """Heify's details; without `evaluation` (the AI's verdicts) while the reader calibrates on the call."""
        if obj.status != Status.COMPLETED:
            return None
        hidden = self.ai_hidden(obj)
        details = {
            **{key: value for key, value in (obj.raw.get("details") or {}).items()
               if not (hidden and key == "evaluation")},
            "language": obj.language or None,
            "num_speakers": obj.num_speakers,
            "conversation": {"segments": obj.segments},
            "summary": {"summary": obj.summary} if obj.summary else None,
            "fields": {"fields": obj.fields},
        }
        if not hidden and (obj.score is not None or obj.criteria_results):
            details["evaluation"] = {
                "score": obj.score,
                "critical_fail_triggered": obj.critical_fail_triggered,
                "criteria_results": obj.criteria_results,
            }
        return {key: value for key, value in details.items() if value is not None}


class MoveSerializer(serializers.Serializer):
    """A call's move to a review group: the body of PATCH and of POST move/ alike."""

    group = serializers.ChoiceField(choices=GROUP_CHOICES, allow_null=True, help_text=gettext_lazy("null: no group"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=rules.REVIEW_TEXT_MAX_LENGTH, default="")


class StepSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=rules.REVIEW_TEXT_MAX_LENGTH, default="")


class ArchiveSerializer(StepSerializer):
    agree_rest = serializers.BooleanField(
        required=False, default=False,
        help_text=gettext_lazy("Record the AI's result as yours on every criterion not decided yet; without it, a "
                               "call with undecided criteria is refused (400) and names them."))


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=rules.REVIEW_TEXT_MAX_LENGTH)


class ReviewEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.get_username", allow_null=True, default=None)
    action = serializers.CharField()
    from_group = serializers.CharField(allow_null=True)
    to_group = serializers.CharField(allow_null=True)
    assignee = serializers.CharField(source="assignee.get_username", allow_null=True, default=None)
    note = serializers.CharField(allow_blank=True)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True, help_text=gettext_lazy("When the token stops working."))


class AgentLinkSerializer(serializers.Serializer):
    """PUT /participants/<id>/agent/: the account to link (qa.agents.services.agent_link says what is wrong)."""

    participant_id = serializers.CharField(read_only=True)
    username = serializers.CharField(max_length=150, allow_null=True,
                                     help_text=gettext_lazy("The agent's username; null in the answer when unlinked."))


@functools.cache
def enveloped(serializer_class):
    """The schema of a single-object answer: {"data": {...}} as Heify wraps its own."""
    name = serializer_class.__name__.removesuffix("Serializer") + "Response"
    return type(name, (serializers.Serializer,), {"data": serializer_class(read_only=True)})


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AnalyticsQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        help_text=gettext_lazy("YYYY-MM-DD: only calls up to the end of that day; periods are its month and the one "
                               "before. Default: today."),
    )

    remote = serializers.BooleanField(required=False, default=False)
    score = serializers.CharField(
        required=False, default=report_rules.ScoreSource.AI.value, allow_blank=True, trim_whitespace=True,
        help_text=gettext_lazy("ai (the default: Heify's report, exactly) or reviewed: every figure on the score of "
                               "record (a reviewed call's reviewed score, critical flag and failed criteria; the AI's "
                               "for the others; the same calls)."),
    )

    def validate_as_of(self, value):
        try:
            return limits.clean_report_date(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["as_of"]) from None

    def validate_score(self, value):
        try:
            return report_rules.clean_score_source(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["score"]) from None
