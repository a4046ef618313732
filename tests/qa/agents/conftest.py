"""Two participants, Ana (an agent's account linked) and Ben, with calls scored by the scale evaluator: Ana's
newest reviewed by a manager (Resolved failed, with a reason), her older one not; Ben's reviewed too."""

import pytest

from qa.agents import services
from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from tests import builders
from tests.builders import person
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR


def call_payload(evaluator, participant, name, day):
    payload = builders.transcription_payload(evaluator=evaluator, participant=participant, group="PENDING_REVIEW",
                                             name=name)
    payload["created_at"] = f"2026-03-{day:02d}T10:00:00+00:00"
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
        {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True},
    ]}
    return payload


def review(call, manager, **verdicts):
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=manager, verdicts=[
        queues.Verdict(name, passed=passed, reason=reason) for name, (passed, reason) in verdicts.items()])


@pytest.fixture
def agents(load):
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    ana, ben = builders.participant_payload(tag="Ana"), builders.participant_payload(tag="Ben")
    load(evaluators=[evaluator], participants=[ana, ben], transcriptions=[
        call_payload(evaluator, ana, "ana-old.mp3", 2), call_payload(evaluator, ana, "ana-new.mp3", 5),
        call_payload(evaluator, ben, "ben.mp3", 4)])
    manager = person("max", "QA manager")
    users = {"ana": person("ana", "Agent"), "bo": person("bo", "Agent"), "max": manager}
    services.agent_link(participant_id=Participant.objects.get(tag="Ana").pk, username="ana", acting_user=manager)
    calls = {call.name: call for call in Transcription.objects.all()}
    review(calls["ana-new.mp3"], manager, Resolved=(False, "The customer called back the next day."))
    review(calls["ben.mp3"], manager, Greeting=(False, "No greeting at all."))
    for call in calls.values():
        call.refresh_from_db()
    return users, calls
