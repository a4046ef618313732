"""The domain's one way to Heify: what qa asks of it, never how.

qa knows nothing of HTTP. syncer, which imports qa and is never imported by
it, plugs in the implementation when the apps are ready (`connect`, called
from syncer.apps); every module of qa that needs Heify calls the functions
below and catches the exceptions below, nothing else.

A change is sent in three steps, and no database transaction or lock is open
while Heify is called:
1. the change is written locally, marked waiting and claimed (`Claim`), in one
   short transaction conditional on the version (qa.mirror.services, qa.reviews.queues);
2. `send` (or `delete`) calls Heify with no transaction open;
3. Heify's answer is recorded in another short transaction, conditional on
   the claim: accepted (in sync), unreachable (waiting, for the push job), or
   refused (`Refused`: the caller puts the object back as it was, or the push
   job marks it refused).
A sender that dies between 2 and 3 leaves the change waiting with a lapsed
claim; the push job sends it again, and recognises a change Heify already
holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Q
from django.utils import timezone


def claim_lease() -> timedelta:
    """How long a claim holds (HEIFY_PUSH_CLAIM_SECONDS): beyond the longest send (two requests, each
    with its timeout and retries), so that only a sender that died loses it."""
    return timedelta(seconds=settings.HEIFY_PUSH_CLAIM_SECONDS)


class Refused(ValidationError):
    """Heify said no: the change must not be kept as is.

    `reason` is "rejected" (Heify refused it), "conflict" (Heify's object
    changed since the version the change is based on) or "unavailable" (an
    upload that could not be sent; uploads do not wait).
    """

    def __init__(self, message, reason: str):
        super().__init__(message, code=reason)
        self.reason = reason


class Unavailable(Exception):
    """Heify could not answer a question (a report); `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QuotaExceeded(Unavailable):
    """Heify's monthly analytics quota is used up."""


@dataclass(frozen=True)
class Claim:
    """A change on its way to Heify: the token set on the row, and the version being sent."""

    token: uuid.UUID
    version: int

    @classmethod
    def new(cls, version: int) -> Claim:
        return cls(uuid.uuid4(), version)

    def columns(self) -> dict:
        """What to set on the row, in the write that claims it."""
        return {"push_claim": self.token, "push_claimed_until": timezone.now() + claim_lease()}


RELEASED = {"push_claim": None, "push_claimed_until": None}


def claimable() -> Q:
    """Rows no sender holds: never claimed, released, or a claim that lapsed."""
    return Q(push_claim__isnull=True) | Q(push_claimed_until__lt=timezone.now())


def on_its_way(row) -> bool:
    """Is a change of this row being sent now (the row is not `claimable`)?"""
    return row.push_claim is not None and row.push_claimed_until >= timezone.now()


@dataclass(frozen=True)
class RemoteReport:
    """Heify's own analytics-participant report, as fetched at `fetched_at` (kept for that day)."""

    report: dict
    fetched_at: datetime


@dataclass(frozen=True)
class Gateway:
    """What syncer provides; see the functions of the same names below."""

    send: Callable[..., bool]
    delete: Callable[..., bool]
    send_later: Callable[[type, int], None]
    upload_transcription: Callable[..., object]
    participant_report: Callable[..., RemoteReport | None]
    default_webhook_urls: Callable[[], dict]


_gateway: Gateway | None = None


def connect(gateway: Gateway) -> None:
    global _gateway
    _gateway = gateway


def _connected() -> Gateway:
    if _gateway is None:
        raise ImproperlyConfigured("No way to Heify: the syncer app is not installed (it connects qa.heify).")
    return _gateway


def send(obj, claim: Claim) -> bool:
    """Send the claimed change of `obj` to Heify and record the answer.

    True when Heify took it (the row is in sync), False when Heify could not
    be reached (the row waits, claim released). Raises Refused with the row
    left untouched and still claimed: the caller decides what becomes of it.
    """
    return _connected().send(obj, claim)


def delete(obj, claim: Claim) -> bool:
    """Delete `obj` in Heify, then here. True when done, False when the deletion waits.

    Raises Refused as `send` does.
    """
    return _connected().delete(obj, claim)


def send_later(model: type, pk: int) -> None:
    """Have the waiting change of one row sent in the background once the transaction commits.

    Nobody waits for it; if Heify cannot take it, it keeps waiting for the push job.
    """
    _connected().send_later(model, pk)


def upload_transcription(*, file, configuration, evaluator=None, participant=None, name: str = ""):
    """Upload a call; it is stored as Heify answers (PENDING). Raises Refused (nothing is queued)."""
    return _connected().upload_transcription(
        file=file, configuration=configuration, evaluator=evaluator, participant=participant, name=name,
    )


def participant_report(participant_heify_id: str, *, ask: bool = True) -> RemoteReport | None:
    """Heify's own analytics-participant report of today. Asking costs one call of Heify's monthly
    quota, so a report fetched today is kept (for every process) and given again instead.

    With `ask=False`, only the report kept today, or None. Raises QuotaExceeded or Unavailable when
    Heify must be asked and cannot answer.
    """
    return _connected().participant_report(participant_heify_id, ask=ask)


def default_webhook_urls() -> dict[str, str]:
    """The webhook URLs a new configuration gets (empty when this site has no public address)."""
    return _connected().default_webhook_urls()
