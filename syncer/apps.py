from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_schedules(sender, **kwargs):
    from syncer.tasks import ensure_schedules

    ensure_schedules()


class SyncerConfig(AppConfig):
    name = "syncer"
    verbose_name = _("Heify sync")

    def ready(self):
        from qa import heify
        from syncer.gateway import GATEWAY

        heify.connect(GATEWAY)  # the domain reaches Heify through qa.heify only
        post_migrate.connect(_ensure_schedules, sender=self)
