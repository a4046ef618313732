"""URLs of the back office: the admin is the application; Heify calls back on /webhooks/."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from syncer.webhooks import heify_webhook

admin.site.site_header = "Heify back office"
admin.site.site_title = "Heify back office"
admin.site.index_title = "Quality assurance"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Browsers ask for /favicon.ico on every page that names no icon (the API docs, say).
    path("favicon.ico", RedirectView.as_view(url=static("qa/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("qa.api.urls")),
    path("webhooks/heify/<str:secret>/success/", heify_webhook, {"kind": "success"}, name="heify-webhook-success"),
    path("webhooks/heify/<str:secret>/error/", heify_webhook, {"kind": "error"}, name="heify-webhook-error"),
]

handler404 = "qa.api.errors.not_found"
handler500 = "qa.api.errors.server_error"
