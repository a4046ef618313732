"""The report tests' fixtures: one participant (`agent`) and one evaluator (`scorecard`), loaded through the
one upsert path; and `review`, a reviewer's verdicts on a call through the verdict service (its score of record
computed as the review page would)."""

import pytest
from django.contrib.auth import get_user_model

from qa.mirror.models import Transcription
from qa.reviews import queues
from tests import builders


@pytest.fixture
def agent(load) -> dict:
    payload = builders.participant_payload()
    load(participants=[payload])
    return payload


@pytest.fixture
def scorecard(load) -> dict:
    payload = builders.evaluator_payload(tag="Support")
    load(evaluators=[payload])
    return payload


def review(heify_id: str, results: dict[str, bool]) -> Transcription:
    """A QA manager's verdicts on the call (a manager records them without claiming it): criterion name ->
    passed. Returns the call with its score of record."""
    manager = get_user_model().objects.filter(username="qa-lead").first() or builders.person("qa-lead", "QA manager")
    call = Transcription.objects.get(heify_id=heify_id)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=manager, verdicts=[
        queues.Verdict(name, passed=passed, reason="heard it") for name, passed in results.items()])
    call.refresh_from_db()
    return call
