"""/api/v1/ for agents (issue 23): who am I (`me/`, for every signed-in user), an agent's own calls
(`me/transcriptions/`) and acknowledging a call's review (`transcriptions/<id>/acknowledge/`).

Thin like the rest of the API: rules are qa.agents.services' and qa.policy's, the calls qa.agents.selectors'.
Registered in qa/api/urls.py with one include of `urlpatterns` below. Linking an account to a participant is the
participants' viewset's `agent` action (qa/api/views.py).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from qa import policy
from qa.agents import selectors, services
from qa.api import serializers as s
from qa.api.pagination import TranscriptionPagination
from qa.api.permissions import requires
from qa.api.views import HeifyAPIMixin, errors, respond
from qa.mirror import revisions
from qa.mirror.models import Transcription
from qa.reviews.models import CriterionVerdict
from qa.roles import ROLES

IsAgent = requires(policy.Permission.VIEW_OWN_EVALUATIONS, gettext_lazy("see an agent's own evaluations: agents only"))


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(),
                                  help_text=gettext_lazy("The back office's roles held."))
    participant = inline_serializer("MeParticipant", {"id": serializers.CharField(help_text=gettext_lazy("Heify's id")),
                                                      "tag": serializers.CharField()}, allow_null=True,
                                    help_text=gettext_lazy("The participant an agent's account is linked to; null "
                                                           "otherwise."))


class AgentTranscriptionSerializer(s.TranscriptionSerializer):
    """The transcription JSON, with what the agent's page shows besides: whether the current review was
    acknowledged, and the reviewer's reasons."""

    acknowledged = serializers.BooleanField(
        read_only=True, help_text=gettext_lazy("The current review (its reviewed_at) was acknowledged; false until "
                                               "reviewed."))
    reviewer_reasons = serializers.SerializerMethodField(
        help_text=gettext_lazy("The reviewer's reason per criterion, where given."))

    def get_reviewer_reasons(self, obj) -> dict[str, str]:
        return {verdict.criterion_name: verdict.reason for verdict in obj.criterion_verdicts.all() if verdict.reason}


@extend_schema(summary="Who is signed in: username, roles and, for an agent, the linked participant",
               responses={200: s.enveloped(MeSerializer), **errors()})
class MeView(HeifyAPIMixin, GenericAPIView):
    permission_classes = [IsAuthenticated]
    filter_backends = []
    pagination_class = None

    def get(self, request, *args, **kwargs):
        participant = policy.agent_participant(request.user)
        roles = sorted(Group.objects.filter(user=request.user, name__in=ROLES).values_list("name", flat=True))
        return Response({"data": {
            "username": request.user.get_username(), "roles": roles,
            "participant": None if participant is None else {"id": participant.heify_id, "tag": participant.tag}}})


@extend_schema(summary="An agent's own calls, newest first (agents; 403 for anyone else)",
               responses={200: AgentTranscriptionSerializer(many=True), **errors(400)})
class MyTranscriptionsView(HeifyAPIMixin, GenericAPIView):
    """The calls of the participant the agent's account is linked to (none while it is linked to none), reviewed
    or not, paged like /transcriptions/ (`limit`, `cursor`)."""

    permission_classes = [IsAgent]
    serializer_class = AgentTranscriptionSerializer
    pagination_class = TranscriptionPagination
    filter_backends = []

    def get_queryset(self):
        calls = selectors.agent_calls(policy.agent_participant(self.request.user))
        return revisions.with_evaluator_revision(calls).prefetch_related(
            Prefetch("criterion_verdicts", CriterionVerdict.objects.order_by("criterion_name")))

    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AcknowledgeSerializer(serializers.Serializer):
    """Acknowledging takes no body (what OPTIONS describes)."""


@extend_schema(summary="Acknowledge the review of one of your calls (its own agent; a reviewed call; idempotent)",
               request=None, responses={200: s.enveloped(AgentTranscriptionSerializer), **errors(400, 404)})
class AcknowledgeView(HeifyAPIMixin, GenericAPIView):
    permission_classes = [IsAgent]
    filter_backends = []
    serializer_class = AcknowledgeSerializer

    def post(self, request, *args, **kwargs):
        heify_id = self.kwargs["id"]
        call = Transcription.objects.filter(heify_id=heify_id).first() if "\x00" not in heify_id else None
        if call is None:
            raise exceptions.NotFound()
        try:
            services.transcription_acknowledge(transcription_id=call.pk, acting_user=request.user)
        except services.NotYours:
            if policy.sees_own_only(request.user):
                raise exceptions.NotFound() from None  # another's call: to an agent, as if it did not exist
            raise exceptions.PermissionDenied(_("Only the call's own agent acknowledges its review.")) from None
        mine = selectors.agent_calls(policy.agent_participant(request.user))
        shown = revisions.with_evaluator_revision(mine).prefetch_related("criterion_verdicts").get(pk=call.pk)
        return respond(AgentTranscriptionSerializer, shown, context={"request": request})


urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("me/transcriptions/", MyTranscriptionsView.as_view(), name="api-me-transcriptions"),
    path("transcriptions/<str:id>/acknowledge/", AcknowledgeView.as_view(), name="api-transcription-acknowledge"),
]
