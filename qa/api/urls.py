"""/api/v1/: the four objects, auth, and the OpenAPI schema with its docs (served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
