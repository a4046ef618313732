"""The review domain's tables: the review queue's proxy, review events (the history of every move, note
and verdict), criterion verdicts, sampling rules and picks, calibration sessions with their answers and
submissions, the agreement page's proxy, review acknowledgements, disputes and coaching sessions. The calls
themselves are the mirror's (qa.mirror.models)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qa.jobs import JobRuleState
from qa.mirror import rules
from qa.mirror.models import GROUP_CHOICES, Evaluator, Participant, Transcription


class ReviewItem(Transcription):
    """A call seen as an item of a review queue (the admin's queue screens)."""

    class Meta:
        proxy = True
        verbose_name = _("call to review")
        verbose_name_plural = _("review queues")


class ReviewEvent(models.Model):
    """One step in a call's review history: who moved it from where to where, when, and why."""

    class Action(models.TextChoices):
        CLAIM = "claim", _("started review")
        RELEASE = "release", _("released")
        ARCHIVE = "archive", _("archived")
        REOPEN = "reopen", _("reopened")
        REASSIGN = "reassign", _("reassigned")
        MOVE = "move", _("moved")
        EXPIRE = "expire", _("claim expired")
        NOTE = "note", _("note")
        VERDICT = "verdict", _("criterion verdict")

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="review_events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Empty for the system (an expired claim)."),
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
    """A reviewer's result on one criterion of a call, beside the AI's (never overwriting it): what the score of
    record takes instead of the AI's result (qa.reviews.record)."""

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="criterion_verdicts")
    criterion_name = models.CharField(max_length=255)
    agrees = models.BooleanField(help_text=_("Is the reviewer's result the AI's (the same pass/fail, and the same "
                                             "value where both are known)?"))
    passed = models.BooleanField(null=True, help_text=_("The reviewer's pass/fail (for an agreement, the AI's; "
                                                        "empty only where the AI's was unknown)."))
    value = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text=_("A scale criterion's value (1-5), as the reviewer gave it or, for an agreement, the AI's where "
                    "Heify gave it."))
    reason = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    as_manager = models.BooleanField(
        _("by a QA manager"), default=False,
        help_text=_("Recorded by a QA manager's right, not by the reviewer holding the call."),
    )
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["transcription", "criterion_name"]
        constraints = [
            models.UniqueConstraint(fields=["transcription", "criterion_name"], name="one_verdict_per_criterion"),
        ]

    def __str__(self):
        return f"{self.criterion_name}: {'agrees' if self.agrees else 'disagrees'}"


class EvaluatorAgreement(Evaluator):
    """An evaluator seen through how its reviewers agree with the AI (the managers' agreement page)."""

    class Meta:
        proxy = True
        verbose_name = _("AI agreement")
        verbose_name_plural = _("AI agreement")


class SamplingRule(JobRuleState):
    """Which calls to send to the review queue each period, how many per participant, and how to choose them."""

    class Method(models.TextChoices):
        RANDOM = "random", _("random (seeded per period, reproducible)")
        LOWEST_SCORE = "lowest_score", _("lowest scores first")
        CRITICAL_FIRST = "critical_first", _("critical fails first")
        NEAR_PASS_MARK = "near_pass_mark", _("closest to the pass mark first")
        PRECISION = "precision", _("enough for each average to be known within ±N points")

    class Period(models.TextChoices):
        DAY = "day", _("day")
        WEEK = "week", _("week (Monday to Sunday)")
        MONTH = "month", _("month")

    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    evaluator = models.ForeignKey(Evaluator, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                  help_text=_("Empty: calls of every evaluator."))
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                    help_text=_("Empty: every participant."))
    score_min = models.FloatField(null=True, blank=True, help_text=_("Only calls scoring at least this."))
    score_max = models.FloatField(null=True, blank=True, help_text=_("Only calls scoring at most this."))
    critical_only = models.BooleanField(default=False, help_text=_("Only calls with a critical fail."))
    period = models.CharField(max_length=5, choices=Period.choices, default=Period.WEEK)
    per_participant = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Calls per participant per period; for 'precision', an optional cap on what it asks for."),
    )
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.RANDOM)
    precision_points = models.FloatField(
        # xgettext:no-python-format
        null=True, blank=True, help_text=_("For 'precision': each participant's average known within ± this many "
                                           "points, at 95% confidence."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The QA manager in whose name the calls are moved; the rule stops if they may no longer move "
                    "calls."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sampling rule")
        verbose_name_plural = _("sampling rules")

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
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("Closed by a manager; the answers are kept."))
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="calibration_sessions")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Optional: whose answers the reviewers are compared with."),
    )
    calls = models.ManyToManyField(Transcription, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self):
        return self.name


