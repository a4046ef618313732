"""The mirror of Heify's four core objects, plus the local bookkeeping of sync.

Each remote object keeps Heify's id in a unique `heify_id` beside a local
primary key, typed columns for what we filter and aggregate on, and the last
payload Heify sent in `raw` (dj-stripe's habit), so fields Heify adds later are
never lost. Rules live in qa/rules.py; changes go through qa/services.py or
the one upsert path in syncer/mirror.py, never straight from a view.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from qa import rules

STATUS_CHOICES = [(s, s.replace("_", " ").title()) for s in rules.STATUSES]
GROUP_CHOICES = [(g, g.replace("_", " ").title()) for g in rules.GROUPS]
CRITERION_TYPE_CHOICES = [(t, t.title()) for t in rules.CRITERION_TYPES]
EXTRACTION_TYPE_CHOICES = [(t, t.title()) for t in rules.EXTRACTION_FIELD_TYPES]


class SyncState(models.TextChoices):
    SYNCED = "synced", "in sync with Heify"
    WAITING = "waiting", "waiting to be pushed"
    DELETING = "deleting", "waiting to be deleted in Heify"
    REJECTED = "rejected", "refused by Heify"


class HeifyObject(models.Model):
    """What every mirrored object has: Heify's identity and the state of its sync."""

    heify_id = models.CharField(
        "Heify ID", max_length=64, unique=True, null=True, blank=True, editable=False,
        help_text="Heify's UUID; empty until Heify has accepted the object.",
    )
    client_id = models.CharField("client ID", max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(null=True, blank=True, editable=False)
    raw = models.JSONField(
        "last payload from Heify", default=dict, blank=True, editable=False,
    )
    payload_hash = models.CharField(
        max_length=32, blank=True, editable=False,
        help_text="Digest of Heify's last payload: a pull writes a row only when it changes.",
    )
    synced_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When Heify's data was last written here.",
    )
    sync_state = models.CharField(
        max_length=10, choices=SyncState.choices, default=SyncState.SYNCED, editable=False,
        help_text="Anything but 'in sync' means a local change Heify has not taken yet; a pull leaves it alone.",
    )
    sync_error = models.TextField(blank=True, editable=False, help_text="The last sync error, if any.")
    gone_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When a pull found the object gone from Heify; kept so local history survives.",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False,
        help_text="Raised on every change, so that a stale edit is refused instead of overwriting.",
    )

    class Meta:
        abstract = True

    @property
    def awaits_heify(self) -> bool:
        return self.sync_state != SyncState.SYNCED


class Configuration(HeifyObject):
    """How Heify processes a file: language, vocabulary, extraction fields, webhooks."""

    tag = models.CharField(max_length=rules.TAG_MAX_LENGTH)
    vocabulary = models.JSONField(default=list, blank=True)
    summary = models.BooleanField(default=False, help_text="Generate an AI summary.")
    summary_language = models.CharField(max_length=8, blank=True, choices=rules.LANGUAGE_CHOICES)
    analytics_language = models.CharField(max_length=8, blank=True, choices=rules.LANGUAGE_CHOICES)
    webhook_success_url = models.URLField("webhook success URL", max_length=2000, blank=True)
    webhook_error_url = models.URLField("webhook error URL", max_length=2000, blank=True)

    class Meta:
        ordering = ["tag", "id"]

    def __str__(self):
        return self.tag


class ExtractionField(models.Model):
    """One structured field Heify extracts with a configuration (at most 10)."""

    configuration = models.ForeignKey(
        Configuration, on_delete=models.CASCADE, related_name="extraction_fields"
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=EXTRACTION_TYPE_CHOICES)
    description = models.TextField()

    class Meta:
        ordering = ["configuration", "position", "id"]

    def __str__(self):
        return self.name

    def as_heify(self) -> dict:
        return {"name": self.name, "type": self.type, "description": self.description}


class Evaluator(HeifyObject):
    """A scorecard: 1-10 criteria whose non-strict weights sum to 100."""

    tag = models.CharField(max_length=rules.TAG_MAX_LENGTH, help_text="Cannot be changed after creation.")
    description = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True, choices=rules.LANGUAGE_CHOICES)
    context = models.JSONField(null=True, blank=True, help_text="Any JSON that guides the AI.")
    remote_updated_at = models.DateTimeField(
        "Heify updated_at", null=True, blank=True, editable=False,
        help_text="Heify's updated_at of the version this row is based on.",
    )

    class Meta:
        ordering = ["tag", "id"]

    def __str__(self):
        return self.tag


class Criterion(models.Model):
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="criteria")
    heify_id = models.CharField("Heify ID", max_length=64, unique=True, null=True, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=rules.TAG_MAX_LENGTH)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=8, choices=CRITERION_TYPE_CHOICES)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text="Percent of the score; 0 for strict.",
    )

    class Meta:
        ordering = ["evaluator", "position", "id"]
        verbose_name_plural = "criteria"

    def __str__(self):
        return self.name


class Participant(HeifyObject):
    """A person whose calls are tracked (an agent, a candidate...)."""

    tag = models.CharField(max_length=rules.TAG_MAX_LENGTH)
    metadata = models.JSONField(default=dict, blank=True)
    remote_updated_at = models.DateTimeField(
        "Heify updated_at", null=True, blank=True, editable=False,
        help_text="Heify's updated_at of the version this row is based on.",
    )

    class Meta:
        ordering = ["tag", "id"]
        permissions = [
            ("compare_with_heify", "Can ask Heify for its own analytics report (uses its monthly quota)"),
        ]

    def __str__(self):
        return self.tag


