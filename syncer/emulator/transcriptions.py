"""Uploaded calls: the transcription endpoints (upload, PATCH) and their lifecycle, a part of `EmulatorState`
(the `TranscriptionLifecycle` mixin), with the webhooks of calls that finished.

Transcription lifecycle: an uploaded call is PENDING, then IN_PROGRESS, then
COMPLETED or FAILED as time passes (`processing_seconds`). Statuses advance
lazily on every read and in the server's ticker thread (`tick()`), which also
delivers the webhooks of calls that finished. Preloaded calls keep their status.
Webhooks go to loopback addresses only.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx

from qa.mirror import rules
from syncer import contract
from syncer.demo import texts as demo_texts
from syncer.emulator.bodies import _iso
from syncer.emulator.errors import _invalid
from syncer.emulator.results import synthesize_details

log = logging.getLogger(__name__)

DEFAULT_PROCESSING_SECONDS = 3.0
OPEN_STATUSES = ("PENDING", "IN_PROGRESS")
BYTES_PER_SECOND = 16_000  # 128 kbit/s audio: how a file's size becomes a duration


@dataclass(frozen=True)
class WebhookDelivery:
    url: str
    payload: dict
    status_code: int | None  # None when no answer came
    error: str | None  # why it failed, else None
    at: datetime


@dataclass
class _Job:
    """What the lifecycle needs to know about an uploaded call (never sent to clients)."""

    uploaded_at: datetime
    filename: str
    will_fail: bool
    configuration: dict  # the configuration as it was at upload, if it is deleted meanwhile
    evaluator: dict | None
    started_at: datetime | None = None


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TranscriptionLifecycle:
    """The transcription operations of `EmulatorState`, which holds the objects, the jobs and the outbox."""

    def upload(self, form: Mapping[str, str], *, filename: str, size: int) -> dict:
        """POST /transcription: a new PENDING call (the file itself is only measured)."""
        if size <= 0:
            raise _invalid(f"{contract.UPLOAD_FILE_FIELD} is empty: upload an audio or video file.")
        configuration_id = form.get("configuration_id") or ""
        if not configuration_id:
            raise _invalid("configuration_id is required.")
        name = form.get("name") or None
        if name is not None and len(name) > rules.TAG_MAX_LENGTH:
            raise _invalid(f"name must be at most {rules.TAG_MAX_LENGTH} characters (it has {len(name)}).")
        with self.lock:
            configuration = self._objects["configurations"].get(configuration_id)
            if configuration is None:
                raise _invalid(f"configuration_id {configuration_id!r} is not a configuration of this account.")
            links = {}
            for resource, key in (("evaluators", "evaluator_id"), ("participants", "participant_id")):
                value = form.get(key) or None
                if value is not None and value not in self._objects[resource]:
                    raise _invalid(f"{key} {value!r} is not a {resource[:-1]} of this account.")
                links[key] = value
            heify_id = str(uuid.uuid4())
            rng = random.Random(f"{self.seed}:{heify_id}")
            seconds = size / BYTES_PER_SECOND
            duration = round(seconds if seconds >= 1 else rng.lognormvariate(math.log(240), 0.45), 1)
            now = self.clock()
            will_fail = "fail" in f"{name or ''} {filename}".lower() or self._upload_rng.random() < self.failure_rate
            payload = {
                "transcription_id": heify_id,
                "client_id": self.client_id,
                "status": "PENDING",
                "configuration_id": configuration_id,
                "configuration_tag": configuration.get("tag"),
                "evaluator_id": links["evaluator_id"],
                "participant_id": links["participant_id"],
                "name": name,
                "group": None,
                "duration": duration,
                "created_at": _iso(now),
            }
            self._put("transcriptions", heify_id, payload)
            evaluator = self._objects["evaluators"].get(links["evaluator_id"]) if links["evaluator_id"] else None
            self._jobs[heify_id] = _Job(
                uploaded_at=now, filename=filename, will_fail=will_fail, configuration=configuration,
                evaluator=evaluator,
            )
            return payload

    def patch_transcription(self, heify_id: str, body: dict) -> dict:
        """PATCH /transcription/<id>: only name and group change."""
        unknown = sorted(set(body) - set(contract.TRANSCRIPTION_PATCHABLE))
        if unknown:
            raise _invalid(
                f"{', '.join(unknown)} cannot be changed; a PATCH sets only "
                f"{', '.join(contract.TRANSCRIPTION_PATCHABLE)}."
            )
        if "group" in body and body["group"] is not None and body["group"] not in rules.GROUPS:
            raise _invalid(f"group must be one of {', '.join(rules.GROUPS)} or null, not {body['group']!r}.")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > rules.TAG_MAX_LENGTH):
            raise _invalid(f"name must be text of at most {rules.TAG_MAX_LENGTH} characters or null.")
        with self.lock:
            self._advance()
            payload = {**self._existing("transcriptions", heify_id), **body}
            self._put("transcriptions", heify_id, payload)
            return payload

    def _phase_seconds(self) -> tuple[timedelta, timedelta]:
        setting = self.processing_seconds
        if isinstance(setting, Mapping):
            pending = float(setting.get("PENDING", DEFAULT_PROCESSING_SECONDS / 2))
            in_progress = float(setting.get("IN_PROGRESS", DEFAULT_PROCESSING_SECONDS / 2))
        else:
            pending = in_progress = float(setting) / 2
        return timedelta(seconds=max(0.0, pending)), timedelta(seconds=max(0.0, in_progress))

    def _advance(self) -> None:
        """Move every uploaded call on by the time that passed (lock held)."""
        if not self._jobs:
            return
        now = self.clock()
        pending, in_progress = self._phase_seconds()
        for heify_id, job in list(self._jobs.items()):
            payload = self._objects["transcriptions"].get(heify_id)
            if payload is None or payload.get("status") not in OPEN_STATUSES:
                del self._jobs[heify_id]
                continue
            status = payload["status"]
            if status == "PENDING" and now - job.uploaded_at >= pending:
                status, job.started_at = "IN_PROGRESS", job.uploaded_at + pending
            if status == "IN_PROGRESS":
                job.started_at = job.started_at or now
                if now - job.started_at >= in_progress:
                    self._finish(heify_id, payload, job, job.started_at + in_progress)
                    del self._jobs[heify_id]
                    continue
            if status != payload["status"]:
                self._put("transcriptions", heify_id, {**payload, "status": status})

    def _finish(self, heify_id: str, payload: dict, job: _Job, completed_at: datetime) -> None:
        configuration = self._objects["configurations"].get(payload["configuration_id"]) or job.configuration
        rng = random.Random(f"{self.seed}:{heify_id}:result")
        finished = {key: value for key, value in payload.items() if key not in ("details", "error")}
        if job.will_fail:
            code, message = rng.choices(demo_texts.ERRORS, demo_texts.ERROR_WEIGHTS)[0]
            finished.update(status="FAILED", error={"code": code, "message": message})
            url = (configuration.get("webhooks") or {}).get("error_url")
        else:
            evaluator = None
            if payload.get("evaluator_id"):
                evaluator = self._objects["evaluators"].get(payload["evaluator_id"]) or job.evaluator
            participant = self._objects["participants"].get(payload.get("participant_id") or "")
            details = synthesize_details(
                rng, configuration=configuration, evaluator=evaluator, participant=participant,
                duration=payload.get("duration") or 0.0, started_at=job.started_at or completed_at,
                completed_at=completed_at,
            )
            finished.update(status="COMPLETED", details=details)
            url = (configuration.get("webhooks") or {}).get("success_url")
        self._put("transcriptions", heify_id, finished)
        if url:
            notice = {contract.WEBHOOK_ID_KEY: heify_id, contract.WEBHOOK_STATUS_KEY: finished["status"]}
            self._outbox.append((url, notice))

    def tick(self) -> None:
        """Advance the lifecycle and deliver due webhooks (the server's ticker calls this)."""
        with self.lock:
            self._advance()
        self.deliver_webhooks()

    def deliver_webhooks(self) -> list[WebhookDelivery]:
        """POST every queued webhook once; failures are logged and recorded, never raised."""
        delivered = []
        while True:
            with self.lock:
                if not self._outbox:
                    return delivered
                url, payload = self._outbox.popleft()
            status_code, error = None, None
            if not _is_loopback(url):
                # An emulator talks to this machine only: a configuration's real-world URL is never called.
                error = "not sent: the emulator delivers webhooks to loopback addresses only"
            else:
                try:
                    status_code = httpx.post(url, json=payload, timeout=self.webhook_timeout).status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                except Exception as exc:  # a webhook must never take the emulator down
                    error = f"{type(exc).__name__}: {exc}"
            if error or (status_code is not None and status_code >= 400):
                log.warning("webhook to %s failed: %s", url, error or f"HTTP {status_code}")
            delivery = WebhookDelivery(url=url, payload=payload, status_code=status_code, error=error, at=self.clock())
            with self.lock:
                self._deliveries.append(delivery)
            delivered.append(delivery)
