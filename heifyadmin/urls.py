"""URLs of the back office: the admin is the application; Heify calls back on /webhooks/."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import last_modified
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from syncer.webhooks import heify_webhook


def favicon(request):
    """Browsers ask for /favicon.ico on every page that names no icon (the API docs, say). The hashed
    name is looked up when asked, not at import: the URLs load before any `collectstatic`."""
    return HttpResponsePermanentRedirect(static("qa/favicon.svg"))


# The catalogue of our scripts' texts (domain djangojs: locale/es/LC_MESSAGES/djangojs.po), in the reader's language:
# gettext(), ngettext() and interpolate() for qa/static/qa/*.js. Pages load it through templates/qa/jsi18n.html,
# before their own scripts. It changes only with a release: a browser asks again with If-Modified-Since and
# gets a 304.
CATALOGUE_BUILT = timezone.now()
javascript_catalog = last_modified(lambda request: CATALOGUE_BUILT)(JavaScriptCatalog.as_view())

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("favicon.ico", favicon),
    path("jsi18n/", javascript_catalog, name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("qa.api.urls")),
    path("webhooks/heify/<str:secret>/success/", heify_webhook, {"kind": "success"}, name="heify-webhook-success"),
    path("webhooks/heify/<str:secret>/error/", heify_webhook, {"kind": "error"}, name="heify-webhook-error"),
]

handler404 = "qa.api.errors.not_found"
handler500 = "qa.api.errors.server_error"
