"""Linking an agent's account to the participant they are (Participant.agent_user): local only, never sent to
Heify. A QA manager links one user to exactly one participant, and a participant has at most one linked user;
the user must hold the Agent role, and no other, so that signing in as an agent shows their own work only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qa import audit, policy
from qa.mirror.models import Participant, Transcription
from qa.reviews.models import ReviewAcknowledgement
from qa.roles import ROLES

AGENT_ROLE = "Agent"


def _require_manager(user) -> None:
    if not policy.may_manage_queues(user):
        raise PermissionDenied(_("You are not allowed to link agents' accounts."))


@transaction.atomic
def agent_link(*, participant_id: int, username, acting_user) -> Participant:
    """Link the account named `username` to the participant (its pk); a ValidationError names what is wrong."""
    _require_manager(acting_user)
    participant = Participant.all_objects.select_for_update().get(pk=participant_id)
    if not isinstance(username, str) or not username.strip():
        raise ValidationError({"username": _("Give the username of the agent's account.")})
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ValidationError({"username": _("No user is called %(username)r.") % {"username": username.strip()}})
    if not user.is_active:
        raise ValidationError({"username": _("%(username)s's account is deactivated.") % {
            "username": user.get_username()}})
    roles = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if roles != {AGENT_ROLE} or user.is_superuser:
        held = (", ".join(sorted(roles)) or _("no role")) + (", superuser" if user.is_superuser else "")
        raise ValidationError({"username": _("%(username)s must hold the Agent role and no other (they hold: "
                                             "%(roles)s).") % {"username": user.get_username(), "roles": held}})
    if participant.agent_user_id == user.pk:
        return participant
    if participant.agent_user_id is not None:
        raise ValidationError({"username": _("%(participant)s is already linked to %(username)s: unlink them "
                                             "first.") % {"participant": participant.tag,
                                                          "username": participant.agent_user.get_username()}})
    elsewhere = Participant.all_objects.filter(agent_user=user).first()
    if elsewhere is not None:
        raise ValidationError({"username": _("%(username)s is already linked to %(participant)s.") % {
            "username": user.get_username(), "participant": elsewhere.tag}})
    Participant.all_objects.filter(pk=participant.pk).update(agent_user=user)  # no version: Heify knows nothing
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.AGENT_LINK, obj=participant,
                       before={"agent_user": None}, after={"agent_user": user.get_username()})
    participant.agent_user = user
    return participant


@transaction.atomic
def agent_unlink(*, participant_id: int, acting_user) -> Participant:
    _require_manager(acting_user)
    # of=self: PostgreSQL locks no row of the nullable side of the join to the user.
    participant = Participant.all_objects.select_for_update(of=("self",)).select_related("agent_user").get(
        pk=participant_id)
    if participant.agent_user_id is None:
        return participant
    Participant.all_objects.filter(pk=participant.pk).update(agent_user=None)
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.AGENT_UNLINK, obj=participant,
                       before={"agent_user": audit.username(participant.agent_user)}, after={"agent_user": None})
    participant.agent_user = None
    return participant


class NotYours(PermissionDenied):
    """The call is not the acting agent's own (or they are no agent): the API answers 404 to an agent, as if the
    call did not exist, and 403 to anyone else."""


@transaction.atomic
def transcription_acknowledge(*, transcription_id: int, acting_user) -> ReviewAcknowledgement:
    """The call's own agent acknowledges its review as it stands now (the call's reviewed_at). Again with the
    same review: nothing is written (idempotent); after the score of record changed: the row takes the new
    review. A call not reviewed yet is refused by name (ValidationError code "not_reviewed")."""
    participant = policy.agent_participant(acting_user)
    call = Transcription.all_objects.select_for_update().get(pk=transcription_id)
    if participant is None or participant.heify_id is None or call.participant_id != participant.heify_id:
        raise NotYours(_("Only the call's own agent acknowledges its review."))
    if call.reviewed_at is None:
        raise ValidationError(_("This call has not been reviewed yet: there is nothing to acknowledge."),
                              code="not_reviewed")
    kept = ReviewAcknowledgement.objects.filter(transcription=call, user=acting_user).first()
    if kept is not None and kept.reviewed_at == call.reviewed_at:
        return kept
    before = {"reviewed_at": kept.reviewed_at.isoformat() if kept else None}
    now = timezone.now()
    if kept is None:
        kept = ReviewAcknowledgement.objects.create(transcription=call, user=acting_user,
                                                    reviewed_at=call.reviewed_at, at=now)
    else:
        kept.reviewed_at, kept.at = call.reviewed_at, now
        kept.save(update_fields=["reviewed_at", "at"])
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.ACKNOWLEDGE, obj=call,
                       before=before, after={"reviewed_at": call.reviewed_at.isoformat()})
    return kept
