"""API views: thin, like the admin. Shapes in serializers.py, rules and Heify in qa.mirror.services.

Every answer is wrapped as Heify wraps its own ({"data": ...}). A write that
Heify took answers 200/201; one that waits because Heify is unreachable
answers 202 with the object's sync.state "waiting". ETag is the object's
version; If-Match guards a read-modify-write (412 when it moved).
"""

from __future__ import annotations

import re

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from knox.models import get_token_model
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from qa import heify, policy
from qa.agents import services as agent_services
from qa.api import serializers as s
from qa.api.authentication import TokenAuthentication
from qa.api.errors import Conflict, HeifyUnavailable, LockedOut, QuotaExceeded, check_body_size
from qa.api.exports import ExportListMixin
from qa.api.filters import ConfigurationFilter, EvaluatorFilter, ParticipantFilter, TranscriptionFilter
from qa.api.pagination import HeifyCursorPagination, TranscriptionPagination
from qa.api.permissions import requires
from qa.api.schema import HeifyAutoSchema
from qa.insights import analytics
from qa.mirror import revisions, services
from qa.mirror.models import Configuration, Criterion, Evaluator, Participant, Transcription
from qa.reviews import blinding, calibration, exports, queues

ERRORS = {
    code: OpenApiResponse(s.ErrorSerializer, description=text)
    for code, text in {
        400: "Invalid input; `fields` names each problem.",
        401: "No or bad token.",
        403: "No permission.",
        404: "No such object.",
        409: "Changed in Heify since this change's version.",
        412: "Changed since the version given in If-Match.",
        429: "Heify's quota is used up, or too many requests or failed sign-ins from this client.",
        503: "Heify could not be reached.",
    }.items()
}


def errors(*codes):
    return {code: ERRORS[code] for code in (401, 403, *codes)}


IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description='The ETag of the version this change is based on, e.g. "3"; 412 if it moved.',
)
# Every answer that carries one object (`respond`) carries its version as ETag.
ETAG = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 201, 202],
    description='The object\'s version, e.g. "3": send it back as If-Match to change this version only.',
)
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


def if_match(request) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    match = _ETAG.match(header)
    if not match:
        raise exceptions.ValidationError({"If-Match": [_('must be an ETag such as "3", not %(value)r.')
                                                       % {"value": header}]})
    return int(match.group(1))


def respond(serializer_class, obj, status_code=status.HTTP_200_OK, context: dict | None = None) -> Response:
    response = Response({"data": serializer_class(obj, context=context or {}).data}, status=status_code)
    response["ETag"] = f'"{obj.version}"'
    return response


class HeifyAPIMixin:
    """What every view here shares: a schema that also declares DRF's own answers (406, 415),
    a 413 before any body is read, and a 404 without a query for an id no row can hold.
    Bodies are JSON only (qa.api.parsers, the settings' default)."""

    schema = HeifyAutoSchema()

    def initial(self, request, *args, **kwargs):
        check_body_size(request)
        super().initial(request, *args, **kwargs)

    def get_object(self):
        if "\x00" in str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")):
            raise exceptions.NotFound()  # PostgreSQL refuses to even compare a NUL
        return super().get_object()


class LiveUnlessAskedMixin:
    """A viewset of mirrored objects, whose `queryset` holds gone ones too (`all_objects`): its list holds what
    Heify still has unless `gone=true` asks (qa.api.filters.GoneFilterSet); GET by id answers a gone object too,
    with its gone_at; every other action (changes, review steps, reports) finds only what Heify still has."""

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action in ("list", "retrieve") else queryset.filter(gone_at__isnull=True)

    def filter_queryset(self, queryset):
        # The filters and the ordering are the list's: an address with an id names one object whatever
        # the query string says (DRF would apply them to get_object too: ?status=FAILED was a 404).
        return super().filter_queryset(queryset) if self.action == "list" else queryset


