"""/api/v1/ for scorecard intelligence (issue 15): evaluator revisions, what-if, agreement, verdicts.

Thin like the rest of the API: each view checks the input's shape and calls
qa.mirror.revisions, qa.scorecards.whatif, qa.reviews.agreement or qa.reviews.queues, which hold the rules.
Registered in qa/api/urls.py with one include of `urlpatterns` below.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from qa.api import serializers as s
from qa.api.pagination import HeifyCursorPagination
from qa.api.permissions import requires
from qa.api.views import HeifyAPIMixin, errors
from qa.mirror.models import Evaluator, EvaluatorRevision, Transcription
from qa.policy import Permission
from qa.reviews import agreement, queues
from qa.reviews.models import CriterionVerdict
from qa.scorecards import whatif

CanViewEvaluators = requires(Permission.VIEW_EVALUATOR, _("read evaluators"))
CanEditEvaluators = requires(Permission.CHANGE_EVALUATOR, _("edit evaluators"))
CanManageQueues = requires(Permission.MANAGE_REVIEW_QUEUES, _("see how reviewers agree with the AI"))


class EvaluatorRevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    criteria = serializers.JSONField(help_text=_("[{name, description, type, weight}]"))
    source = serializers.CharField(help_text=_("local (edited here) or heify (seen in a pull)"))
    author = serializers.CharField(source="author.username", allow_null=True, read_only=True,
                                   help_text=_("Who saved the criteria here (a username); null for a change seen in "
                                                "Heify, or a former user."))
    created_at = serializers.DateTimeField(source="at")
    in_force_from = serializers.DateTimeField(
        allow_null=True, help_text=_("From when calls were scored with it; null: as far back as we know."))


class EvaluatorScoped(HeifyAPIMixin, GenericAPIView):
    """A view under /evaluators/<id>/ (Heify's id)."""

    filter_backends = []

    def evaluator(self) -> Evaluator:
        if "\x00" in self.kwargs["id"]:
            raise exceptions.NotFound()
        return get_object_or_404(Evaluator, heify_id=self.kwargs["id"])


class RevisionsPagination(HeifyCursorPagination):
    ordering = "-number"


@extend_schema(summary="An evaluator's revisions, newest first",
               responses={200: EvaluatorRevisionSerializer(many=True), **errors(400, 404)})
class EvaluatorRevisionsView(EvaluatorScoped):
    permission_classes = [CanViewEvaluators]
    pagination_class = RevisionsPagination
    serializer_class = EvaluatorRevisionSerializer

    def get_queryset(self):
        return EvaluatorRevision.objects.filter(evaluator=self.evaluator()).select_related("author")

    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class WhatIfSerializer(serializers.Serializer):
    criteria = serializers.JSONField(help_text=_("The evaluator's criteria as a save takes them: "
                                                  "[{name, description, type, weight}]; checked by the same rules."))
    limit = serializers.IntegerField(required=False, min_value=1, max_value=whatif.MAX_LIMIT,
                                     help_text=_("The newest scored calls to rescore (default 1,000)."))
    date_from = serializers.DateField(required=False, help_text=_("Calls dated on or after this day (UTC)."))
    date_to = serializers.DateField(required=False, help_text=_("Calls dated on or before this day (UTC)."))


@extend_schema(summary="Preview what new criteria would do to past scores (changes nothing)",
               request=WhatIfSerializer, responses={200: OpenApiTypes.OBJECT, **errors(400, 404)})
class EvaluatorWhatIfView(EvaluatorScoped):
    permission_classes = [CanEditEvaluators]
    serializer_class = WhatIfSerializer

    def post(self, request, *args, **kwargs):
        evaluator = self.evaluator()
        query = WhatIfSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        return Response({"data": whatif.evaluator_what_if(evaluator=evaluator, **query.validated_data)})


class AgreementQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=_("Calls dated on or after this day (UTC)."))
    date_to = serializers.DateField(required=False, help_text=_("Calls dated on or before this day (UTC)."))


@extend_schema(summary="How the reviewers' verdicts agree with the AI's, per criterion (Cohen's kappa) and reviewer",
               description="Per criterion: the pass/fail table, agreement rate and Cohen's kappa with its 95% "
                           "interval; on scale criteria (`scale`: true) also the values: `value_table` (the AI's "
                           "value 1-5 by row, the reviewer's by column, where both are known), `values_compared`, "
                           "`values_unknown`, `same_value_rate` and the quadratic-weighted kappa with its 95% "
                           "interval (`weighted_kappa`, `weighted_kappa_ci_low`, `weighted_kappa_ci_high`, or "
                           "`weighted_kappa_undefined_reason`). A kappa that cannot be computed is null with the "
                           "reason. Each disagreement carries both results (`ai_passed`, `ai_value`, "
                           "`reviewer_passed`, `reviewer_value`).",
               parameters=[AgreementQuerySerializer], responses={200: OpenApiTypes.OBJECT, **errors(400, 404)})
