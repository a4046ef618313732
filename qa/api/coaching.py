"""/api/v1/coaching/: coaching sessions (qa.reviews.coaching holds the rules and who may do what).

QA managers open sessions and list them all (?participant=<Heify id> for one agent's); an agent lists and reads
their own, acknowledges them, and may complete them, as a manager may. Participants and calls are named by their
Heify ids, as everywhere in this API; a session, which is ours alone, by its id here.
Registered in qa/api/urls.py with one include of `urlpatterns` below.
"""

from __future__ import annotations

from django.urls import path
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from qa import policy
from qa.api.pagination import HeifyCursorPagination
from qa.api.views import HeifyAPIMixin, errors
from qa.mirror.models import Participant, Transcription
from qa.reviews import coaching
from qa.reviews.models import CoachingSession


class CoachingSessionSerializer(serializers.ModelSerializer):
    participant = serializers.CharField(source="participant.heify_id",
                                        help_text=gettext_lazy("The agent's participant (Heify id)."))
    participant_tag = serializers.CharField(source="participant.tag")
    calls = serializers.SerializerMethodField(help_text=gettext_lazy("The linked calls' Heify ids."))
    focus_criteria = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Criterion names."))
    action_items = serializers.ListField(child=serializers.CharField())
    created_by = serializers.CharField(source="created_by.get_username", allow_null=True, default=None)
    completed_by = serializers.CharField(source="completed_by.get_username", allow_null=True, default=None,
                                         help_text=gettext_lazy("Who completed it (a QA manager or the agent); null "
                                                                "until then."))

    class Meta:
        model = CoachingSession
        fields = ("id", "participant", "participant_tag", "calls", "focus_criteria", "notes", "action_items",
                  "due_date", "held_at", "created_by", "created_at", "acknowledged_at", "completed_at",
                  "completed_by")

    def get_calls(self, obj) -> list[str]:
        return [call.heify_id for call in obj.calls.all()]


class CoachingCreateSerializer(serializers.Serializer):
    participant = serializers.CharField(max_length=64, help_text=gettext_lazy("The agent's participant (Heify id)."))
    calls = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list,
                                  max_length=coaching.CALLS_MAX,
                                  help_text=gettext_lazy("Heify ids of the agent's own calls the session is about."))
    focus_criteria = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list,
        help_text=gettext_lazy("Names of criteria of the agent's evaluators."))
    notes = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                  help_text=lazy(lambda: gettext("At most %(max)s characters.")
                                                 % {"max": f"{coaching.NOTES_MAX_LENGTH:,}"}, str)())
    action_items = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list,
        help_text=lazy(lambda: gettext("Short texts: at most %(count)d, each at most %(max)d characters.")
                       % {"count": coaching.ACTION_ITEMS_MAX, "max": coaching.ACTION_ITEM_MAX_LENGTH}, str)())
    due_date = serializers.DateField(required=False, allow_null=True, default=None,
                                     help_text=gettext_lazy("Today or later."))
    held_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                        help_text=gettext_lazy("When it was held; default now."))


def _data(session: CoachingSession, status_code=status.HTTP_200_OK) -> Response:
    return Response({"data": CoachingSessionSerializer(session).data}, status=status_code)


class CoachingPagination(HeifyCursorPagination):
    ordering = ("-held_at", "-id")