class HeifyObjectViewSet(LiveUnlessAskedMixin, ExportListMixin, HeifyAPIMixin, GenericViewSet):
    """List, read, create, replace, change and delete one of Heify's editable objects."""

    lookup_field = "heify_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    pagination_class = HeifyCursorPagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["tag", "id"]

    def service_save(self, obj, data: dict, expected_version: int | None):
        raise NotImplementedError

    def as_data(self, obj) -> dict:
        """The object as the service takes it, for a partial update to start from."""
        raise NotImplementedError

    def to_data(self, validated: dict) -> dict:
        return dict(validated)

    def retrieve(self, request, *args, **kwargs):
        return respond(self.get_serializer_class(), self.get_object(), context=self.get_serializer_context())

    def _save(self, obj, data, *, expected_version, created_status=status.HTTP_200_OK):
        saved = self.service_save(obj, data, expected_version) or obj
        code = status.HTTP_202_ACCEPTED if saved.awaits_heify else created_status
        return respond(self.get_serializer_class(), saved, code, context=self.get_serializer_context())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.get_queryset().model()
        return self._save(obj, self.to_data(serializer.validated_data), expected_version=None,
                          created_status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        obj = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = self.to_data(serializer.validated_data)
        if partial:
            data = {**self.as_data(obj), **data}
        return self._save(obj, data, expected_version=if_match(request))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        if services.heify_object_delete(obj=obj, acting_user=request.user):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return respond(self.get_serializer_class(), obj, status.HTTP_202_ACCEPTED,
                       context=self.get_serializer_context())


def step_schema(summary: str, request, *codes: int, if_match: bool = False):
    """A review step's schema: the call as it ends up (202 while Heify has yet to take the move), its ETag, and
    the step's errors besides 400 and 404; `if_match`: the step honours If-Match (412 when the call moved)."""
    one = s.enveloped(s.TranscriptionSerializer)
    return extend_schema(summary=summary, request=request, parameters=[IF_MATCH, ETAG] if if_match else [ETAG],
                         responses={200: one, 202: one, **errors(400, 404, *codes)})


def crud_schema(serializer_class, name):
    a = f"an {name}" if name[0] in "aeiou" else f"a {name}"
    one = s.enveloped(serializer_class)
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}s", responses={200: serializer_class(many=True), **errors(400)}),
        retrieve=extend_schema(summary=f"Read {a}", parameters=[ETAG], responses={200: one, **errors(404)}),
        create=extend_schema(summary=f"Create {a} (in Heify first)", parameters=[ETAG],
                             responses={201: one, 202: one, **errors(400, 409, 503)}),
        update=extend_schema(summary=f"Replace {a}", parameters=[IF_MATCH, ETAG],
                             responses={200: one, 202: one, **errors(400, 404, 409, 412)}),
        partial_update=extend_schema(summary=f"Change some fields of {a}", parameters=[IF_MATCH, ETAG],
                                     responses={200: one, 202: one, **errors(400, 404, 409, 412)}),
        destroy=extend_schema(summary=f"Delete {a} (in Heify first)", parameters=[ETAG],
                              responses={204: None, 202: one, **errors(400, 404)}),
    )


@crud_schema(s.ConfigurationSerializer, "configuration")
class ConfigurationViewSet(HeifyObjectViewSet):
    queryset = Configuration.all_objects.prefetch_related("extraction_fields")
    serializer_class = s.ConfigurationSerializer
    filterset_class = ConfigurationFilter

    def to_data(self, validated):
        data = dict(validated)
        if "extraction_fields" in data:
            data["extraction_fields"] = [dict(f) for f in data["extraction_fields"]]
        return data

    def as_data(self, obj):
        return {
            "tag": obj.tag, "vocabulary": obj.vocabulary, "summary": obj.summary,
            "summary_language": obj.summary_language, "analytics_language": obj.analytics_language,
            "webhook_success_url": obj.webhook_success_url, "webhook_error_url": obj.webhook_error_url,
            "extraction_fields": [f.as_heify() for f in obj.extraction_fields.all()],
        }

    def service_save(self, obj, data, expected_version):
        return services.configuration_save(configuration=obj, data=data, expected_version=expected_version,
                                           acting_user=self.request.user)


