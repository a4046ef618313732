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
from django.utils import timezone

from qa import rules
from qa.rules import Group, Status

STATUS_CHOICES = Status.choices
GROUP_CHOICES = Group.choices
CRITERION_TYPE_CHOICES = [(t, t.title()) for t in rules.CRITERION_TYPES]
EXTRACTION_TYPE_CHOICES = [(t, t.title()) for t in rules.EXTRACTION_FIELD_TYPES]


class SyncState(models.TextChoices):
    SYNCED = "synced", "in sync with Heify"
    WAITING = "waiting", "waiting to be pushed"
    DELETING = "deleting", "waiting to be deleted in Heify"
    REJECTED = "rejected", "refused by Heify"


class JobItemState(models.Model):
    """What a scheduled job keeps on an item it failed on (qa.job_items): how many times in a row, and when to
    try again; the reason is in the model's error field."""

    job_failures = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, help_text="How many times in a row a job failed on it (empty: none).")
    job_retry_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="After a failure: when the job tries it again.")

    class Meta:
        abstract = True


class LiveManager(models.Manager):
    """The objects Heify still has: what every figure, list, queue, export and job reads.

    An object a pull (or a refresh) found gone from Heify keeps its row (`gone_at`), as history: it is
    left out here, the one place that says what "live" means. The few readers that must see it too (the
    mirror's upsert and the pull, the push, an object's own admin page and API GET, the admin's and the
    API's "deleted in Heify" filters) ask `all_objects`. Relations (call.participant) read every row.
    """

    def get_queryset(self):
        return super().get_queryset().filter(gone_at__isnull=True)


class HeifyObject(JobItemState):
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
    heify_as_of = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="The moment Heify's data here is known to hold from: when the fetch that brought it began, or "
                  "when Heify answered our change of it. A page fetched before then is not written over it.",
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
    # A change on its way to Heify (see qa/heify.py): whoever set the claim sends it
    # and records the answer; nobody else sends or edits the object until the
    # claim is released or lapses (a sender that died leaves it to the push job).
    push_claim = models.UUIDField(null=True, blank=True, editable=False)
    push_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    create_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="A create sent to Heify whose answer was not stored: before it is sent again, "
                  "Heify is searched for it.",
    )
    replace_sent = models.JSONField(
        null=True, blank=True, editable=False,
        help_text="The body of a replace sent to Heify whose answer was not stored: if Heify holds it, that "
                  "change is ours, not a conflict with the next one.",
    )

    objects = LiveManager()  # the default: what Heify still has
    all_objects = models.Manager()  # noqa: DJ012 (gone ones too, see LiveManager; objects is a manager too)

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


# SQLite: the FTS5 table (trigram tokenizer) that indexes each call's name and configuration_tag for the list's
# search; created, and kept by triggers, by migration 0006 (PostgreSQL has trigram indexes on the columns).
CALL_SEARCH_TABLE = "qa_transcription_search"

# The columns the admin's list filters test, carried in the indexes that walk the lists in their order.
LIST_FILTER_COLUMNS = ["status", "group", "evaluator", "participant", "critical_fail_triggered"]
QUEUE_FILTER_COLUMNS = ["score", "evaluator", "participant", "assigned_to"]


