"""The mirror of Heify's four core objects, plus the local bookkeeping of sync.

Each remote object keeps Heify's id in a unique `heify_id` beside a local
primary key, typed columns for what we filter and aggregate on, and the last
payload Heify sent in `raw` (dj-stripe's habit), so fields Heify adds later are
never lost. Rules live in qa/mirror/rules.py; changes go through qa/mirror/services.py or
the one upsert path in syncer/mirror.py, never straight from a view.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from qa.jobs import JobItemState
from qa.mirror import rules
from qa.mirror.rules import Group, Status

STATUS_CHOICES = Status.choices
GROUP_CHOICES = Group.choices
CRITERION_TYPE_CHOICES = [
    (rules.BOOLEAN, _("Boolean")), (rules.SCALE, _("Scale")), (rules.STRICT, _("Strict")),
]
EXTRACTION_TYPE_CHOICES = [("string", _("String")), ("number", _("Number")), ("boolean", _("Boolean")),
                           ("array", _("Array"))]


class SyncState(models.TextChoices):
    SYNCED = "synced", _("in sync with Heify")
    WAITING = "waiting", _("waiting to be pushed")
    DELETING = "deleting", _("waiting to be deleted in Heify")
    REJECTED = "rejected", _("refused by Heify")


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
        _("Heify ID"), max_length=64, unique=True, null=True, blank=True, editable=False,
        help_text=_("Heify's UUID; empty until Heify has accepted the object."),
    )
    client_id = models.CharField(_("client ID"), max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), null=True, blank=True, editable=False)
    raw = models.JSONField(
        _("last payload from Heify"), default=dict, blank=True, editable=False,
    )
    payload_hash = models.CharField(
        _("payload hash"), max_length=32, blank=True, editable=False,
        help_text=_("Digest of Heify's last payload: a pull writes a row only when it changes."),
    )
    synced_at = models.DateTimeField(
        _("synced at"), null=True, blank=True, editable=False, help_text=_("When Heify's data was last written here."),
    )
    heify_as_of = models.DateTimeField(
        _("heify as of"), null=True, blank=True, editable=False,
        help_text=_("The moment Heify's data here is known to hold from: when the fetch that brought it began, or "
                  "when Heify answered our change of it. A page fetched before then is not written over it."),
    )
    sync_state = models.CharField(
        _("sync state"), max_length=10, choices=SyncState.choices, default=SyncState.SYNCED, editable=False,
        help_text=_("Anything but 'in sync' means a local change Heify has not taken yet; a pull leaves it alone."),
    )
    sync_error = models.TextField(_("sync error"), blank=True, editable=False,
                                  help_text=_("The last sync error, if any."))
    gone_at = models.DateTimeField(
        _("gone at"), null=True, blank=True, editable=False,
        help_text=_("When a pull found the object gone from Heify; kept so local history survives."),
    )
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False,
        help_text=_("Raised on every change, so that a stale edit is refused instead of overwriting."),
    )
    # A change on its way to Heify (see qa/heify.py): whoever set the claim sends it
    # and records the answer; nobody else sends or edits the object until the
    # claim is released or lapses (a sender that died leaves it to the push job).
    push_claim = models.UUIDField(null=True, blank=True, editable=False)
    push_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    create_sent_at = models.DateTimeField(
        _("create sent at"), null=True, blank=True, editable=False,
        help_text=_("A create sent to Heify whose answer was not stored: before it is sent again, "
                  "Heify is searched for it."),
    )
    replace_sent = models.JSONField(
        _("replace sent"), null=True, blank=True, editable=False,
        help_text=_("The body of a replace sent to Heify whose answer was not stored: if Heify holds it, that "
                  "change is ours, not a conflict with the next one."),
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

    tag = models.CharField(_("tag"), max_length=rules.TAG_MAX_LENGTH)
    vocabulary = models.JSONField(_("vocabulary"), default=list, blank=True)
    summary = models.BooleanField(_("summary"), default=False, help_text=_("Generate an AI summary."))
    summary_language = models.CharField(_("summary language"), max_length=8, blank=True, choices=rules.LANGUAGE_CHOICES)
    analytics_language = models.CharField(_("analytics language"), max_length=8, blank=True,
                                          choices=rules.LANGUAGE_CHOICES)
    webhook_success_url = models.URLField(_("webhook success URL"), max_length=2000, blank=True)
    webhook_error_url = models.URLField(_("webhook error URL"), max_length=2000, blank=True)

    class Meta:
        ordering = ["tag", "id"]
        verbose_name = _("configuration")
        verbose_name_plural = _("configurations")

    def __str__(self):
        return self.tag


class ExtractionField(models.Model):
    """One structured field Heify extracts with a configuration (at most 10)."""

    configuration = models.ForeignKey(
        Configuration, on_delete=models.CASCADE, related_name="extraction_fields", verbose_name=_("configuration")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=64)
    type = models.CharField(_("type"), max_length=16, choices=EXTRACTION_TYPE_CHOICES)
    description = models.TextField(_("description"))

    class Meta:
        ordering = ["configuration", "position", "id"]
        verbose_name = _("extraction field")
        verbose_name_plural = _("extraction fields")

    def __str__(self):
        return self.name

    def as_heify(self) -> dict:
        return {"name": self.name, "type": self.type, "description": self.description}


class Evaluator(HeifyObject):
    """A scorecard: 1-10 criteria whose non-strict weights sum to 100."""

    tag = models.CharField(_("tag"), max_length=rules.TAG_MAX_LENGTH, help_text=_("Cannot be changed after creation."))
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=rules.LANGUAGE_CHOICES)
    context = models.JSONField(_("context"), null=True, blank=True, help_text=_("Any JSON that guides the AI."))
    remote_updated_at = models.DateTimeField(
        _("Heify updated_at"), null=True, blank=True, editable=False,
        help_text=_("Heify's updated_at of the version this row is based on."),
    )

    class Meta:
        ordering = ["tag", "id"]
        verbose_name = _("evaluator")
        verbose_name_plural = _("evaluators")

    def __str__(self):
        return self.tag


class Criterion(models.Model):
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="criteria",
                                  verbose_name=_("evaluator"))
    heify_id = models.CharField(_("Heify ID"), max_length=64, unique=True, null=True, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=rules.TAG_MAX_LENGTH)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=8, choices=CRITERION_TYPE_CHOICES)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, default=0, help_text=_("Percent of the score; 0 for strict."),
    )

    class Meta:
        ordering = ["evaluator", "position", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self):
        return self.name


class Participant(HeifyObject):
    """A person whose calls are tracked (an agent, a candidate...)."""

    tag = models.CharField(_("tag"), max_length=rules.TAG_MAX_LENGTH)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    remote_updated_at = models.DateTimeField(
        _("Heify updated_at"), null=True, blank=True, editable=False,
        help_text=_("Heify's updated_at of the version this row is based on."),
    )
    # Local only, never sent to Heify: the account of the agent this participant is (qa.agents links it).
    agent_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="agent_participant", verbose_name=_("agent's account"),
        help_text=_("The user who signs in as this agent (Agent role): they see this participant's calls only."),
    )

    class Meta:
        ordering = ["tag", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        permissions = [
            ("compare_with_heify", "Can ask Heify for its own analytics report (uses its monthly quota)"),
            ("view_own_evaluations", "Can see their own calls and evaluations (an agent linked to a participant)"),
        ]

    def __str__(self):
        return self.tag


def _heify_reference(model, related_name, **kwargs):
    """A link to another mirrored object by its Heify ID.

    The column holds Heify's id itself, so the upsert resolves relations with
    no lookup, and a call whose evaluator was deleted in Heify keeps the id it
    was scored with (no database constraint: the target may be missing).
    """
    return models.ForeignKey(
        model, to_field="heify_id", db_constraint=False, on_delete=models.DO_NOTHING,
        null=True, blank=True, related_name=related_name, **kwargs,
    )


# The columns the admin's list filters test, carried in the indexes that walk the lists in their order.
LIST_FILTER_COLUMNS = ["status", "group", "evaluator", "participant", "critical_fail_triggered"]
QUEUE_FILTER_COLUMNS = ["score", "evaluator", "participant", "assigned_to"]


class Transcription(HeifyObject):
    """One processed call: Heify's output, read-only here except for its review group."""

    status = models.CharField(_("status"), max_length=16, choices=STATUS_CHOICES, default=Status.PENDING)
    # Heify's null means "no group" / "no name": kept as null, not as "".
    group = models.CharField(_("group"), max_length=16, choices=GROUP_CHOICES, null=True, blank=True)  # noqa: DJ001
    name = models.CharField(_("name"), max_length=500, null=True, blank=True)  # noqa: DJ001
    duration = models.FloatField(_("duration"), null=True, blank=True, help_text=_("Seconds."))
    configuration = _heify_reference(Configuration, "transcriptions", verbose_name=_("configuration"))
    configuration_tag = models.CharField(_("configuration tag"), max_length=rules.TAG_MAX_LENGTH, blank=True)
    evaluator = _heify_reference(Evaluator, "transcriptions", verbose_name=_("evaluator"))
    participant = _heify_reference(Participant, "transcriptions", verbose_name=_("participant"))
    occurred_at = models.DateTimeField(
        _("date"), null=True, blank=True,
        help_text=_("The call's date: Heify's created_at, else details.created_at."),
    )
    # From `details`, present once COMPLETED.
    language = models.CharField(_("language"), max_length=8, blank=True)
    num_speakers = models.PositiveSmallIntegerField(_("num speakers"), null=True, blank=True)
    processing_started_at = models.DateTimeField(_("processing started at"), null=True, blank=True)
    polled_at = models.DateTimeField(
        _("polled at"), null=True, blank=True, editable=False,
        help_text=_("When the poll of calls in flight last asked Heify for it (syncer.tasks.poll_due)."),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    critical_fail_triggered = models.BooleanField(_("critical fail triggered"), default=False)
    segments = models.JSONField(_("segments"), default=list, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    fields = models.JSONField(_("extracted fields"), default=list, blank=True)
    # Heify's results as it sent them, for the API's transcription shape only: every reader reads them typed
    # (qa.mirror.criterion_results.CriterionResult, parsed once by the upsert).
    criteria_results = models.JSONField(_("criteria results"), default=list, blank=True)
    # Derived by the upsert (criterion_results.failed_names), so that the analytics read names, not every result.
    failed_criteria = models.JSONField(
        _("failed criteria"), default=list, blank=True, editable=False,
        help_text=_("Names of the criteria the call failed."),
    )
    # Derived by the upsert (criterion_results.results_key), so that what-if counts calls by their results.
    results_key = models.UUIDField(
        _("results key"), null=True, blank=True, editable=False,
        help_text=_("A digest of the call's results as Heify gave them: the same results, the same key."),
    )
    error = models.JSONField(_("error"), null=True, blank=True)
    # Review: local only, Heify knows nothing of it (see qa/reviews/queues.py).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews",
        help_text=_("The reviewer who claimed the call."), verbose_name=_("assigned to"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    review_touched_at = models.DateTimeField(
        _("review touched at"), null=True, blank=True,
        help_text=_("Last claim, note or verdict: a claim untouched too long is released."),
    )
    group_changed_at = models.DateTimeField(_("group changed at"), null=True, blank=True,
                                            help_text=_("When the call entered its group."))
    # The score of record, once a reviewer has given a verdict (qa.reviews.record computes it, with Heify's score
    # rule, under the revision that scored the call): kept here so that lists and reports read it as they read
    # the AI's. Empty until then; the score empty too where it cannot be computed (the criteria unknown).
    reviewed_score = models.FloatField(_("reviewed score"), null=True, blank=True,
                                       help_text=_("The score of record (a range's middle)."))
    reviewed_score_low = models.FloatField(_("reviewed score low"), null=True, blank=True)
    reviewed_score_high = models.FloatField(
        _("reviewed score high"), null=True, blank=True,
        help_text=_("Not the low one where a scale value the score needs is unknown."))
    reviewed_critical = models.BooleanField(_("reviewed critical"), null=True, blank=True)
    reviewed_failed_criteria = models.JSONField(_("reviewed failed criteria"), null=True, blank=True, editable=False)
    reviewed_results = models.JSONField(
        _("reviewed results"), null=True, blank=True, editable=False,
        help_text=_("[{name, passed, value, source}]: the results of record."))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text=_("Who gave the latest verdict."),
                                        verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True,
                                       help_text=_("The latest verdict's time."))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("transcription")
        verbose_name_plural = _("transcriptions")
        indexes = [
            # The call list in its order, with the columns its filters test (PostgreSQL: INCLUDE), so that the
            # list's page of ids and its capped count are read from the index alone (qa.mirror.admin.paging). Like every
            # index a list or a report walks, it holds the live calls only (gone ones: tx_gone), which is what
            # they read (LiveManager).
            models.Index(fields=["-occurred_at", "-id"], name="tx_date", include=LIST_FILTER_COLUMNS,
                         condition=Q(gone_at__isnull=True)),
            models.Index(fields=["status", "-occurred_at"], name="tx_status_date"),
            # Review queues: one group, critical fails first, oldest first.
            # Each review queue in its order (critical fails first, then the oldest), as qa.reviews.queues reads it.
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
                         # the version: the dashboard's fingerprint (qa.insights.analytics.participant_dashboard)
                         "version",
                         # the score of record, for the report on it (?score=reviewed)
                         "reviewed_score", "reviewed_critical", "reviewed_failed_criteria", "reviewed_at"],
            ),
            # The reviewed calls (a reviewer's verdict: qa.reviews.record), few beside the others: what the team
            # overview on the reviewed score reads beside the roll-ups (qa.insights.team), from this index alone.
            models.Index(
                fields=["participant", "occurred_at"], name="tx_reviewed",
                condition=Q(reviewed_at__isnull=False, gone_at__isnull=True),
                include=["status", "score", "critical_fail_triggered", "group", "reviewed_score", "reviewed_critical"],
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
        return self.name or self.heify_id or gettext("transcription %(id)s") % {"id": self.pk}


class DailyCalls(models.Model):
    """The calls of one participant on one day (UTC) in one review group, counted: qa.mirror.rollups keeps it.

    What the admin home (calls per queue) and the team overview (each
    participant's totals) read instead of aggregating every call. Rebuilt
    whole by `manage.py rebuild_rollups`.
    """

    participant_id = models.CharField(_("participant id"), max_length=64, null=True)  # noqa: DJ001 (as Transcription's)
    day = models.DateField(_("day"), null=True)
    group = models.CharField(_("group"), max_length=16, choices=GROUP_CHOICES, null=True)  # noqa: DJ001
    calls = models.PositiveIntegerField(_("calls"), help_text=_("Every call, whatever its status."))
    scored = models.PositiveIntegerField(_("scored"), help_text=_("COMPLETED calls with a score."))
    score_sum = models.FloatField(_("score sum"), help_text=_("The sum of their scores."))
    passed = models.PositiveIntegerField(pgettext_lazy("daily calls", "passed"),
                                         help_text=_("Scored calls that pass at pass_mark."))
    critical_fails = models.PositiveIntegerField(_("critical fails"), help_text=_("Scored calls with a critical fail."))
    pass_mark = models.FloatField(_("pass mark"),
                                  help_text=_("ANALYTICS_PASS_MARK when counted; another one means a rebuild."))

    class Meta:
        indexes = [models.Index(fields=["participant_id", "day"], name="daily_calls_key")]

    def __str__(self):
        return f"{self.participant_id} {self.day} {self.group}: {self.calls}"


# --- evaluator revisions (issue 15; the rules and reads live in qa/mirror/revisions.py) ---


class EvaluatorRevision(models.Model):
    """An immutable snapshot of an evaluator's criteria, written whenever they change (qa.mirror.revisions)."""

    class Source(models.TextChoices):
        LOCAL = "local", _("edited here")
        HEIFY = "heify", _("seen in Heify")

    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="revisions",
                                  verbose_name=_("evaluator"))
    number = models.PositiveIntegerField(_("number"))
    criteria = models.JSONField(_("criteria"),
                                help_text=_("[{name, description, type, weight}], in the evaluator's order."))
    at = models.DateTimeField(_("at"), help_text=_("When the back office stored it."))
    in_force_from = models.DateTimeField(
        _("in force from"), null=True, blank=True,
        help_text=_("From when calls were scored with it (Heify's updated_at for a pulled change); "
                  "empty for a first revision: in force as far back as we know."),
    )
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Who saved the criteria here; empty for a change seen in Heify (or a former user)."),
        verbose_name=_("author"),
    )

    class Meta:
        ordering = ["evaluator", "-number"]
        verbose_name = _("evaluator revision")
        verbose_name_plural = _("evaluator revisions")
        constraints = [models.UniqueConstraint(fields=["evaluator", "number"], name="one_revision_number")]

    def __str__(self):
        return gettext("%(evaluator)s revision %(number)s") % {"evaluator": self.evaluator, "number": self.number}

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("An evaluator revision is immutable; write a new one instead.")
        super().save(*args, **kwargs)