class CoachingScoped(HeifyAPIMixin, GenericAPIView):
    permission_classes = [IsAuthenticated]  # who may is qa.reviews.coaching's decision
    filter_backends = []
    serializer_class = CoachingSessionSerializer

    @staticmethod
    def require_manager_or_agent(user) -> None:
        if not (policy.may_manage_queues(user) or policy.is_agent(user)):
            raise exceptions.PermissionDenied(_("You are not allowed to see coaching sessions."))

    def session(self) -> CoachingSession:
        """The session at this address, if the user may see it: 404 for an agent's look at another's."""
        self.require_manager_or_agent(self.request.user)
        session = coaching.sessions_visible_to(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if session is None:
            raise exceptions.NotFound()
        return session


@extend_schema(tags=["coaching"])
class CoachingListView(CoachingScoped):
    pagination_class = CoachingPagination

    @extend_schema(summary="Coaching sessions, newest first: every one for a QA manager, an agent's own for them",
                   parameters=[OpenApiParameter("participant", OpenApiTypes.STR, required=False,
                                                description="Only this participant's (Heify id).")],
                   responses={200: CoachingSessionSerializer(many=True), **errors(400)})
    def get(self, request, *args, **kwargs):
        self.require_manager_or_agent(request.user)
        sessions = coaching.sessions_visible_to(request.user)
        participant = request.query_params.get("participant")
        if participant is not None:
            if "\x00" in participant:
                raise exceptions.ValidationError({"participant": [_("Not a participant's id.")]})
            sessions = sessions.filter(participant__heify_id=participant)
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Open a coaching session for an agent (QA managers)", request=CoachingCreateSerializer,
                   responses={201: inline_serializer("CoachingSessionResponse", {"data": CoachingSessionSerializer()}),
                              **errors(400)})
    def post(self, request, *args, **kwargs):
        if not policy.may_manage_queues(request.user):  # before the body is read: a refusal says nothing of it
            raise exceptions.PermissionDenied(_("You are not allowed to open coaching sessions."))
        body = CoachingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        participant = Participant.objects.filter(heify_id=data.pop("participant")).first() \
            if "\x00" not in body.validated_data["participant"] else None
        if participant is None:
            raise exceptions.ValidationError({"participant": [_("No participant has this id.")]})
        wanted = list(dict.fromkeys(data.pop("calls")))
        found = {call.heify_id: call for call in Transcription.objects.filter(
            heify_id__in=[heify_id for heify_id in wanted if "\x00" not in heify_id])}
        missing = [heify_id for heify_id in wanted if heify_id not in found]
        if missing:
            raise exceptions.ValidationError({"calls": [_("No call has the id %(id)r.") % {"id": heify_id}
                                                        for heify_id in missing]})
        session = coaching.coaching_create(participant_id=participant.pk, calls=[found[h] for h in wanted],
                                           acting_user=request.user, **data)
        return _data(coaching.sessions_visible_to(request.user).get(pk=session.pk), status.HTTP_201_CREATED)


@extend_schema(tags=["coaching"], summary="A coaching session (a QA manager's, or the agent's own)",
               responses={200: inline_serializer("CoachingSessionDetail", {"data": CoachingSessionSerializer()}),
                          **errors(404)})
class CoachingDetailView(CoachingScoped):
    def get(self, request, *args, **kwargs):
        return _data(self.session())


class _Step(CoachingScoped):
    step = staticmethod(coaching.coaching_acknowledge)

    def post(self, request, *args, **kwargs):
        session = self.session()
        self.step(session_id=session.pk, acting_user=request.user)
        return _data(coaching.sessions_visible_to(request.user).get(pk=session.pk))


@extend_schema(tags=["coaching"], summary="The agent acknowledges their coaching session (once; again: no change)",
               request=None,
               responses={200: inline_serializer("CoachingAcknowledged", {"data": CoachingSessionSerializer()}),
                          **errors(404)})
class CoachingAcknowledgeView(_Step):
    step = staticmethod(coaching.coaching_acknowledge)


@extend_schema(tags=["coaching"], summary="Record the session completed: a QA manager, or the agent coached "
                                          "(once; again: no change)",
               request=None,
               responses={200: inline_serializer("CoachingCompleted", {"data": CoachingSessionSerializer()}),
                          **errors(404)})
class CoachingCompleteView(_Step):
    step = staticmethod(coaching.coaching_complete)


urlpatterns = [
    path("coaching/", CoachingListView.as_view(), name="api-coaching"),
    path("coaching/<int:pk>/", CoachingDetailView.as_view(), name="api-coaching-detail"),
    path("coaching/<int:pk>/acknowledge/", CoachingAcknowledgeView.as_view(), name="api-coaching-acknowledge"),
    path("coaching/<int:pk>/complete/", CoachingCompleteView.as_view(), name="api-coaching-complete"),
]