class Transcription(HeifyObject):
    """One processed call: Heify's output, read-only here except for its review group."""

    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=Status.PENDING)
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
    # Heify's results as it sent them, for the API's transcription shape only: every reader reads them typed
    # (qa.mirror.criterion_results.CriterionResult, parsed once by the upsert).
    criteria_results = models.JSONField(default=list, blank=True)
    # Derived by the upsert (criterion_results.failed_names), so that the analytics read names, not every result.
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
            # The call list in its order, with the columns its filters test (PostgreSQL: INCLUDE), so that the
            # list's page of ids and its capped count are read from the index alone (qa.admin.paging). Like every
            # index a list or a report walks, it holds the live calls only (gone ones: tx_gone), which is what
            # they read (LiveManager).
            models.Index(fields=["-occurred_at", "-id"], name="tx_date", include=LIST_FILTER_COLUMNS,
                         condition=Q(gone_at__isnull=True)),
            models.Index(fields=["status", "-occurred_at"], name="tx_status_date"),
            # Review queues: one group, critical fails first, oldest first.
            # Each review queue in its order (critical fails first, then the oldest), as qa.queues reads it.
            *[
                models.Index(fields=["-critical_fail_triggered", "occurred_at", "id"], name=f"tx_queue_{suffix}",
                             condition=Q(group=group, gone_at__isnull=True) if group else
                             Q(group__isnull=True, gone_at__isnull=True), include=QUEUE_FILTER_COLUMNS)
                for group, suffix in ((Group.PENDING_REVIEW, "pending"), (Group.UNDER_REVIEW, "review"),
                                      (Group.ARCHIVED, "archived"), (None, "none"))
            ],
            # The few calls gone from Heify: the "deleted in Heify" filters.
            models.Index(fields=["group"], name="tx_gone", condition=Q(gone_at__isnull=False)),
            # The list's critical-fail filter, newest first, with the columns the other filters test: a rare
            # pair (critical fails among FAILED calls: none) is a walk of this index alone, not of the table.
            models.Index(fields=["-occurred_at", "-id"], name="tx_critical_date",
                         condition=Q(critical_fail_triggered=True, gone_at__isnull=True), include=LIST_FILTER_COLUMNS),
            # Analytics: a participant's scored calls, newest first (the report's order), with every column the
            # report reads (PostgreSQL: INCLUDE), so that it reads them from the index alone.
            models.Index(
                fields=["participant", "-occurred_at", "-heify_id"], name="tx_scored_by_participant",
                condition=Q(status=Status.COMPLETED, score__isnull=False, gone_at__isnull=True),
                include=["score", "critical_fail_triggered", "duration", "evaluator", "group", "failed_criteria",
                         "version"],  # the version: the dashboard's fingerprint (qa.analytics.participant_dashboard)
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


class DailyCalls(models.Model):
    """The calls of one participant on one day (UTC) in one review group, counted: qa.rollups keeps it.

    What the admin home (calls per queue) and the team overview (each
    participant's totals) read instead of aggregating every call. Rebuilt
    whole by `manage.py rebuild_rollups`.
    """

    participant_id = models.CharField(max_length=64, null=True)  # noqa: DJ001 (Transcription.participant_id)
    day = models.DateField(null=True)
    group = models.CharField(max_length=16, choices=GROUP_CHOICES, null=True)  # noqa: DJ001
    calls = models.PositiveIntegerField(help_text="Every call, whatever its status.")
    scored = models.PositiveIntegerField(help_text="COMPLETED calls with a score.")
    score_sum = models.FloatField(help_text="The sum of their scores.")
    passed = models.PositiveIntegerField(help_text="Scored calls that pass at pass_mark.")
    critical_fails = models.PositiveIntegerField(help_text="Scored calls with a critical fail.")
    pass_mark = models.FloatField(help_text="ANALYTICS_PASS_MARK when counted; another one means a rebuild.")

    class Meta:
        indexes = [models.Index(fields=["participant_id", "day"], name="daily_calls_key")]

    def __str__(self):
        return f"{self.participant_id} {self.day} {self.group}: {self.calls}"


class ReviewItem(Transcription):
    """A call seen as an item of a review queue (the admin's queue screens)."""

    class Meta:
        proxy = True
        verbose_name = "call to review"
        verbose_name_plural = "review queues"


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


# --- alerts and the weekly summary (qa/alerts.py, qa/weekly_summary.py) ---------------------------------------


class JobRuleState(JobItemState):
    """A rule a scheduled job applies: why the job last failed on it (qa.job_items)."""

    job_error = models.TextField(
        "job error", blank=True, editable=False,
        help_text="Why the job last failed on this rule; at the limit the rule is switched off. Saving clears it.")

    class Meta:
        abstract = True


class AlertRule(JobRuleState):
    """What a QA manager wants to be told of, and whom to tell."""

    class Kind(models.TextChoices):
        DEGRADATION = "degradation", "a participant's degradation alert turns on"
        CRITICAL_FAIL = "critical_fail", "a critical fail lands"
        PASS_RATE = "pass_rate", "a participant's pass rate over their last N calls falls below X%"
        CLAIM_WAITING = "claim_waiting", "a claim has waited longer than N hours in review"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    last_calls = models.PositiveIntegerField(
        "last N calls", null=True, blank=True, help_text="Pass rate: over each participant's newest N scored calls.",
    )
    pass_rate_below = models.FloatField(
        "below X%", null=True, blank=True, help_text="Pass rate: fire when it falls below this percentage.",
    )
    hours = models.FloatField("N hours", null=True, blank=True, help_text="Claim waiting: fire after this long.")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="Recipients.")
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", help_text="Recipients: every member with an e-mail address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        rules.clean_alert_thresholds(
            {"last_calls": self.last_calls, "pass_rate_below": self.pass_rate_below, "hours": self.hours},
            pass_rate=self.kind == self.Kind.PASS_RATE, claim_waiting=self.kind == self.Kind.CLAIM_WAITING,
        )