class CalibrationAnswer(models.Model):
    """One rater's answer on one criterion of one call of a session: a value (1-5) on a scale criterion, which
    says its pass/fail too (passed from SCALE_PASS_MARK up), pass/fail on the others."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="answers")
    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    criterion_name = models.CharField(max_length=255)
    passed = models.BooleanField()
    value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("On a scale criterion, the rater's value (1-5); empty on the others."))
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "transcription", "criterion_name", "rater"]
        constraints = [
            models.UniqueConstraint(fields=["session", "transcription", "rater", "criterion_name"],
                                    name="one_calibration_answer"),
            models.CheckConstraint(  # a value is on the scale, and says the pass/fail kept beside it
                condition=models.Q(value__isnull=True)
                | models.Q(value__gte=rules.SCALE_PASS_MARK, value__lte=rules.SCALE_MAX, passed=True)
                | models.Q(value__gte=rules.SCALE_MIN, value__lt=rules.SCALE_PASS_MARK, passed=False),
                name="calibration_value_on_the_scale"),
        ]

    def __str__(self):
        if self.value is not None:
            return f"{self.criterion_name}: {self.value} of {rules.SCALE_MAX}"
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


class ReviewAcknowledgement(models.Model):
    """An agent saw and acknowledged the review of one of their calls: which review is `reviewed_at`, the call's
    reviewed_at when they acknowledged it. A later change of the score of record (another verdict, an upheld
    dispute) moves the call's reviewed_at, and the call is unacknowledged again until they acknowledge anew
    (the same row then takes the new time). Written by qa.agents.services.transcription_acknowledge only."""

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewed_at = models.DateTimeField(help_text=_("The call's reviewed_at this acknowledges."))
    at = models.DateTimeField(help_text=_("When they acknowledged it."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transcription", "user"], name="one_acknowledgement_per_agent"),
        ]

    def __str__(self):
        return f"{self.transcription_id} acknowledged by {self.user_id}"


def acknowledged_q(call: str = "pk", reviewed_at: str = "reviewed_at") -> models.Exists:
    """Whether the call (the outer query's `call` id) has had its current review (its `reviewed_at`)
    acknowledged by its agent: the one rule of "acknowledged", for the agent's page and the team overview."""
    return models.Exists(ReviewAcknowledgement.objects.filter(transcription_id=models.OuterRef(call),
                                                              reviewed_at=models.OuterRef(reviewed_at)))


class Dispute(models.Model):
    """An agent's dispute of one criterion's result of record on one of their reviewed calls, and a QA manager's
    answer to it (qa.reviews.disputes): upheld, the manager's result becomes the score of record's."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    transcription = models.ForeignKey(Transcription, on_delete=models.CASCADE, related_name="disputes")
    criterion_name = models.CharField(max_length=255)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                  help_text=_("The agent who disputes it."))
    reason = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    result_when_raised = models.JSONField(
        default=dict, blank=True,
        help_text=_("The criterion's result of record when it was disputed: {passed, value, source}."))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Whose result was disputed: the criterion's verdict's reviewer when raised (else the call's)."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True)
    upheld_passed = models.BooleanField(null=True, blank=True, help_text=_("Upheld: the result given (pass/fail)."))
    upheld_value = models.PositiveSmallIntegerField(null=True, blank=True,
                                                    help_text=_("Upheld, on a scale criterion: the value given (1-5)."))

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.UniqueConstraint(fields=["transcription", "criterion_name"], name="one_dispute_per_criterion"),
        ]
        indexes = [models.Index(fields=["status", "raised_at"], name="dispute_queue")]

    def __str__(self):
        return f"Dispute #{self.pk}: {self.criterion_name}"


class CoachingSession(models.Model):
    """A QA manager's coaching of one agent (qa.reviews.coaching): the calls it is about, the criteria to work on,
    what was said and what the agent is to do, by when; then the agent's acknowledgement and its completion."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="coaching_sessions",
                                    help_text=_("The agent coached."))
    calls = models.ManyToManyField(Transcription, blank=True, related_name="coaching_sessions",
                                   help_text=_("Calls of this agent the session is about."))
    focus_criteria = models.JSONField(
        default=list, blank=True,
        help_text=_("Names of the criteria to work on, from the criteria of the agent's evaluators."))
    notes = models.TextField(blank=True)
    action_items = models.JSONField(default=list, blank=True, help_text=_("What the agent is to do: short texts."))
    due_date = models.DateField(null=True, blank=True, help_text=_("By when the action items are to be done."))
    held_at = models.DateTimeField(
        _("held"), default=timezone.now,
        help_text=_("When the session took place: the dashboard compares the calls before it with those after."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text=_("When the agent acknowledged it."))
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text=_("Who marked it completed (a manager or the agent)."))

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("coaching session")
        verbose_name_plural = _("coaching sessions")
        indexes = [models.Index(fields=["participant", "held_at"], name="coaching_by_participant")]

    def __str__(self):
        return f"Coaching of {self.participant} on {self.held_at:%Y-%m-%d}"
