"""Alert rules (what a QA manager wants to be told of), the alerts they fire, their conditions and their
deliveries."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qa import limits
from qa.jobs import JobRuleState
from qa.mirror.models import Transcription
from qa.mirror.report_rules import ScoreSource


class AlertRule(JobRuleState):
    """What a QA manager wants to be told of, and whom to tell."""

    class Kind(models.TextChoices):
        DEGRADATION = "degradation", _("a participant's degradation alert turns on")
        CRITICAL_FAIL = "critical_fail", _("a critical fail lands")
        PASS_RATE = "pass_rate", _("a participant's pass rate over their last N calls falls below X%")
        CLAIM_WAITING = "claim_waiting", _("a claim has waited longer than N hours in review")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    score = models.CharField(
        _("watches"), max_length=8, choices=ScoreSource.choices, default=ScoreSource.AI,
        help_text=_("Which score the rule watches: the AI's, or the reviewed score (the reviewer's where a call was "
                    "reviewed, the AI's elsewhere). Claims waiting have no score."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    last_calls = models.PositiveIntegerField(
        _("last N calls"), null=True, blank=True,
        help_text=_("Pass rate: over each participant's newest N scored calls."),
    )
    pass_rate_below = models.FloatField(
        _("below X%"), null=True, blank=True, help_text=_("Pass rate: fire when it falls below this percentage."),
    )
    hours = models.FloatField(_("N hours"), null=True, blank=True,
                              help_text=_("Claim waiting: fire after this long."))
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("users"),
                                   help_text=_("Recipients."))
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", verbose_name=_("groups"),
        help_text=_("Recipients: every member with an e-mail address."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self):
        return self.name

    def clean(self):
        limits.clean_alert_thresholds(
            {"last_calls": self.last_calls, "pass_rate_below": self.pass_rate_below, "hours": self.hours},
            pass_rate=self.kind == self.Kind.PASS_RATE, claim_waiting=self.kind == self.Kind.CLAIM_WAITING,
        )


class Alert(models.Model):
    """One event a rule fired on, or a notice to named people (no rule: a dispute raised or resolved, sent to
    `recipients`). Stored before it is sent; `event_key` makes a second one for the same event impossible (a pull
    that sees the same critical call again adds nothing)."""

    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts",
                             verbose_name=_("rule"),
                             help_text=_("Empty for a notice to named people (a dispute raised or resolved)."))
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("recipients"),
        help_text=_("A notice's recipients (a rule's alerts go to the rule's users and groups)."))
    event_key = models.CharField(_("event key"), max_length=255,
                                 help_text=_("What happened, e.g. critical:<call id>."))
    participant_id = models.CharField(_("participant ID"), max_length=64, blank=True,
                                      help_text=_("Heify's id of the participant."))
    transcription = models.ForeignKey(
        Transcription, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("transcription"),
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    # The subject and body as messages (qa.alerts.texts), so each recipient reads them in their own language;
    # `subject` and `body` are them written in the site's language (LANGUAGE_CODE).
    message = models.JSONField(_("message"), default=dict, blank=True, editable=False)
    link = models.CharField(_("link"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_key"], name="one_alert_per_event"),
            models.UniqueConstraint(fields=["event_key"], condition=models.Q(rule__isnull=True),
                                    name="one_notice_per_event"),
        ]

    def __str__(self):
        return self.subject


class AlertDelivery(models.Model):
    """Sending one alert by one channel: retried with back-off by a background job until sent or given up."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("gave up")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("alert"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"), default=timezone.now,
        help_text=_("When it is tried next (while sending: when the attempt counts as lost)."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["alert", "channel"]
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="one_delivery_per_channel")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due")]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.get_state_display()}"


class AlertCondition(models.Model):
    """Whether a rule's condition held for a participant when last evaluated: an alert fires when it turns on."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("rule"))
    participant_id = models.CharField(_("participant ID"), max_length=64)
    active = models.BooleanField(_("active"), default=False)
    episodes = models.PositiveIntegerField(_("episodes"), default=0, help_text=_("How many times it has turned on."))
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("alert condition")
        verbose_name_plural = _("alert conditions")
        constraints = [
            models.UniqueConstraint(fields=["rule", "participant_id"], name="one_condition_per_participant"),
        ]

    def __str__(self):
        return f"{self.rule}: {self.participant_id} {'on' if self.active else 'off'}"