class Alert(models.Model):
    """One event a rule fired on. Stored before it is sent; `event_key` makes a second one for the same event
    impossible (a pull that sees the same critical call again adds nothing)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    event_key = models.CharField(max_length=255, help_text="What happened, e.g. critical:<call id>.")
    participant_id = models.CharField(max_length=64, blank=True, help_text="Heify's id of the participant.")
    transcription = models.ForeignKey(
        Transcription, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    link = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "event_key"], name="one_alert_per_event")]

    def __str__(self):
        return self.subject


class AlertDelivery(models.Model):
    """Sending one alert by one channel: retried with back-off by a background job until sent or given up."""

    class Channel(models.TextChoices):
        EMAIL = "email", "e-mail"
        WEBHOOK = "webhook", "webhook"

    class State(models.TextChoices):
        PENDING = "pending", "waiting to be sent"
        SENDING = "sending", "being sent"
        SENT = "sent", "sent"
        FAILED = "failed", "gave up"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When it is tried next (while sending: when the attempt counts as lost).",
    )
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alert", "channel"]
        verbose_name_plural = "alert deliveries"
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="one_delivery_per_channel")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due")]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.get_state_display()}"


class AlertCondition(models.Model):
    """Whether a rule's condition held for a participant when last evaluated: an alert fires when it turns on."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="conditions")
    participant_id = models.CharField(max_length=64)
    active = models.BooleanField(default=False)
    episodes = models.PositiveIntegerField(default=0, help_text="How many times it has turned on.")
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "participant_id"], name="one_condition_per_participant"),
        ]

    def __str__(self):
        return f"{self.rule}: {self.participant_id} {'on' if self.active else 'off'}"


class WeeklySummarySent(models.Model):
    """A weekly summary e-mailed to one manager: the job may run twice, the e-mail goes once."""

    week_start = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week_start", "user"], name="one_summary_per_week")]

    def __str__(self):
        return f"week of {self.week_start} to {self.user}"


# --- scorecard intelligence (issue 15): revisions, sampling, calibration ------------------------------
# Kept together at the end: the rules and reads live in qa/revisions.py, qa/sampling.py, qa/calibration.py.


class EvaluatorRevision(models.Model):
    """An immutable snapshot of an evaluator's criteria, written whenever they change (qa.revisions)."""

    class Source(models.TextChoices):
        LOCAL = "local", "edited here"
        HEIFY = "heify", "seen in Heify"

    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    criteria = models.JSONField(help_text="[{name, description, type, weight}], in the evaluator's order.")
    at = models.DateTimeField(help_text="When the back office stored it.")
    in_force_from = models.DateTimeField(
        null=True, blank=True,
        help_text="From when calls were scored with it (Heify's updated_at for a pulled change); "
                  "empty for a first revision: in force as far back as we know.",
    )
    source = models.CharField(max_length=5, choices=Source.choices)

    class Meta:
        ordering = ["evaluator", "-number"]
        constraints = [models.UniqueConstraint(fields=["evaluator", "number"], name="one_revision_number")]

    def __str__(self):
        return f"{self.evaluator} revision {self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("An evaluator revision is immutable; write a new one instead.")
        super().save(*args, **kwargs)


