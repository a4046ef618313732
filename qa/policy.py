"""Who may do what: the one permission enum, and one function per question about a person.

Every "qa.<codename>" permission the code asks about is a member of `Permission` (the custom ones are
declared in the models' Meta and created by migrations), and no other module spells one as a string
(tests/qa/test_policy.py checks). The admin, the API (qa.api.permissions.requires), the templates
({% load policy %} ... {% if user|may:"COMPARE_WITH_HEIFY" %}), the domains' services and the exports ask
these functions instead of calling has_perm themselves. An inactive or anonymous user may do nothing.

On the ground floor beside qa/models.py: it reads the users and their permissions, nothing of a domain, so
every domain may ask it (the mirror included). The questions that turn on the state of the review work
stay in qa/reviews, reading their permissions from here: which step a user may take on a call now
(queues.step_refusal, allowed_steps), what a calibration rater may not see yet (blinding: a call's AI
verdicts, a participant's Heify report), and who may see a session's results (calibration.may_see_results).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _


class Permission(models.TextChoices):
    """The permissions the code asks about, as has_perm names them ("<app label>.<codename>")."""

    REVIEW_TRANSCRIPTION = "qa.review_transcription", _("review calls")
    MANAGE_REVIEW_QUEUES = "qa.manage_review_queues", _("manage the review queues")
    # Asking Heify for its own analytics report spends its monthly quota: a manager's call.
    COMPARE_WITH_HEIFY = "qa.compare_with_heify", _("ask Heify for its own report")
    # Whoever may change configurations may see their webhook URLs whole, secret included.
    CHANGE_CONFIGURATION = "qa.change_configuration", _("change configurations")
    VIEW_EVALUATOR = "qa.view_evaluator", _("read evaluators")
    CHANGE_EVALUATOR = "qa.change_evaluator", _("edit evaluators")
    VIEW_PARTICIPANT = "qa.view_participant", _("read participants")
    VIEW_REVIEWITEM = "qa.view_reviewitem", _("read the review queues")
    VIEW_AUDITEVENT = "qa.view_auditevent", _("read the audit log")
    # An agent (the Agent role): their own calls, evaluations, disputes and coaching, nothing of anyone else's.
    VIEW_OWN_EVALUATIONS = "qa.view_own_evaluations", _("see your own evaluations")

    @property
    def codename(self) -> str:
        """The name without its app label, as auth's Permission rows and the roles' lists hold it."""
        return self.value.partition(".")[2]


def may(user, permission: Permission) -> bool:
    """Whether `user` holds `permission` (directly, through a group, or as an active superuser)."""
    if not isinstance(permission, Permission):
        # A bare string would pass for a permission nobody holds: refused loudly instead.
        raise TypeError(f"{permission!r} is not a qa.policy.Permission")
    return bool(user is not None and user.is_active and user.has_perm(permission.value))


def is_reviewer(user) -> bool:
    """Whether `user` works the review queues (claims calls, rates in calibration sessions, takes reassigned
    calls); reviewers() is the same question asked of every user at once."""
    return may(user, Permission.REVIEW_TRANSCRIPTION)


def may_manage_queues(user) -> bool:
    """QA managers: every call's steps, sampling and alert rules, calibration sessions, the AI agreement."""
    return may(user, Permission.MANAGE_REVIEW_QUEUES)


def may_see_webhook_secret(user) -> bool:
    """Whether `user` may read a configuration's webhook URLs whole (they carry HEIFY_WEBHOOK_SECRET, with
    which anyone can post fake notifications): those who may change configurations (qa.mirror.webhook_urls)."""
    return may(user, Permission.CHANGE_CONFIGURATION)


def may_compare_with_heify(user) -> bool:
    """Whether `user` may ask Heify for its own report of a participant, which spends its monthly quota
    (asked before the lookup; then, not while they score some of its calls blind: qa.reviews.blinding)."""
    return may(user, Permission.COMPARE_WITH_HEIFY)


def may_read_audit(user) -> bool:
    """Whether `user` may read the audit trail (qa.audit: the Audit log, its export, the rows on a History
    page): QA managers and superusers."""
    return may(user, Permission.VIEW_AUDITEVENT)


def is_agent(user) -> bool:
    """Whether `user` signs in as an agent (the Agent role): they may see their own evaluations only."""
    return may(user, Permission.VIEW_OWN_EVALUATIONS)


def sees_own_only(user) -> bool:
    """Whether `user` signs in as an agent and nothing else: every admin page and API endpoint but their own
    (the agent's page, /api/v1/me/, acknowledging their calls) refuses them, whatever else they were given.
    Superusers are never confined (is_agent answers yes for them, as every permission does)."""
    return is_agent(user) and not user.is_superuser


def agent_participant(user):
    """The participant `user` is the agent of (qa.mirror.models.Participant.agent_user), or None: an agent with
    no participant linked sees nothing."""
    if not is_agent(user):
        return None
    try:
        return user.agent_participant  # the link's reverse side
    except ObjectDoesNotExist:
        return None


def reviewers() -> QuerySet:
    """The active users is_reviewer answers yes for, by username: who a call may be reassigned to and who may
    rate in a calibration session. The same test as has_perm's: superusers, and holders of the permission
    itself (its app label and codename) directly or through a group."""
    return _holders(Permission.REVIEW_TRANSCRIPTION)


def queue_managers() -> QuerySet:
    """The active users may_manage_queues answers yes for (QA managers, superusers), by username: who is told of a
    dispute raised (qa.alerts, through qa.reviews.disputes)."""
    return _holders(Permission.MANAGE_REVIEW_QUEUES)


def _holders(permission: Permission) -> QuerySet:
    app_label, codename = permission.value.split(".")
    holds = {"content_type__app_label": app_label, "codename": codename}
    return get_user_model().objects.filter(
        Q(is_superuser=True)
        | Q(**{f"groups__permissions__{k}": v for k, v in holds.items()})
        | Q(**{f"user_permissions__{k}": v for k, v in holds.items()}),
        is_active=True,
    ).distinct().order_by("username")
