"""How API clients sign in: hashed, expiring tokens (django-rest-knox), sent as `Authorization: Token <token>`.

POST /api/v1/auth/token/ (qa.api.views.TokenView) issues one; POST /api/v1/auth/logout/ revokes the one used;
the admin lists each staff user's own (qa/api/admin.py). Only a hash of each token is stored. A password
change or a deactivation revokes every token of the user (`revoke_tokens_on_credentials_change`, connected to
the user model's post_save by qa.apps), whichever way it is made: the admin, set_password and save,
`changepassword`.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import get_token_model
from knox.settings import knox_settings
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's, refusing before any query what no issued token can be: knox would answer 500 to a NUL
    (PostgreSQL cannot even compare one) or to bytes that are not UTF-8."""

    def authenticate_credentials(self, token: bytes):
        shape = rb"[0-9a-f]{%d}" % knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
        if not re.fullmatch(re.escape(knox_settings.TOKEN_PREFIX.encode()) + shape, token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)


def revoke_tokens_on_credentials_change(sender, instance, **kwargs) -> None:
    """post_save of the user model: a new password (set_password leaves `_password` set until the save is done)
    or an inactive user leaves no token that works, so a leaked token dies with the password it was issued
    under, and reactivating a user does not revive theirs."""
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        get_token_model().objects.filter(user=instance).delete()
