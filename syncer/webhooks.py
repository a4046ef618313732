"""Inbound notifications from Heify.

Heify's webhook settings are bare URLs, so the shared secret rides in the
path (/webhooks/heify/<secret>/success/ and /error/); a wrong secret is a 404.
The payload is a hint, never the truth: each event is stored, then the
transcription it names is fetched from the API (syncer.tasks). Duplicates and
late deliveries are harmless: the fetch always brings the current state.
"""

import hmac
import json

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from syncer import contract
from syncer.models import WebhookEvent

MAX_BODY = 64 * 1024


def default_callback_urls() -> dict[str, str]:
    """The webhook URLs of a new configuration, when this back office has a public address."""
    base, secret = settings.PUBLIC_BASE_URL, settings.HEIFY_WEBHOOK_SECRET
    if not (base and secret):
        return {}
    return {
        "webhook_success_url": base + reverse("heify-webhook-success", args=[secret]),
        "webhook_error_url": base + reverse("heify-webhook-error", args=[secret]),
    }


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def heify_webhook(request, secret: str, kind: str):
    expected = settings.HEIFY_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404("no such webhook")
    if len(request.body) > MAX_BODY:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "the body is not JSON")
    heify_id = payload.get(contract.WEBHOOK_ID_KEY) if isinstance(payload, dict) else None
    if not isinstance(heify_id, str) or not heify_id:
        return _error(400, "missing_id", f"the body has no {contract.WEBHOOK_ID_KEY}")
    reported = payload.get(contract.WEBHOOK_STATUS_KEY)
    event = WebhookEvent.objects.create(
        kind=kind,
        body=request.body.decode("utf-8", "replace"),
        transcription_heify_id=heify_id,
        reported_status=reported if isinstance(reported, str) else "",
    )
    transaction.on_commit(lambda: async_task("syncer.tasks.process_webhook_event", event.pk))
    return JsonResponse({"data": {"received": event.pk}}, status=202)
