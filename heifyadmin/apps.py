"""The third-party apps under the names the admin's sidebar shows staff (their labels, tables and URLs unchanged)."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SignInProtectionConfig(AxesAppConfig):  # django-axes: failed sign-ins and lock-outs
    verbose_name = "Sign-in protection"


class APIAccessConfig(AppConfig):  # django-rest-knox: the REST API's tokens
    name = "knox"
    verbose_name = "API access"


class HeifyAdminConfig(AdminConfig):  # the admin, on a site that filters only by what a list offers
    default_site = "heifyadmin.admin_site.HeifyAdminSite"
