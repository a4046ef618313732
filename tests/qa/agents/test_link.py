"""An agent's account linked to their participant: one user to one participant, Agent role only, audited, and
nothing sent to Heify."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError

from qa import policy
from qa.agents import services
from qa.audit import AuditEvent
from qa.mirror.models import Participant
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(load):
    load(participants=[builders.participant_payload(tag="Ana"), builders.participant_payload(tag="Ben")])
    return {p.tag: p for p in Participant.objects.all()}


def test_the_agent_role_exists_with_its_one_permission():
    agent = Group.objects.get(name="Agent")
    assert list(agent.permissions.values_list("codename", flat=True)) == ["view_own_evaluations"]


def test_a_manager_links_and_unlinks_an_agent_without_touching_heify(people):
    max_, ana = person("max", "QA manager"), person("ana", "Agent")
    before = Participant.objects.get(tag="Ana")
    services.agent_link(participant_id=people["Ana"].pk, username="ana", acting_user=max_)
    after = Participant.objects.get(tag="Ana")
    assert after.agent_user == ana and (after.version, after.sync_state) == (before.version, before.sync_state)
    assert policy.is_agent(ana) and policy.agent_participant(ana) == after
    assert not policy.is_agent(max_) and policy.agent_participant(max_) is None
    row = AuditEvent.objects.get(action="agent_link")
    assert (row.actor, row.after) == (max_, {"agent_user": "ana"})
    services.agent_unlink(participant_id=people["Ana"].pk, acting_user=max_)
    ana = User.objects.get(pk=ana.pk)  # as the next request reads them
    assert Participant.objects.get(tag="Ana").agent_user is None and policy.agent_participant(ana) is None


def link(participant, username):
    services.agent_link(participant_id=participant.pk, username=username, acting_user=person("max2", "QA manager"))


@pytest.mark.parametrize("setup, username, words", [
    (lambda p: None, "nobody", "No user is called 'nobody'"),
    (lambda p: person("rita", "Reviewer"), "rita", "must hold the Agent role and no other (they hold: Reviewer)"),
    (lambda p: link(p["Ana"], "ana"), "ana", None),  # the same link again: nothing to do
    (lambda p: link(p["Ben"], "ana"), "ana", "ana is already linked to Ben"),
    (lambda p: link(p["Ana"], "bo"), "ana", "Ana is already linked to bo: unlink them first"),
])
def test_bad_links_are_refused_by_name(people, setup, username, words):
    person("ana", "Agent"), person("bo", "Agent")
    setup(people)
    max_ = person("max", "QA manager")
    if words is None:
        services.agent_link(participant_id=people["Ana"].pk, username=username, acting_user=max_)
        return
    with pytest.raises(ValidationError) as refused:
        services.agent_link(participant_id=people["Ana"].pk, username=username, acting_user=max_)
    assert words in refused.value.messages[0]


def test_only_managers_link(people):
    person("ana", "Agent")
    with pytest.raises(PermissionDenied):
        services.agent_link(participant_id=people["Ana"].pk, username="ana", acting_user=person("rita", "Reviewer"))
