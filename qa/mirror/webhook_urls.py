"""How a configuration's webhook URLs are shown: whole to those who manage configurations, with the
webhook secret masked to everyone else (who may see it whole is qa.policy.may_see_webhook_secret).

The URLs this back office gives Heify carry HEIFY_WEBHOOK_SECRET in their path
(/webhooks/heify/<secret>/success/); whoever reads it can post fake notifications. The API's
serializer and the admin's configuration page both ask this module.
"""

from __future__ import annotations

import re

from django.conf import settings

from qa import policy

MASK = "••••••"
# Our own webhook path, whatever secret it holds (a URL made before the secret was rotated too).
_SECRET_IN_PATH = re.compile(r"(/webhooks/heify/)[^/?#]+(/(?:success|error)/?)")


def masked(url: str | None) -> str | None:
    """`url` with our webhook path's secret, and the current secret anywhere, replaced by a mask."""
    if not url:
        return url
    url = _SECRET_IN_PATH.sub(rf"\g<1>{MASK}\g<2>", url)
    secret = settings.HEIFY_WEBHOOK_SECRET
    return url.replace(secret, MASK) if secret else url


def webhook_url_for(user, url: str | None) -> str | None:
    """`url` as `user` may see it."""
    return url if policy.may_see_webhook_secret(user) else masked(url)
