"""/api/v1/ for disputes (issue 23): an agent disputes a criterion's result of a reviewed call of theirs, a QA
manager resolves it, and each reads the disputes they may.

Thin like the rest of the API: the rules (who, which call, the window, once per criterion, the outcome and its
result) are qa.reviews.disputes'. Registered in qa/api/urls.py with one include of `urlpatterns` below.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from qa import policy
from qa.api.pagination import HeifyCursorPagination
from qa.api.views import HeifyAPIMixin, errors
from qa.mirror.models import Transcription
from qa.reviews import disputes
from qa.reviews.models import Dispute


class ResultSerializer(serializers.Serializer):
    passed = serializers.BooleanField(allow_null=True)
    value = serializers.IntegerField(allow_null=True,
                                     help_text=gettext_lazy("On a scale criterion, 1-5 (null: not known)."))
    source = serializers.CharField(required=False, allow_null=True, help_text=gettext_lazy("ai or reviewer"))


class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    transcription_id = serializers.CharField(source="transcription.heify_id",
                                             help_text=gettext_lazy("Heify's id of the call."))
    criterion = serializers.CharField(source="criterion_name")
    status = serializers.ChoiceField(choices=Dispute.Status.choices)
    reason = serializers.CharField(help_text=gettext_lazy("The agent's."))
    raised_by = serializers.CharField(source="raised_by.get_username", allow_null=True, default=None)
    raised_at = serializers.DateTimeField()
    result_disputed = ResultSerializer(source="result_when_raised",
                                       help_text=gettext_lazy("The criterion's result of record when it was disputed."))
    reviewer = serializers.CharField(source="reviewer.get_username", allow_null=True, default=None,
                                     help_text=gettext_lazy("Whose result was disputed."))
    resolved_by = serializers.CharField(source="resolved_by.get_username", allow_null=True, default=None)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_reason = serializers.CharField(allow_blank=True)
    result_given = serializers.SerializerMethodField(help_text=gettext_lazy("Upheld: the result of record it gave; "
                                                                            "else null."))

    def get_result_given(self, dispute) -> dict | None:
        if dispute.status != Dispute.Status.UPHELD:
            return None
        return {"passed": dispute.upheld_passed, "value": dispute.upheld_value}


class RaiseSerializer(serializers.Serializer):
    criterion = serializers.CharField(max_length=255,
                                      help_text=gettext_lazy("The criterion's name, as in the call's results."))
    reason = serializers.CharField(allow_blank=True,
                                   help_text=gettext_lazy("Why the result is wrong; at most 5,000 characters."))


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text=gettext_lazy("upheld or rejected."))
    reason = serializers.CharField(allow_blank=True, help_text=gettext_lazy("Why; at most 5,000 characters."))
    passed = serializers.BooleanField(required=False, default=None, allow_null=True,
                                      help_text=gettext_lazy("Upheld, on a boolean or strict criterion: the result "
                                                             "of record."))
    value = serializers.IntegerField(required=False, default=None, allow_null=True,
                                     help_text=gettext_lazy("Upheld, on a scale criterion: the value of record, 1 to "
                                                            "5."))


class ListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Dispute.Status.choices, required=False,
                                     help_text=gettext_lazy("open, upheld or rejected; all when absent."))


def _denied(refusal: PermissionDenied):
    return exceptions.PermissionDenied(str(refusal) or None)


class DisputesPagination(HeifyCursorPagination):
    ordering = "-id"


Envelope = inline_serializer("DisputeResponse", {"data": DisputeSerializer()})


@extend_schema(summary="Dispute one criterion's result of a reviewed call of yours (agents)",
               description="The call's own agent, within DISPUTE_WINDOW_DAYS of its review, once per criterion, "
                           "with a reason. A QA manager who did not review the call resolves it.",
               request=RaiseSerializer, responses={201: Envelope, **errors(400, 404)})
class TranscriptionDisputesView(HeifyAPIMixin, GenericAPIView):
    """Raise a dispute (qa.reviews.disputes.dispute_raise): 403 to anyone but an agent linked to a participant,
    404 for a call that is not theirs."""

    permission_classes = [IsAuthenticated]
    filter_backends = []
    serializer_class = RaiseSerializer
    lookup_url_kwarg = "id"

    def post(self, request, *args, **kwargs):
        # The role before anything is read: a refusal says nothing of the call.
        if policy.agent_participant(request.user) is None:
            raise exceptions.PermissionDenied(_("Only an agent linked to a participant disputes a result, on their "
                                                "own calls."))
        if "\x00" in self.kwargs["id"]:
            raise exceptions.NotFound()
        call = Transcription.objects.filter(heify_id=self.kwargs["id"]).first()
        body = RaiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            if call is None:
                raise Transcription.DoesNotExist
            dispute = disputes.dispute_raise(transcription_id=call.pk, acting_user=request.user,
                                             **body.validated_data)
        except Transcription.DoesNotExist:  # not there, or not the agent's: the same answer
            raise exceptions.NotFound() from None
        except PermissionDenied as refusal:
            raise _denied(refusal) from None
        return Response({"data": DisputeSerializer(dispute).data}, status=status.HTTP_201_CREATED)


@extend_schema(summary="Resolve a dispute: upheld (with the result of record it gives) or rejected (QA managers "
                       "who did not review the call)",
               description="Upheld: `passed` (boolean and strict criteria) or `value` (scale, 1-5) becomes the "
                           "criterion's result of record, recorded as the manager's verdict (an archived call stays "
                           "archived); the call's history says which dispute. Rejected: nothing changes.",
               request=ResolveSerializer, responses={200: Envelope, **errors(400, 404)})
class DisputeResolveView(HeifyAPIMixin, GenericAPIView):
    """Resolve a dispute (qa.reviews.disputes.dispute_resolve): 403 to anyone but a QA manager, and to the one who
    reviewed the call."""

    permission_classes = [IsAuthenticated]
    filter_backends = []
    serializer_class = ResolveSerializer

    def post(self, request, *args, **kwargs):
        if not policy.may_manage_queues(request.user):  # before the lookup
            raise exceptions.PermissionDenied(_("Only a QA manager resolves disputes."))
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            dispute = disputes.dispute_resolve(dispute_id=self.kwargs["pk"], acting_user=request.user,
                                               **body.validated_data)
        except Dispute.DoesNotExist:
            raise exceptions.NotFound() from None
        except PermissionDenied as refusal:
            raise _denied(refusal) from None
        dispute = Dispute.objects.select_related("transcription", "raised_by", "resolved_by", "reviewer").get(
            pk=dispute.pk)
        return Response({"data": DisputeSerializer(dispute).data})


@extend_schema(summary="The disputes you may read: QA managers every one, an agent theirs, a reviewer those of "
                       "their results",
               parameters=[ListQuerySerializer, OpenApiParameter("cursor", OpenApiTypes.STR, required=False)],
               responses={200: DisputeSerializer(many=True), **errors(400)})
class DisputeListView(HeifyAPIMixin, GenericAPIView):
    """The disputes the user may read, newest first (qa.reviews.disputes.disputes_visible); 403 to anyone else."""

    permission_classes = [IsAuthenticated]
    filter_backends = []
    pagination_class = DisputesPagination
    serializer_class = DisputeSerializer

    def get(self, request, *args, **kwargs):
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            visible = disputes.disputes_visible(request.user, status=query.validated_data.get("status"))
        except PermissionDenied as refusal:
            raise _denied(refusal) from None
        page = self.paginate_queryset(visible.order_by())
        return self.get_paginated_response(DisputeSerializer(page, many=True).data)


urlpatterns = [
    path("transcriptions/<str:id>/disputes/", TranscriptionDisputesView.as_view(), name="api-transcription-disputes"),
    path("disputes/", DisputeListView.as_view(), name="api-disputes"),
    path("disputes/<int:pk>/resolve/", DisputeResolveView.as_view(), name="api-dispute-resolve"),
]
