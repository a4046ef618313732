"""Linking an agent's account to the participant they are (Participant.agent_user): local only, never sent to
Heify. A QA manager links one user to exactly one participant, and a participant has at most one linked user;
the user must hold the Agent role, and no other, so that signing in as an agent shows their own work only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from qa import audit, policy
from qa.mirror.models import Participant
from qa.roles import ROLES

AGENT_ROLE = "Agent"


def _require_manager(user) -> None:
    if not policy.may_manage_queues(user):
        raise PermissionDenied("You are not allowed to link agents' accounts.")


@transaction.atomic
def agent_link(*, participant_id: int, username, acting_user) -> Participant:
    """Link the account named `username` to the participant (its pk); a ValidationError names what is wrong."""
    _require_manager(acting_user)
    participant = Participant.all_objects.select_for_update().get(pk=participant_id)
    if not isinstance(username, str) or not username.strip():
        raise ValidationError({"username": "Give the username of the agent's account."})
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ValidationError({"username": f"No user is called {username.strip()!r}."})
    if not user.is_active:
        raise ValidationError({"username": f"{user.get_username()}'s account is deactivated."})
    roles = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if roles != {AGENT_ROLE} or user.is_superuser:
        raise ValidationError({"username": f"{user.get_username()} must hold the Agent role and no other (they "
                                           f"hold: {', '.join(sorted(roles)) or 'no role'}"
                                           f"{', superuser' if user.is_superuser else ''})."})
    if participant.agent_user_id == user.pk:
        return participant
    if participant.agent_user_id is not None:
        raise ValidationError({"username": f"{participant.tag} is already linked to "
                                           f"{participant.agent_user.get_username()}: unlink them first."})
    elsewhere = Participant.all_objects.filter(agent_user=user).first()
    if elsewhere is not None:
        raise ValidationError({"username": f"{user.get_username()} is already linked to {elsewhere.tag}."})
    Participant.all_objects.filter(pk=participant.pk).update(agent_user=user)  # no version: Heify knows nothing
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.AGENT_LINK, obj=participant,
                       before={"agent_user": None}, after={"agent_user": user.get_username()})
    participant.agent_user = user
    return participant


@transaction.atomic
def agent_unlink(*, participant_id: int, acting_user) -> Participant:
    _require_manager(acting_user)
    participant = Participant.all_objects.select_for_update().select_related("agent_user").get(pk=participant_id)
    if participant.agent_user_id is None:
        return participant
    Participant.all_objects.filter(pk=participant.pk).update(agent_user=None)
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.AGENT_UNLINK, obj=participant,
                       before={"agent_user": audit.username(participant.agent_user)}, after={"agent_user": None})
    participant.agent_user = None
    return participant
