"""/api/v1/ for scorecard intelligence (issue 15): evaluator revisions, what-if, agreement, verdicts.

Thin like the rest of the API: each view checks the input's shape and calls
qa.revisions, qa.whatif, qa.agreement or qa.queues, which hold the rules.
Registered in qa/api/urls.py with one include of `urlpatterns` below.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission

from qa.api.pagination import HeifyCursorPagination
from qa.api.views import HeifyAPIMixin, errors
from qa.models import Evaluator, EvaluatorRevision


def _perm(codename: str, what: str) -> type[BasePermission]:
    class HasPermission(BasePermission):
        message = f"You are not allowed to {what}."

        def has_permission(self, request, view):
            return bool(request.user and request.user.has_perm(codename))

    return HasPermission


CanViewEvaluators = _perm("qa.view_evaluator", "read evaluators")


class EvaluatorRevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    criteria = serializers.JSONField(help_text="[{name, description, type, weight}]")
    source = serializers.CharField(help_text="local (edited here) or heify (seen in a pull)")
    created_at = serializers.DateTimeField(source="at")
    in_force_from = serializers.DateTimeField(
        allow_null=True, help_text="From when calls were scored with it; null: as far back as we know.")


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
        return EvaluatorRevision.objects.filter(evaluator=self.evaluator())

    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


urlpatterns = [
    path("evaluators/<str:id>/revisions/", EvaluatorRevisionsView.as_view(), name="api-evaluator-revisions"),
]
