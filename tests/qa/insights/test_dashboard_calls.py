"""The participant dashboard's list of calls: the AI's score and the reviewed one (the score of record) side by
side, read with the page's other call columns (no query more)."""

import re

import pytest
from django.urls import reverse

from qa.mirror.models import Participant, Transcription
from qa.reviews import queues
from tests import builders
from tests.builders import person
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR

pytestmark = pytest.mark.django_db


def calls_rows(html: str) -> list[str]:
    table = re.search(r'data-testid="dashboard-calls">(.*?)</table>', html, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)


def test_the_dashboards_calls_show_the_reviewed_score_beside_the_ais(client, load):
    evaluator, agent = builders.evaluator_payload(**SCALE_EVALUATOR), builders.participant_payload(tag="Sam")
    calls = []
    for day in (1, 2):
        payload = builders.transcription_payload(evaluator=evaluator, participant=agent, group="PENDING_REVIEW",
                                                 name=f"day-{day}.mp3", created_at=f"2026-03-0{day}T10:00:00+00:00")
        payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
            {"name": name, "passed": True} for name in ("Greeting", "Empathy", "Resolved", "No insults")]}
        calls.append(payload)
    load(evaluators=[evaluator], participants=[agent], transcriptions=calls)
    max_ = person("max", "QA manager")
    reviewed = Transcription.objects.get(name="day-2.mp3")
    queues.transcription_verdicts_record(transcription_id=reviewed.pk, acting_user=max_, verdicts=[
        queues.Verdict("Resolved", passed=False, reason="the customer calls back")])
    client.force_login(max_)
    url = reverse("admin:qa_participant_change", args=[Participant.objects.get().pk]) + "?as_of=2026-03-31"
    html = client.get(url).content.decode()
    assert ">AI score</th>" in html and ">Reviewed</th>" in html
    newest, oldest = calls_rows(html)
    reviewed_cell = r'<td class="qa-num qa-nowrap" data-testid="call-reviewed">{}</td>'
    assert "90" in newest and re.search(reviewed_cell.format("60"), newest)  # 90 less Resolved's 30
    assert re.search(reviewed_cell.format("—"), oldest)  # not reviewed