class EvaluatorAgreement(Evaluator):
    """An evaluator seen through how its reviewers agree with the AI (the managers' agreement page)."""

    class Meta:
        proxy = True
        verbose_name = "AI agreement"
        verbose_name_plural = "AI agreement"


class SamplingRule(JobRuleState):
    """Which calls to send to the review queue each period, how many per participant, and how to choose them."""

    class Method(models.TextChoices):
        RANDOM = "random", "random (seeded per period, reproducible)"
        LOWEST_SCORE = "lowest_score", "lowest scores first"
        CRITICAL_FIRST = "critical_first", "critical fails first"
        NEAR_PASS_MARK = "near_pass_mark", "closest to the pass mark first"
        PRECISION = "precision", "enough for each average to be known within ±N points"

    class Period(models.TextChoices):
        DAY = "day", "day"
        WEEK = "week", "week (Monday to Sunday)"
        MONTH = "month", "month"

    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    evaluator = models.ForeignKey(Evaluator, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                  help_text="Empty: calls of every evaluator.")
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                    help_text="Empty: every participant.")
    score_min = models.FloatField(null=True, blank=True, help_text="Only calls scoring at least this.")
    score_max = models.FloatField(null=True, blank=True, help_text="Only calls scoring at most this.")
    critical_only = models.BooleanField(default=False, help_text="Only calls with a critical fail.")
    period = models.CharField(max_length=5, choices=Period.choices, default=Period.WEEK)
    per_participant = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Calls per participant per period; for 'precision', an optional cap on what it asks for.",
    )
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.RANDOM)
    precision_points = models.FloatField(
        null=True, blank=True, help_text="For 'precision': each participant's average known within ± this many "
                                         "points, at 95% confidence.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The QA manager in whose name the calls are moved; the rule stops if they may no longer move calls.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SamplingPick(models.Model):
    """A call a sampling rule moved to the review queue in one period: what makes a second run take nothing more."""

    rule = models.ForeignKey(SamplingRule, on_delete=models.CASCADE, related_name="picks")
    period_start = models.DateTimeField()
    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="+")
    participant_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (Heify's id, or none)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-period_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "period_start", "transcription"], name="one_pick_per_period"),
        ]

    def __str__(self):
        return f"{self.rule} {self.period_start:%Y-%m-%d}: call {self.transcription_id}"


class CalibrationSession(models.Model):
    """A few calls that several reviewers (and optionally an expert) score blind, to see where they differ."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Closed by a manager; the answers are kept.")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="calibration_sessions")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Optional: whose answers the reviewers are compared with.",
    )
    calls = models.ManyToManyField(Transcription, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class CalibrationAnswer(models.Model):
    """One rater's pass/fail on one criterion of one call of a session."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="answers")
    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    criterion_name = models.CharField(max_length=255)
    passed = models.BooleanField()
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "transcription", "criterion_name", "rater"]
        constraints = [
            models.UniqueConstraint(fields=["session", "transcription", "rater", "criterion_name"],
                                    name="one_calibration_answer"),
        ]

    def __str__(self):
        return f"{self.criterion_name}: {'pass' if self.passed else 'fail'}"


class CalibrationSubmission(models.Model):
    """A rater has submitted: their answers are final, and they may now see everyone's."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="submissions")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "rater"], name="one_calibration_submission")]

    def __str__(self):
        return f"{self.session}: {self.rater_id}"


class StaffByRole(models.Model):
    """The user was not staff when a role (qa/roles.py) made them staff: losing their last role takes it back.
    No row: staff by hand (or a superuser), which no role change touches."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "staff by role"

    def __str__(self):
        return str(self.user_id)


# Models kept in their domain folders, imported here so that Django finds them (they name these by string).
from qa.mirror.criterion_results import CriterionResult  # noqa: E402,F401
