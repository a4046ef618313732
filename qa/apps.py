from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs):
    from qa.roles import ensure_roles

    ensure_roles()


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = "Quality assurance"

    def ready(self):
        # After the permissions of every app exist (auth's own post_migrate runs first).
        post_migrate.connect(_ensure_roles, sender=self)
