"""Security regression: a calibration note is bounded like every review note, and a NUL in one is refused with a
clear message, nothing stored, never a 5xx (PostgreSQL cannot store a NUL)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from qa.mirror import rules
from qa.mirror.models import Transcription
from qa.reviews import calibration
from qa.reviews.models import CalibrationAnswer
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(load):
    evaluator = builders.evaluator_payload()
    load(evaluators=[evaluator], transcriptions=[builders.transcription_payload(evaluator=evaluator)])
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    created = calibration.calibration_session_create(name="Notes", calls=Transcription.objects.all(),
                                                     reviewers=[ann, bob], acting_user=person("max", "QA manager"))
    return created, ann


def form(call, note):
    data = {f"answer-{call.pk}-{name}": "pass" for name in calibration.call_criteria(call)}
    data[f"note-{call.pk}-Greeting"] = note
    return data


@pytest.mark.parametrize(("note", "words"), [
    ("x" * 1_000_000, f"at most {rules.REVIEW_TEXT_MAX_LENGTH}"),
    ("before\x00after", "null character"),
])
def test_a_bad_note_is_refused_in_the_admin_and_nothing_is_stored(client, session, note, words):
    created, ann = session
    call = created.calls.get()
    client.force_login(ann)
    url = reverse("admin:qa_calibrationsession_score", args=[created.pk])
    response = client.post(url, form(call, note), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert words in page and "Greeting" in page
    assert not CalibrationAnswer.objects.exists()
    with pytest.raises(ValidationError, match=words):
        calibration.calibration_answers_save(session=created, rater=ann, answers={(call.pk, "Greeting"): True},
                                             notes={(call.pk, "Greeting"): note})
    # A note within the bound is kept; the sheet's field says the same bound.
    assert client.post(url, form(call, "fine"), follow=True).status_code == 200
    assert CalibrationAnswer.objects.get(criterion_name="Greeting").note == "fine"
    assert f'maxlength="{rules.REVIEW_TEXT_MAX_LENGTH}"' in client.get(url).content.decode()