@crud_schema(s.EvaluatorSerializer, "evaluator")
class EvaluatorViewSet(HeifyObjectViewSet):
    queryset = Evaluator.all_objects.prefetch_related(Prefetch("criteria", Criterion.objects.order_by("position")))
    serializer_class = s.EvaluatorSerializer
    filterset_class = EvaluatorFilter

    def to_data(self, validated):
        data = dict(validated)
        if "criteria" in data:
            data["criteria"] = [
                {**{k: v for k, v in c.items() if k != "heify_id"}, "id": c.get("heify_id") or None}
                for c in data["criteria"]
            ]
        return data

    def as_data(self, obj):
        return {
            "tag": obj.tag, "description": obj.description, "language": obj.language, "context": obj.context,
            "criteria": [
                {"id": c.heify_id, "name": c.name, "description": c.description, "type": c.type, "weight": c.weight}
                for c in obj.criteria.all()
            ],
        }

    def service_save(self, obj, data, expected_version):
        evaluator, _notices = services.evaluator_save(evaluator=obj, data=data, expected_version=expected_version,
                                                      acting_user=self.request.user)
        return evaluator


@crud_schema(s.ParticipantSerializer, "participant")
class ParticipantViewSet(HeifyObjectViewSet):
    queryset = Participant.all_objects.all()
    serializer_class = s.ParticipantSerializer
    filterset_class = ParticipantFilter

    def as_data(self, obj):
        return {"tag": obj.tag, "metadata": obj.metadata}

    def service_save(self, obj, data, expected_version):
        return services.participant_save(participant=obj, data=data, expected_version=expected_version,
                                         acting_user=self.request.user)

    @extend_schema(
        summary="The participant's analytics, in the shape of Heify's analytics-participant",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, required=False),
            OpenApiParameter("score", OpenApiTypes.STR, required=False, enum=["ai", "reviewed"],
                             description="ai (default): Heify's report, figure for figure. reviewed: the same report "
                                         "on the score of record (each reviewed call's reviewed score, critical flag "
                                         "and failed criteria; the AI's for the others); its metadata says "
                                         "\"score\": \"reviewed\"."),
            OpenApiParameter("remote", OpenApiTypes.BOOL, required=False,
                             description="Also answer Heify's own report as `remote` (QA managers: it uses Heify's "
                                         "monthly quota; a report fetched today is answered again; 409 while you "
                                         "score some of its calls blind in calibration)."),
        ],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 404, 429, 503),
                   409: OpenApiResponse(s.ErrorSerializer, description=(
                       "remote=true while you score some of the participant's calls blind in a calibration "
                       "session: Heify's report would show them."))},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def analytics(self, request, *args, **kwargs):
        """{"data": {...}} exactly as Heify's analytics-participant answers, computed from the mirror (on the AI's
        score; `score=reviewed` on the score of record, in the same shape)."""
        query = s.AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["remote"] and not policy.may_compare_with_heify(request.user):
            # Before the lookup: a refusal says nothing of whether the participant exists.
            raise exceptions.PermissionDenied(
                _("remote=true asks Heify for its own report, which uses its monthly quota: QA managers only.")
            )
        participant = self.get_object()
        blind = blinding.blind_heify_ids(request.user, participant.heify_id)
        if blind and query.validated_data["remote"]:
            raise Conflict(blinding.HEIFY_REPORT_WHILE_BLIND)
        # Without the calls the reader scores blind, in any figure.
        report = analytics.participant_report(participant, as_of=query.validated_data.get("as_of"), leave_out=blind,
                                              score=query.validated_data["score"])
        body = {"data": report}
        if query.validated_data["remote"]:
            # Heify's own report beside ours: one call of the monthly analytics quota, then kept for the day.
            try:
                body["remote"] = heify.participant_report(participant.heify_id).report
            except heify.QuotaExceeded:
                raise QuotaExceeded(
                    _("Heify's monthly analytics quota is used up: its report cannot be asked for now.")
                ) from None
            except heify.Unavailable as exc:
                raise HeifyUnavailable(_("Heify could not answer: %(error)s") % {"error": exc.message}) from None
        return Response(body)

    @extend_schema(summary="Link an agent's account to the participant (QA managers; nothing is sent to Heify)",
                   request=s.AgentLinkSerializer, responses={200: s.enveloped(s.AgentLinkSerializer),
                                                             **errors(400, 404)}, methods=["PUT"])
    @extend_schema(summary="Unlink the participant's agent account (QA managers)", request=None,
                   responses={200: s.enveloped(s.AgentLinkSerializer), **errors(404)}, methods=["DELETE"])
    @action(detail=True, methods=["put", "delete"], pagination_class=None, filter_backends=[],
            permission_classes=[requires(policy.Permission.MANAGE_REVIEW_QUEUES,
                                                  gettext_lazy("link agents' accounts"))])
    def agent(self, request, *args, **kwargs):
        """{"username"} links that account (Agent role only; one participant per account, one account per
        participant); DELETE unlinks. Answers {"data": {"participant_id", "username"}} (username null: unlinked)."""
        participant = self.get_object()
        if request.method == "DELETE":
            participant = agent_services.agent_unlink(participant_id=participant.pk, acting_user=request.user)
        else:
            body = s.AgentLinkSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            participant = agent_services.agent_link(participant_id=participant.pk,
                                                    username=body.validated_data["username"],
                                                    acting_user=request.user)
        user = participant.agent_user
        return Response({"data": {"participant_id": participant.heify_id,
                                  "username": user.get_username() if user else None}})