def _heify_reference(model, related_name):
    """A link to another mirrored object by its Heify ID.

    The column holds Heify's id itself, so the upsert resolves relations with
    no lookup, and a call whose evaluator was deleted in Heify keeps the id it
    was scored with (no database constraint: the target may be missing).
    """
    return models.ForeignKey(
        model, to_field="heify_id", db_constraint=False, on_delete=models.DO_NOTHING,
        null=True, blank=True, related_name=related_name,
    )


class Transcription(HeifyObject):
    """One processed call: Heify's output, read-only here except for its review group."""

    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="PENDING")
    # Heify's null means "no group" / "no name": kept as null, not as "".
    group = models.CharField(max_length=16, choices=GROUP_CHOICES, null=True, blank=True)  # noqa: DJ001
    name = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    configuration = _heify_reference(Configuration, "transcriptions")
    configuration_tag = models.CharField(max_length=rules.TAG_MAX_LENGTH, blank=True)
    evaluator = _heify_reference(Evaluator, "transcriptions")
    participant = _heify_reference(Participant, "transcriptions")
    occurred_at = models.DateTimeField(
        "date", null=True, blank=True,
        help_text="The call's date: Heify's created_at, else details.created_at.",
    )
    # From `details`, present once COMPLETED.
    language = models.CharField(max_length=8, blank=True)
    num_speakers = models.PositiveSmallIntegerField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    critical_fail_triggered = models.BooleanField(default=False)
    segments = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    fields = models.JSONField("extracted fields", default=list, blank=True)
    criteria_results = models.JSONField(default=list, blank=True)
    # Derived by the upsert (rules.failed_criteria), so that the analytics read names, not every result.
    failed_criteria = models.JSONField(
        default=list, blank=True, editable=False, help_text="Names of the criteria the call failed.",
    )
    error = models.JSONField(null=True, blank=True)
    # Review: local only, Heify knows nothing of it (see qa/queues.py).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews",
        help_text="The reviewer who claimed the call.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    review_touched_at = models.DateTimeField(
        null=True, blank=True, help_text="Last claim, note or verdict: a claim untouched too long is released.",
    )
    group_changed_at = models.DateTimeField(null=True, blank=True, help_text="When the call entered its group.")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["-occurred_at", "-id"], name="tx_date"),
            models.Index(fields=["status", "-occurred_at"], name="tx_status_date"),
            # Review queues: one group, critical fails first, oldest first.
            models.Index(fields=["group", "-critical_fail_triggered", "occurred_at"], name="tx_queue"),
            # Analytics: a participant's scored calls, newest first.
            models.Index(
                fields=["participant", "-occurred_at"], name="tx_scored_by_participant",
                condition=Q(status="COMPLETED", score__isnull=False),
            ),
            models.Index(fields=["evaluator", "-occurred_at"], name="tx_evaluator_date"),
            # A participant's calls in the API list, whatever else is filtered (group, status).
            models.Index(fields=["participant", "-occurred_at", "-id"], name="tx_participant_date"),
            models.Index(fields=["assigned_to", "group"], name="tx_assignee"),
        ]
        permissions = [
            ("review_transcription", "Can claim, release and archive calls and write review notes"),
            ("manage_review_queues", "Can reassign calls and move them between queues in bulk"),
        ]

    def __str__(self):
        return self.name or self.heify_id or f"transcription {self.pk}"


class ReviewItem(Transcription):
    """A call seen as an item of a review queue (the admin's queue screens)."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"


class ReviewEvent(models.Model):
    """One step in a call's review history: who moved it from where to where, when, and why."""

    class Action(models.TextChoices):
        CLAIM = "claim", "started review"
        RELEASE = "release", "released"
        ARCHIVE = "archive", "archived"
        REOPEN = "reopen", "reopened"
        REASSIGN = "reassign", "reassigned"
        MOVE = "move", "moved"
        EXPIRE = "expire", "claim expired"
        NOTE = "note", "note"
        VERDICT = "verdict", "criterion verdict"

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="review_events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Empty for the system (an expired claim).",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    from_group = models.CharField(max_length=16, choices=GROUP_CHOICES, null=True, blank=True)  # noqa: DJ001
    to_group = models.CharField(max_length=16, choices=GROUP_CHOICES, null=True, blank=True)  # noqa: DJ001
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["transcription", "-at"], name="review_history")]

    def __str__(self):
        return f"{self.get_action_display()} {self.from_group or 'no group'} → {self.to_group or 'no group'}"


class CriterionVerdict(models.Model):
    """A reviewer's view of the AI's verdict on one criterion; the AI's result is never overwritten."""

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="criterion_verdicts")
    criterion_name = models.CharField(max_length=255)
    agrees = models.BooleanField(help_text="Does the reviewer agree with the AI's pass/fail?")
    reason = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    as_manager = models.BooleanField(
        "by a QA manager", default=False,
        help_text="Recorded by a QA manager's right, not by the reviewer holding the call.",
    )
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["transcription", "criterion_name"]
        constraints = [
            models.UniqueConstraint(fields=["transcription", "criterion_name"], name="one_verdict_per_criterion"),
        ]

    def __str__(self):
        return f"{self.criterion_name}: {'agrees' if self.agrees else 'disagrees'}"
