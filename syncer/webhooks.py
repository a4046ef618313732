"""Inbound notifications from Heify.

Heify's webhook settings are bare URLs, so the shared secret rides in the
path (/webhooks/heify/<secret>/success/ and /error/); a wrong secret is a 404.
The payload is a hint, never the truth: each event is stored, then the
transcription it names is fetched from the API (syncer.tasks).

The body is checked before use: at most MAX_BODY bytes, JSON nested at most
qa.mirror.rules.JSON_MAX_DEPTH deep, and a `transcription_id` of Heify's shape; a
body that fails is answered 400 and stored as refused. The same event (kind,
id, reported status, whatever their case) delivered again within HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS
is stored as a duplicate and fetches nothing; the unique `replay_key` makes
that hold across web processes.
"""

import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from qa import limits
from qa.mirror import rules
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


def _stored_body(body: bytes) -> str:
    # Kept for whoever looks into a refusal; a NUL byte is the one thing a text column refuses.
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _refuse(kind: str, body: bytes, code: str, message: str) -> JsonResponse:
    WebhookEvent.objects.create(
        kind=kind, body=_stored_body(body), status=WebhookEvent.Status.REFUSED, error=message,
        processed_at=timezone.now(),
    )
    return _error(400, code, message)


def webhook_event_record(*, kind: str, body: bytes, heify_id: str, reported_status: Any) -> WebhookEvent:
    """Store one delivery; a replay of an event within the window is stored as a DUPLICATE of it.

    An INSERT with the unique `replay_key` decides which delivery is the first,
    so two processes storing the same event at once cannot both process it.
    The id and the status are normalised first (a UUID in lower case, a status in
    Heify's upper case, anything else ""), so a replay that only changes their
    case is the same event.
    """
    heify_id = heify_id.lower()
    reported_status = reported_status.upper() if isinstance(reported_status, str) else ""
    reported_status = reported_status if reported_status in rules.STATUSES else ""
    key = f"{kind}:{heify_id}:{reported_status}"
    window_start = timezone.now() - timedelta(seconds=settings.HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS)
    fields = {
        "kind": kind, "body": _stored_body(body), "transcription_heify_id": heify_id,
        "reported_status": reported_status,
    }
    with transaction.atomic():
        # The first delivery of an event older than the window stops counting as one.
        WebhookEvent.objects.filter(replay_key=key, received_at__lt=window_start).update(replay_key="")
        try:
            with transaction.atomic():
                return WebhookEvent.objects.create(replay_key=key, **fields)
        except IntegrityError:
            first = WebhookEvent.objects.filter(replay_key=key).values_list("pk", flat=True).first()
            return WebhookEvent.objects.create(
                status=WebhookEvent.Status.DUPLICATE, processed_at=timezone.now(),
                error=f"a replay of event {first} within the replay window: nothing fetched", **fields,
            )


@csrf_exempt
@require_POST
def heify_webhook(request, secret: str, kind: str):
    expected = settings.HEIFY_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404("no such webhook")
    if len(request.body) > MAX_BODY:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        payload = limits.parse_json(request.body, field="body", max_bytes=MAX_BODY)
    except ValidationError as exc:
        return _refuse(kind, request.body, "invalid_json", " ".join(exc.messages))
    heify_id = payload.get(contract.WEBHOOK_ID_KEY) if isinstance(payload, dict) else None
    if not contract.is_heify_id(heify_id):
        problem = "has no" if heify_id in (None, "") else f"has a {contract.WEBHOOK_ID_KEY} that is not"
        return _refuse(
            kind, request.body, "invalid_id",
            f"the body {problem} {contract.WEBHOOK_ID_KEY} of Heify's shape ({contract.HEIFY_ID_SHAPE})",
        )
    event = webhook_event_record(
        kind=kind, body=request.body, heify_id=heify_id, reported_status=payload.get(contract.WEBHOOK_STATUS_KEY),
    )
    if event.status == WebhookEvent.Status.DUPLICATE:
        return JsonResponse({"data": {"received": event.pk, "duplicate": True}}, status=200)
    transaction.on_commit(lambda: async_task("syncer.tasks.process_webhook_event", event.pk))
    return JsonResponse({"data": {"received": event.pk}}, status=202)