@extend_schema_view(
    list=extend_schema(summary="List transcriptions", responses={200: s.TranscriptionSerializer(many=True),
                                                                 **errors(400)}),
    retrieve=extend_schema(summary="Read a transcription", parameters=[ETAG],
                           responses={200: s.enveloped(s.TranscriptionSerializer), **errors(404)}),
    partial_update=step_schema("Move a transcription to a review group (managers; as POST move/ does)",
                               s.MoveSerializer, 412, if_match=True),
)
class TranscriptionViewSet(LiveUnlessAskedMixin, ExportListMixin, HeifyAPIMixin, GenericViewSet):
    """Heify's output: read-only but for its review group."""

    queryset = revisions.with_evaluator_revision(Transcription.all_objects.select_related("reviewed_by"))
    serializer_class = s.TranscriptionSerializer
    lookup_field = "heify_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    pagination_class = TranscriptionPagination
    filterset_class = TranscriptionFilter
    ordering_fields = ["occurred_at"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_permissions(self):
        if self.action in REVIEW_STEPS and self.request.method not in SAFE_METHODS:
            # Who may take a review step is qa.reviews.queues' to decide (see _step).
            return [IsAuthenticated()]
        return super().get_permissions()

    def filter_queryset(self, queryset):
        # A list leaves out the calls its reader is calibrating blind (qa.reviews.calibration); their own
        # address answers.
        queryset = super().filter_queryset(queryset)
        return blinding.without_blind_calls(queryset, self.request.user) if self.action == "list" else queryset

    def retrieve(self, request, *args, **kwargs):
        return respond(s.TranscriptionSerializer, self.get_object(), context=self.get_serializer_context())

    def export_table(self, request, queryset):
        # The admin's columns, with one per criterion when the list is filtered to one evaluator.
        base = request.build_absolute_uri(reverse("admin:qa_reviewitem_changelist"))
        return exports.calls_table(queryset, review_url=lambda pk: f"{base}{pk}/change/",
                                   blind_call_ids=blinding.blind_call_ids(request.user),
                                   evaluator_id=request.query_params.get("evaluator"), title="transcriptions")

    def partial_update(self, request, *args, **kwargs):
        return self._move(request)

    def _step(self, request, run, serializer_class=s.StepSerializer):
        # The role is asked before the lookup: without it, 403 whether the call exists or not.
        queues.require_step(request.user, REVIEW_STEPS[self.action])
        obj = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        moved = run(obj, serializer.validated_data)
        code = status.HTTP_202_ACCEPTED if moved.awaits_heify else status.HTTP_200_OK
        return respond(s.TranscriptionSerializer, moved, code, context=self.get_serializer_context())

    @step_schema("Start review: the call moves to UNDER_REVIEW, assigned to you", None, 409)
    @action(detail=True, methods=["post"])
    def claim(self, request, *args, **kwargs):
        return self._step(request, lambda obj, data: queues.transcription_claim(
            transcription_id=obj.pk, reviewer=request.user))

    @step_schema("Release: back to PENDING_REVIEW, unassigned", s.StepSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, *args, **kwargs):
        return self._step(request, lambda obj, data: queues.transcription_release(
            transcription_id=obj.pk, acting_user=request.user, note=data["note"]))

    @step_schema("Archive the call: every criterion decided, or agree_rest", s.ArchiveSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        return self._step(request, lambda obj, data: queues.transcription_archive(
            transcription_id=obj.pk, acting_user=request.user, note=data["note"], agree_rest=data["agree_rest"]),
            s.ArchiveSerializer)

    @step_schema("Move the call to a group (managers)", s.MoveSerializer, 412, if_match=True)
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        return self._move(request)

    def _move(self, request):
        # PATCH {"group"} and POST move/ are one write: the same checks in the same order, the same service.
        return self._step(request, lambda obj, data: queues.transcription_move(
            transcription_id=obj.pk, group=data["group"], acting_user=request.user, note=data["note"],
            expected_version=if_match(request)), s.MoveSerializer)

    @extend_schema(summary="The call's review history and notes, newest first", request=None,
                   responses={200: inline_serializer("ReviewEventListResponse",
                                                     {"data": s.ReviewEventSerializer(many=True)}),
                              **errors(404)}, methods=["GET"])
    @extend_schema(summary="Write a review note", request=s.NoteSerializer,
                   responses={201: s.enveloped(s.ReviewEventSerializer), **errors(400, 404)}, methods=["POST"])
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def notes(self, request, *args, **kwargs):
        if request.method == "POST":
            queues.require_step(request.user, queues.Step.NOTE)  # before the lookup, as in _step
        obj = self.get_object()
        if request.method == "GET":
            history = calibration.visible_history(obj, ai_hidden=blinding.hides_ai_from(request.user, obj))
            return Response({"data": s.ReviewEventSerializer(history[:500], many=True).data})
        serializer = s.NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = queues.transcription_note(transcription_id=obj.pk, author=request.user,
                                          text=serializer.validated_data["text"])
        return Response({"data": s.ReviewEventSerializer(event).data}, status=status.HTTP_201_CREATED)


# The review actions (POST, and PATCH of the group) and the step of qa.reviews.queues each takes.
REVIEW_STEPS = {"claim": queues.Step.CLAIM, "release": queues.Step.RELEASE, "archive": queues.Step.ARCHIVE,
                "move": queues.Step.MOVE, "partial_update": queues.Step.MOVE, "notes": queues.Step.NOTE}


@extend_schema(
    summary="Get an API token",
    request=s.TokenRequestSerializer,
    responses={200: s.TokenSerializer, 400: ERRORS[400], 429: ERRORS[429]},
    auth=[],
)
class TokenView(HeifyAPIMixin, APIView):
    """POST {"username", "password"} -> {"token", "expiry"}; send it as `Authorization: Token <token>`.

    Only the token's hash is kept (django-rest-knox), and it expires after settings.API_TOKEN_TTL_DAYS.
    The password is checked through django.contrib.auth.authenticate with the request, so django-axes
    counts failures and locks a username out from an address as on the admin's login page.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"

    def post(self, request, *args, **kwargs):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request  # where django-axes and its middleware look
        user = authenticate(request=django_request, **serializer.validated_data)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                raise LockedOut()
            raise exceptions.ValidationError(_("Unable to log in with provided credentials."))
        instance, token = get_token_model().objects.create(user=user)
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        return Response({"token": token, "expiry": instance.expiry})


@extend_schema(summary="Revoke the token this request is sent with", request=None,
               responses={204: None, 401: ERRORS[401]})
class LogoutView(HeifyAPIMixin, APIView):
    """POST with `Authorization: Token <token>`: that token stops working at once."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request, *args, **kwargs):
        request.auth.delete()
        user_logged_out.send(sender=request.user.__class__, request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
