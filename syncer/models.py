"""Bookkeeping of the sync itself: inbound webhook events and pull checkpoints.

The mirrored objects live in qa.mirror.models; nothing here is a Heify object.
"""

import uuid

from django.db import models


class WebhookEvent(models.Model):
    """A notification from Heify, stored before it is processed (dj-stripe's habit).

    The same event delivered again within the replay window is stored as a
    duplicate and fetches nothing: `replay_key` is unique, so of two processes
    storing it at once, the database lets one win (syncer.webhooks).
    """

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSING = "processing"
        PROCESSED = "processed"
        DUPLICATE = "duplicate", "duplicate (nothing to do)"
        FAILED = "failed"
        REFUSED = "refused", "refused (invalid body)"

    kind = models.CharField(max_length=8, choices=[("success", "success"), ("error", "error")])
    received_at = models.DateTimeField(auto_now_add=True)
    body = models.TextField(help_text="The raw body, as Heify sent it.")
    transcription_heify_id = models.CharField(max_length=64, blank=True, db_index=True)
    reported_status = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    replay_key = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="kind:id:status of the first delivery of an event, while its replay window lasts.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker started processing it.")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["replay_key"], condition=~models.Q(replay_key=""), name="webhook_event_once_per_window"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.transcription_heify_id or '?'} ({self.status})"


class PullCheckpoint(models.Model):
    """Where an unfinished pull of one resource stopped; the next run resumes there."""

    resource = models.CharField(max_length=20, unique=True)
    run_id = models.UUIDField(default=uuid.uuid4)
    cursor = models.TextField(blank=True)
    pages = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(
        help_text="When the listing began (mirror.heify_clock): only a row that Heify's data reached us for "
                  "before then can be gone for not being listed.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_since = models.DateTimeField(
        null=True, blank=True,
        help_text="Empty: the listing is whole. Else it lists only what Heify changed since then (Heify's clock).",
    )
    newest_seen = models.DateTimeField(
        null=True, blank=True, help_text="The newest updated_at the listing has shown so far (Heify's clock).",
    )

    def __str__(self):
        return f"{self.resource} after {self.pages} pages"


class PullWatermark(models.Model):
    """Per resource, what the pulls that finished know: when the last whole listing began, and from when the
    next listing of changes only may start (syncer/pull.py)."""

    resource = models.CharField(max_length=20, unique=True)
    last_full_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last whole listing that finished began (mirror.heify_clock).",
    )
    updated_since = models.DateTimeField(
        null=True, blank=True,
        help_text="The next listing of changes asks for those from then on (Heify's clock); empty: list whole.",
    )

    def __str__(self):
        return f"{self.resource}: changes since {self.updated_since}"


class SeenInPull(models.Model):
    """Heify ids a pull has listed so far: what it did not list is gone from Heify.

    Kept in the database, not in memory, so a pull's memory does not grow with
    the account, and so a resumed pull still knows what the first part saw.
    """

    run_id = models.UUIDField()
    heify_id = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run_id", "heify_id"], name="seen_once_per_run")]

    def __str__(self):
        return self.heify_id


class HeifyReport(models.Model):
    """Heify's own analytics-participant report, kept for the day it was fetched (syncer/reports.py).

    Each fetch costs one call of Heify's monthly analytics quota: within a day, every process reuses this row.
    """

    participant_heify_id = models.CharField(max_length=64)
    day = models.DateField(help_text="The (local) day it was fetched; reused until the day ends.")
    report = models.JSONField()
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant_heify_id", "day"], name="one_heify_report_a_day"),
        ]

    def __str__(self):
        return f"Heify's report on {self.participant_heify_id} of {self.day}"


class PullLock(models.Model):
    """Who is pulling now, on a database without advisory locks (SQLite): one row per lock name.

    A running pull pushes `expires_at` forward on every page. One that dies
    frees the row at once if its process is gone (an SQLite file is one
    machine's, so `pid` says), else when the lease lapses.
    """

    name = models.CharField(max_length=40, unique=True)
    holder = models.UUIDField(null=True, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({'held' if self.holder else 'free'})"