class EvaluatorAgreementView(EvaluatorScoped):
    permission_classes = [CanManageQueues]

    def get(self, request, *args, **kwargs):
        evaluator = self.evaluator()
        query = AgreementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"data": agreement.evaluator_agreement(evaluator=evaluator, **query.validated_data)})


class VerdictSerializer(serializers.Serializer):
    """One verdict's shape; its rules (the criterion, the reason and its length) are qa.reviews.queues', as on the
    review page."""

    criterion = serializers.CharField(max_length=255)
    agrees = serializers.BooleanField(required=False, default=None, allow_null=True,
                                      help_text=_("The AI's result is the reviewer's (false: its opposite)."))
    passed = serializers.BooleanField(required=False, default=None, allow_null=True,
                                      help_text=_("Instead of agrees, for a boolean or strict criterion."))
    value = serializers.IntegerField(required=False, default=None, allow_null=True,
                                     help_text=_("Instead of agrees, for a scale criterion: 1 to 5."))
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text=_("Required when the result differs from the AI's; at most 5,000 "
                                                "characters."))


class VerdictsSerializer(serializers.Serializer):
    verdicts = VerdictSerializer(many=True, allow_empty=False, help_text=_("Each criterion once."))


class RecordedVerdictSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion_name")
    agrees = serializers.BooleanField()
    passed = serializers.BooleanField(allow_null=True)
    value = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    reviewer = serializers.CharField(source="reviewer.get_username", allow_null=True, default=None)
    at = serializers.DateTimeField()


@extend_schema(summary="Record the reviewer's results beside the AI's (as on the review page); the call's score of "
                       "record follows them",
               request=VerdictsSerializer,
               responses={200: inline_serializer("TranscriptionVerdictsResponse",
                                                 {"data": RecordedVerdictSerializer(many=True)}),
                          **errors(400, 404),
                          409: OpenApiResponse(s.ErrorSerializer, description=(
                              "You score this call blind in an open calibration session: no verdict on the AI's "
                              "result until you have submitted your answers."))})
class TranscriptionVerdictsView(HeifyAPIMixin, GenericAPIView):
    """The verdicts are recorded by qa.reviews.queues.transcription_verdicts_record, as on the review page (its rules
    and permissions), all or none; a criterion's earlier verdict is replaced, the others stay."""

    permission_classes = [IsAuthenticated]  # who may record is qa.reviews.queues' decision
    filter_backends = []
    serializer_class = VerdictsSerializer
    queryset = Transcription.objects.all()
    lookup_field = "heify_id"
    lookup_url_kwarg = "id"

    def put(self, request, *args, **kwargs):
        # The role before anything is read: a refusal says nothing of the call or of the body. (The service asks
        # it too, as it must for any caller, once for every verdict.)
        queues.require_step(request.user, queues.Step.VERDICT)
        call = self.get_object()  # HeifyAPIMixin's: a NUL in the id is a 404 without a query
        body = VerdictsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = body.validated_data["verdicts"]
        try:
            queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=request.user, verdicts=[
                queues.Verdict(criterion_name=item["criterion"], agrees=item["agrees"], reason=item["reason"],
                               passed=item["passed"], value=item["value"])
                for item in items])
        except queues.VerdictRefused as refused:  # which item, in the body's names
            detail = [{} for _ in items]
            detail[refused.index] = {API_NAMES.get(k, k): v for k, v in refused.message_dict.items()}
            raise exceptions.ValidationError({"verdicts": detail}) from None
        recorded = CriterionVerdict.objects.filter(transcription=call).select_related("reviewer")  # none if blind
        return Response({"data": RecordedVerdictSerializer(recorded, many=True).data})


API_NAMES = {"criterion_name": "criterion"}  # qa.reviews.queues.Verdict's field -> the body's


urlpatterns = [
    path("evaluators/<str:id>/revisions/", EvaluatorRevisionsView.as_view(), name="api-evaluator-revisions"),
    path("evaluators/<str:id>/what-if/", EvaluatorWhatIfView.as_view(), name="api-evaluator-what-if"),
    path("evaluators/<str:id>/agreement/", EvaluatorAgreementView.as_view(), name="api-evaluator-agreement"),
    path("transcriptions/<str:id>/verdicts/", TranscriptionVerdictsView.as_view(), name="api-transcription-verdicts"),
]
