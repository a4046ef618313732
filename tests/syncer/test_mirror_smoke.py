import pytest

from qa.models import Criterion, Evaluator, Transcription
from tests import builders


@pytest.mark.django_db
def test_load_twice_changes_nothing(load):
    conf, ev, part = builders.configuration_payload(), builders.evaluator_payload(), builders.participant_payload()
    tx = builders.transcription_payload(configuration=conf, evaluator=ev, participant=part)
    first = load(configurations=[conf], evaluators=[ev], participants=[part], transcriptions=[tx])
    assert first["transcriptions"].created == 1
    second = load(configurations=[conf], evaluators=[ev], participants=[part], transcriptions=[tx])
    assert all(r.unchanged == 1 and r.created == r.updated == 0 for r in second.values())
    t = Transcription.objects.select_related("evaluator", "participant").get()
    assert t.evaluator.tag == ev["tag"] and t.participant.tag == part["tag"]
    assert Criterion.objects.count() == 3
    assert Evaluator.objects.get().criteria.get(name="Greeting").type == "boolean"
