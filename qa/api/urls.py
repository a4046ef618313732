"""/api/v1/: the four objects, auth, and the OpenAPI schema with its docs (served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from qa.api import views

router = SimpleRouter()
router.register("configurations", views.ConfigurationViewSet, basename="configuration")
router.register("evaluators", views.EvaluatorViewSet, basename="evaluator")
router.register("participants", views.ParticipantViewSet, basename="participant")
router.register("transcriptions", views.TranscriptionViewSet, basename="transcription")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The page and its start-up script apart (?script): no inline script, as the Content-Security-Policy asks.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("qa.scorecards.api")),  # revisions, what-if, agreement, verdicts (issue 15)
    path("", include("qa.api.coaching")),  # coaching sessions (issue 23)
    path("", include("qa.api.agents")),  # me/, me/transcriptions/, transcriptions/<id>/acknowledge/ (issue 23)
    path("", include("qa.api.disputes")),  # disputes (issue 23)
    path("", include(router.urls)),
]
