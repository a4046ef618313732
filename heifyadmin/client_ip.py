"""The client's address, for sign-in throttling (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind a proxy (DJANGO_BEHIND_PROXY) the connection comes from the proxy, so its address is everybody's: the
client's is the one the proxy appended to X-Forwarded-For, its last entry (the earlier ones are whatever the
client sent, and prove nothing). This is the address DRF's throttles use (NUM_PROXIES = 1). Without a
proxy, the header is anyone's to write and is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:  # no header, or not an address: the proxy's own is all there is
        return remote
