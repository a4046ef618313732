"""The weekly summary e-mail: its figures, an empty week and a full one, sent once to each QA manager."""

from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from qa.insights import weekly_summary
from tests import builders
from tests.builders import person
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 11, 23)


def call(participant, day: date, score, *, evaluator=None, **overrides):
    payload = builders.transcription_payload(
        participant=participant, evaluator=evaluator,
        created_at=datetime(day.year, day.month, day.day, 10).isoformat() + "+00:00", **overrides)
    payload["details"]["evaluation"]["score"] = score
    return payload


@pytest.fixture
def full_week(load):
    ann, bob, cid = (builders.participant_payload(tag=tag) for tag in ("Ann", "Bob", "Cid"))
    before, during = MONDAY - timedelta(days=5), MONDAY + timedelta(days=2)
    critical = call(cid, during, 40, group="PENDING_REVIEW", name="angry.mp3")
    critical["details"]["evaluation"]["critical_fail_triggered"] = True
    load(participants=[ann, bob, cid], transcriptions=[
        call(ann, before, 80), call(ann, before, 80), call(ann, during, 60), call(ann, during, 60),
        call(bob, before, 50), call(bob, during, 70), call(bob, MONDAY + timedelta(days=6), 70),
        critical,
        call(ann, MONDAY + timedelta(days=7), 5),  # the next week: not counted
    ])


def test_an_empty_week_renders(db):
    summary = weekly_summary.week_summary(week_start=MONDAY)
    assert summary["team"]["current_period"] == {"calls": 0, "avg_score": 0, "pass_rate": 0}
    assert summary["team"]["delta"] == {} and summary["movers"] == [] and summary["open_critical_count"] == 0
    subject, text, html = weekly_summary.render(summary)
    assert subject == "[Heify QA] Week of 2026-11-23: 0 calls, pass rate 0%"
    assert "Calls:      0 (week before: 0)" in text and "No agent had scored calls in both weeks." in text
    assert "No failed criteria this week." in html and "Open critical reviews: 0" in html


def test_a_full_week_against_the_week_before(full_week):
    summary = weekly_summary.week_summary(week_start=MONDAY)
    # This week 60, 60, 70, 70 and a critical 40: avg 60, 4 of 5 pass; the week before 80, 80, 50: avg 70, all pass.
    assert summary["team"] == {
        "current_period": {"calls": 5, "avg_score": 60, "pass_rate": 80},
        "previous_period": {"calls": 3, "avg_score": 70, "pass_rate": 100},
        "delta": {"calls": 2, "avg_score": -10, "pass_rate": -20},
    }
    assert [(m["tag"], m["previous_avg_score"], m["avg_score"], m["change"]) for m in summary["movers"]] == [
        ("Ann", 80, 60, -20), ("Bob", 50, 70, 20)]
    assert summary["criteria"] == [{"name": "Greeting", "fail_count": 5, "fail_rate": 100}]
    assert summary["open_critical_count"] == 1 and summary["open_critical"][0]["name"] == "angry.mp3"
    subject, text, html = weekly_summary.render(summary)
    assert subject == "[Heify QA] Week of 2026-11-23: 5 calls, pass rate 80%"
    assert "Ann: 80 -> 60 (-20, 2 calls)" in text and "Greeting: 5 fails (100% of calls)" in text
    assert "/admin/qa/reviewitem/" in html and ">angry.mp3</a>" in html and "-20" in html


def test_each_qa_manager_gets_it_once_on_monday(full_week):
    person("max", "QA manager", email="max@example.com")
    person("mia", "QA manager", email="mia@example.com")
    person("mute", "QA manager")  # no address
    person("rex", "Reviewer", email="rex@example.com")
    assert weekly_summary.weekly_summaries_send(today=MONDAY + timedelta(days=7)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["max@example.com", "mia@example.com"]
    message = mail.outbox[0]
    assert message.subject.startswith("[Heify QA] Week of 2026-11-23: 5 calls")
    [(html, mime)] = message.alternatives
    assert mime == "text/html" and "<table" in html and f"Hello {message.to[0].split('@')[0]}," in html
    assert "THE TEAM" in message.body
    # The job runs again (a retry, a second worker): nobody gets it twice.
    assert weekly_summary.weekly_summaries_send(today=MONDAY + timedelta(days=8)) == 0
    assert len(mail.outbox) == 2


def test_a_week_starts_on_a_monday(db):
    with pytest.raises(ValueError, match="Monday"):
        weekly_summary.week_summary(week_start=MONDAY + timedelta(days=1))
    assert weekly_summary.last_full_week(date(2026, 12, 2)) == MONDAY


def test_the_summary_gives_both_scores_and_the_calls_reviewed(load):
    card, ann = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Ann")
    before, during = MONDAY - timedelta(days=5), MONDAY + timedelta(days=2)
    calls = [call(ann, day, 80, evaluator=card, group="PENDING_REVIEW") for day in (before, before, during, during)]
    load(evaluators=[card], participants=[ann], transcriptions=calls)  # 80 each: Greeting failed
    review(calls[2]["transcription_id"], {"No offensive language": False})  # this week: a critical fail of record
    review(calls[3]["transcription_id"], {"Greeting": True})  # this week: 100

    on_ai = weekly_summary.week_summary(week_start=MONDAY)
    assert on_ai["score"] == "ai" and on_ai["team"]["current_period"] == {"calls": 2, "avg_score": 80, "pass_rate": 100}
    assert on_ai["other_score"]["current_period"] == {"calls": 2, "avg_score": 90, "pass_rate": 50}
    assert on_ai["reviewed_calls"] == {"current": 2, "previous": 0}
    assert on_ai["open_critical_count"] == 0 and on_ai["criteria"][0]["fail_count"] == 2
    subject, text, html = weekly_summary.render(on_ai)
    assert "THE TEAM (on the AI score)" in text and "Reviewed:   2 calls (week before: 0)" in text
    assert "On the reviewed score: avg 90 (week before: 80), pass rate 50% (week before: 100%)" in text
    assert "Calls reviewed" in html and "Pass rate, reviewed score" in html

    on_record = weekly_summary.week_summary(week_start=MONDAY, score="reviewed")
    assert on_record["team"]["current_period"] == {"calls": 2, "avg_score": 90, "pass_rate": 50}
    assert on_record["other_score"]["current_period"] == on_ai["team"]["current_period"]
    assert on_record["open_critical_count"] == 1  # the reviewer's critical fail, in its queue
    assert [(c["name"], c["fail_count"]) for c in on_record["criteria"]] == [
        ("Greeting", 1), ("No offensive language", 1)]
    assert [(m["tag"], m["previous_avg_score"], m["avg_score"]) for m in on_record["movers"]] == [("Ann", 80, 90)]
