"""The audit trail: every write a service makes leaves one AuditEvent row (who, what, when, which request,
the changed fields before and after), written inside that service's transaction by `audit_record`.

Why the service layer and not a library: django-simple-history and django-auditlog (and django-easy-audit)
hook model signals, and most of our writes send none: the edits of Heify's objects and every review step are
conditional `queryset.update()` calls (the version or the group is in the WHERE clause), criteria and fields are
replaced by bulk_create, a pull upserts in bulk. Those libraries would miss them, or see only half of a
change. django-pghistory sees everything, but through PostgreSQL triggers, and the tests and development run
on SQLite too. And a signal only knows who acted from a thread-local set by a middleware, which a job has
not: here, as in Zulip's RealmAuditLog (written inside each do_* action), the service is told its actor
(`acting_user=`, None for a job, which then names itself: "job: claim expiry"). The request id is the one
heifyadmin.request_log sets for a request (X-Request-ID) and heifyadmin.job_log for a job, read through the
reader the site hands in at start-up (request_id_reader_connect), so an audit row and the log lines of the same
request carry the same id.

A write that is refused leaves nothing: a refusal of our own rules raises inside the transaction, which takes
the row back with the change; one of Heify's, after the change was written, puts the object back and removes
the row with it (`audit_forget`, in the same transaction as the put-back).

What is kept: only the fields that changed, as JSON. The trail is read by QA managers and exported, so the
services hand in nothing secret (qa.mirror.services masks the webhook secret in a configuration's URLs) and
a calibration rater's answers are counted, never copied (the trail must not show them to another rater).
Who may read the trail is qa.policy.may_read_audit; the screens are qa/reviews/admin/audit.py (the Audit
log, which leaves out the calls a reader scores blind) and every object's History page (qa.mirror.admin.base).
On the ground floor: it reads no domain, and every domain's services may write through it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEvent(models.Model):
    """One write through a service: who made it, to what, when, in which request, and what it changed."""

    class Action(models.TextChoices):
        CREATE = "create", pgettext_lazy("audit action", "created")
        UPDATE = "update", pgettext_lazy("audit action", "changed")
        DELETE = "delete", pgettext_lazy("audit action", "deleted")
        UPLOAD = "upload", pgettext_lazy("audit action", "uploaded to Heify")
        # The review steps (qa.reviews.queues), with ReviewEvent.Action's codes.
        CLAIM = "claim", pgettext_lazy("audit action", "started review")
        RELEASE = "release", pgettext_lazy("audit action", "released")
        ARCHIVE = "archive", pgettext_lazy("audit action", "archived")
        REOPEN = "reopen", pgettext_lazy("audit action", "reopened")
        REASSIGN = "reassign", pgettext_lazy("audit action", "reassigned")
        MOVE = "move", pgettext_lazy("audit action", "moved")
        EXPIRE = "expire", pgettext_lazy("audit action", "claim expired")
        NOTE = "note", pgettext_lazy("audit action", "wrote a note")
        VERDICT = "verdict", pgettext_lazy("audit action", "recorded a criterion verdict")
        # Calibration (qa.reviews.calibration).
        SESSION_CREATE = "session_create", pgettext_lazy("audit action", "set up a calibration session")
        SESSION_CLOSE = "session_close", pgettext_lazy("audit action", "closed a calibration session")
        ANSWERS_SAVE = "answers_save", pgettext_lazy("audit action", "saved calibration answers")
        ANSWERS_SUBMIT = "answers_submit", pgettext_lazy("audit action", "submitted calibration answers")
        # Agents (qa.agents), their acknowledgements, disputes and coaching (qa.reviews).
        AGENT_LINK = "agent_link", pgettext_lazy("audit action", "linked an agent's account")
        AGENT_UNLINK = "agent_unlink", pgettext_lazy("audit action", "unlinked an agent's account")
        ACKNOWLEDGE = "acknowledge", pgettext_lazy("audit action", "acknowledged a review")
        DISPUTE_RAISE = "dispute_raise", pgettext_lazy("audit action", "disputed a result")
        DISPUTE_RESOLVE = "dispute_resolve", pgettext_lazy("audit action", "resolved a dispute")
        COACHING_CREATE = "coaching_create", pgettext_lazy("audit action", "opened a coaching session")
        COACHING_CHANGE = "coaching_change", pgettext_lazy("audit action", "changed a coaching session")
        COACHING_ACKNOWLEDGE = "coaching_acknowledge", pgettext_lazy("audit action", "acknowledged a coaching session")
        COACHING_COMPLETE = "coaching_complete", pgettext_lazy("audit action", "completed a coaching session")

    class ObjectType(models.TextChoices):
        CONFIGURATION = "qa.configuration", _("configuration")
        EVALUATOR = "qa.evaluator", _("evaluator")
        PARTICIPANT = "qa.participant", _("participant")
        TRANSCRIPTION = "qa.transcription", _("call")
        CALIBRATION_SESSION = "qa.calibrationsession", _("calibration session")
        DISPUTE = "qa.dispute", _("dispute")
        COACHING_SESSION = "qa.coachingsession", _("coaching session")

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Empty for a job or the system (see the label)."), verbose_name=_("actor"),
    )
    actor_label = models.CharField(
        _("who"), max_length=150,
        help_text=_("Who, as they were called then: the username, or the job (job: claim expiry)."))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=40, choices=ObjectType.choices)
    object_id = models.PositiveBigIntegerField(_("object id"),
                                               help_text=_("The object's id here (kept after it is deleted)."))
    heify_id = models.CharField(_("Heify ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    request_id = models.CharField(
        _("request ID"), max_length=128, blank=True,
        help_text=_("The X-Request-ID of the request (or the job's id) that made the change: the same as its log "
                    "lines."))
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder,
                              help_text=_("The changed fields as they were."))
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder,
                             help_text=_("The changed fields as they became."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_newest"),  # the list, and its date filter
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object"),  # a history
            models.Index(fields=["heify_id"], name="audit_heify_id"),
            models.Index(fields=["request_id"], name="audit_request_id"),
        ]

    def __str__(self):
        return f"{self.actor_label} {self.get_action_display()} {self.object_repr or self.object_id}"


# --- writing ------------------------------------------------------------------------------------------------


def _as_stored(value: Any) -> Any:
    """`value` as the JSON column gives it back, so that a comparison is of what is kept."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what differs: the keys whose values are not the same on both sides (one side may lack a key)."""
    before, after = _as_stored(before or {}), _as_stored(after or {})
    keys = [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)
            or (key in before) != (key in after)]
    return {k: before[k] for k in keys if k in before}, {k: after[k] for k in keys if k in after}


