"""How API clients sign in: hashed, expiring tokens (django-rest-knox), sent as `Authorization: Token <token>`.

POST /api/v1/auth/token/ (qa.api.views.TokenView) issues one; POST /api/v1/auth/logout/ revokes the one used;
the admin lists each staff user's own (qa/admin/tokens.py). Only a hash of each token is stored.
"""

from __future__ import annotations

import re

from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.settings import knox_settings
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's, refusing before any query what no issued token can be: knox would answer 500 to a NUL
    (PostgreSQL cannot even compare one) or to bytes that are not UTF-8."""

    def authenticate_credentials(self, token: bytes):
        shape = rb"[0-9a-f]{%d}" % knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
        if not re.fullmatch(re.escape(knox_settings.TOKEN_PREFIX.encode()) + shape, token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)
