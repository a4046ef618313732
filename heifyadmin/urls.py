"""URLs of the back office: the admin is the application."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Heify back office"
admin.site.site_title = "Heify back office"
admin.site.index_title = "Quality assurance"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
]
