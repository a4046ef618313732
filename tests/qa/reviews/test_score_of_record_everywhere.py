"""Issue 22's "done when": a call reviewed shows its recomputed score in the API, the admin, the reports and the
exports, on whichever database the suite runs on (CI runs it on SQLite and on PostgreSQL)."""

import csv
import io

import pytest
from django.urls import reverse

from qa.mirror.models import Transcription
from tests import builders
from tests.builders import person
from tests.qa.reviews.test_queues import api_for
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR, listed, review_url, scores

pytestmark = pytest.mark.django_db


def test_a_reviewed_call_shows_its_score_of_record_everywhere(load, client):
    evaluator, agent = builders.evaluator_payload(**SCALE_EVALUATOR), builders.participant_payload(tag="Sam")
    payload = builders.transcription_payload(evaluator=evaluator, participant=agent, group="PENDING_REVIEW",
                                             name="scale.mp3")
    # Heify scored it 90: every criterion passed, so Empathy (scale, weight 50) was a 4.
    payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
        {"name": name, "passed": True} for name in ("Greeting", "Empathy", "Resolved", "No insults")]}
    load(evaluators=[evaluator], participants=[agent], transcriptions=[payload])
    call = Transcription.objects.get()
    ann = person("ann", "Reviewer")
    api = api_for(ann)
    url = f"/api/v1/transcriptions/{call.heify_id}/"
    assert api.post(f"{url}claim/").status_code in (200, 202)
    answer = api.put(f"{url}verdicts/", {"verdicts": [{"criterion": "Empathy", "value": 2, "reason": "curt"}]},
                     format="json")
    assert answer.status_code == 200, answer.json()
    assert api.post(f"{url}archive/", {"agree_rest": True}, format="json").status_code in (200, 202)

    # The API: 20 + 2/5 x 50 + 30 = 70, by Heify's rule; the AI's 90 stays.
    data = api.get(url).json()["data"]
    assert (data["details"]["evaluation"]["score"], data["review"]["score"]) == (90.0, 70.0)

    # The admin: the review page and the call list.
    client.force_login(ann)
    assert scores(client.get(review_url(call)).content.decode()) == ("90", "70")
    assert listed(client, reverse("admin:qa_transcription_changelist"), "scale.mp3")["reviewed_display"] == "70"

    # The report: the score of record on request, Heify's own by default.
    manager = api_for(person("max", "QA manager"))
    report = f"/api/v1/participants/{call.participant_id}/analytics/"
    answer = manager.get(report)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["data"]["kpis"]["avg_score"] == 90
    reviewed = manager.get(f"{report}?score=reviewed").json()["data"]
    assert reviewed["kpis"]["avg_score"] == 70 and reviewed["raw_data"][0]["score"] == 70

    # The exports: both scores, side by side.
    exported = b"".join(manager.get("/api/v1/transcriptions/?format=csv").streaming_content).decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(exported))
    assert (float(row["AI score"]), float(row["Reviewed score"]), row["Reviewed by"]) == (90, 70, "ann")
