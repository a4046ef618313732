from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate, post_save


def _ensure_roles(sender, **kwargs):
    from qa.roles import ensure_roles

    ensure_roles()


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = "Quality assurance"

    def ready(self):
        # After the permissions of every app exist (auth's own post_migrate runs first).
        post_migrate.connect(_ensure_roles, sender=self)
        from qa.api.authentication import revoke_tokens_on_credentials_change

        post_save.connect(revoke_tokens_on_credentials_change, sender=settings.AUTH_USER_MODEL,
                          dispatch_uid="qa.revoke_tokens_on_credentials_change")
