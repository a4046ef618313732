"""The site's own app (what ties requests and jobs to the logs), and the third-party apps under the names the
admin's sidebar shows staff (their labels, tables and URLs unchanged)."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class SignInProtectionConfig(AxesAppConfig):  # django-axes: failed sign-ins and lock-outs
    verbose_name = _("Sign-in protection")


class APIAccessConfig(AppConfig):  # django-rest-knox: the REST API's tokens
    name = "knox"
    verbose_name = _("API access")


class HeifyAdminConfig(AdminConfig):  # the admin, on a site that filters only by what a list offers
    default_site = "heifyadmin.admin_site.HeifyAdminSite"


class SiteConfig(AppConfig):  # the site itself: one log line per job, carrying the request id (heifyadmin.job_log)
    name = "heifyadmin"
    verbose_name = _("Site")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from heifyadmin.job_log import job_enqueued, job_finished, job_started
        from heifyadmin.log_context import request_id
        from qa import audit

        pre_enqueue.connect(job_enqueued, dispatch_uid="syncer.job_enqueued")
        pre_execute.connect(job_started, dispatch_uid="syncer.job_started")
        post_execute_in_worker.connect(job_finished, dispatch_uid="syncer.job_finished")
        # An audit row carries the id of the request or job that wrote it.
        audit.request_id_reader_connect(request_id.get)
        # A person's kept language rides in their session from sign-in on (heifyadmin/language.py).
        from heifyadmin.language import remember_language_at_login

        user_logged_in.connect(remember_language_at_login, dispatch_uid="heifyadmin.remember_language_at_login")