def object_type(obj: models.Model) -> str:
    """What the trail calls a model: a proxy's rows are its concrete model's (a call to review is a call)."""
    return obj._meta.concrete_model._meta.label_lower


def actor_label(actor, job: str = "") -> str:
    if actor is not None:
        return actor.get_username()
    return f"job: {job}" if job else "system"


def audit_record(*, actor, action: str, obj: models.Model, before: dict | None = None, after: dict | None = None,
                 job: str = "") -> AuditEvent:
    """Write the audit row of one write, inside the service's transaction (one INSERT); `before` and `after` map
    field names to values, and only those that differ are kept. `actor` is the acting user, None for a job,
    which names itself in `job` ("claim expiry")."""
    before, after = changed_fields(before or {}, after or {})
    return AuditEvent.objects.create(
        actor=actor, actor_label=actor_label(actor, job), action=action, object_type=object_type(obj),
        object_id=obj.pk, heify_id=getattr(obj, "heify_id", None) or "", object_repr=str(obj)[:200],
        request_id=_current_request_id(), before=before, after=after,
    )


def audit_forget(event: AuditEvent | None) -> None:
    """Remove the row of a write that did not stand (Heify refused it and the object was put back)."""
    if event is not None and event.pk is not None:
        AuditEvent.objects.filter(pk=event.pk).delete()


# Which request or job a write belongs to: the site knows (its request and job hooks set the id), so it hands
# its reader in at start-up (heifyadmin.apps), as syncer plugs into qa.heify; qa never imports the site.
_request_id_reader: list[Callable[[], str]] = []


def request_id_reader_connect(reader: Callable[[], str]) -> None:
    _request_id_reader[:] = [reader]


def _current_request_id() -> str:
    current = _request_id_reader[0]() if _request_id_reader else "-"
    return "" if current == "-" else current


def field_values(obj: models.Model | None, names) -> dict:
    """{name: value} of `obj`'s fields (a foreign key by its id, as `name_id`'s value under `name`); {} for None."""
    if obj is None:
        return {}
    return {name: getattr(obj, obj._meta.get_field(name).attname) for name in names}


def username(user) -> str | None:
    """A user as the trail names them: by username (None for nobody)."""
    return user.get_username() if user is not None else None


# --- reading ------------------------------------------------------------------------------------------------

def object_history(obj: models.Model):
    """The audit rows of one object, newest first."""
    return AuditEvent.objects.filter(object_type=object_type(obj), object_id=obj.pk)


def change_rows(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) of each changed field, as JSON text ("" where a side has none)."""
    keys = dict.fromkeys([*event.before, *event.after])
    return [(key, as_text(event.before[key]) if key in event.before else "",
             as_text(event.after[key]) if key in event.after else "") for key in keys]


def as_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
