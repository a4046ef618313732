from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import m2m_changed, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _ensure_roles(sender, **kwargs):
    from qa.roles import ensure_roles

    ensure_roles()


def _ensure_schedules(sender, **kwargs):
    """Each domain schedules its own jobs, by name (a rerun duplicates none)."""
    from qa.alerts import tasks as alert_tasks
    from qa.insights import tasks as insight_tasks
    from qa.reviews import tasks as review_tasks

    for domain in (review_tasks, alert_tasks, insight_tasks):
        domain.schedules_ensure()


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = _("Quality assurance")

    def ready(self):
        # After the permissions of every app exist (auth's own post_migrate runs first).
        post_migrate.connect(_ensure_roles, sender=self)
        post_migrate.connect(_ensure_schedules, sender=self)
        from django.contrib.auth import get_user_model

        from qa.alerts import services as alerts
        from qa.api.authentication import revoke_tokens_on_credentials_change
        from qa.mirror import criterion_results
        from qa.reviews import disputes, queues, record
        from qa.roles import on_groups_changed

        # A role makes its holder staff, whichever side of the membership changes.
        m2m_changed.connect(on_groups_changed, sender=get_user_model().groups.through)
        # A new password or a deactivation ends every API token the user holds.
        post_save.connect(revoke_tokens_on_credentials_change, sender=settings.AUTH_USER_MODEL,
                          dispatch_uid="qa.revoke_tokens_on_credentials_change")
        # A review move may fire an alert: the alerts listen to the queues, which know nothing of them.
        queues.call_moved.connect(alerts.call_moved, dispatch_uid="qa.alerts.call_moved")
        # A dispute raised or resolved: the alerts tell the people concerned by e-mail (retried like an alert).
        disputes.dispute_changed.connect(alerts.dispute_changed, dispatch_uid="qa.alerts.dispute_changed")
        # Heify's results changed under a reviewed call: its score of record is computed again.
        criterion_results.results_changed.connect(record.results_changed, dispatch_uid="qa.reviews.record")
