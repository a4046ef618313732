"""Coaching on the participant's dashboard: each session's day marked on the trend, and its focus criteria's pass
rate before and after it, on the score of record (the reviewer's result where given, else the AI's), in one query
whatever the number of sessions."""

import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa.insights import coaching_effect
from qa.mirror.models import Participant, Transcription
from qa.reviews import coaching
from tests import builders
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 31)
HELD = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def call(scorecard, agent, day: str, greeting: bool | None, resolved: bool = True) -> dict:
    results = [{"name": "No offensive language", "passed": True}, {"name": "Issue resolved", "passed": resolved}]
    if greeting is not None:
        results.insert(0, {"name": "Greeting", "passed": greeting})
    payload = builders.transcription_payload(evaluator=scorecard, participant=agent, name=f"{day}.mp3",
                                             created_at=f"{day}T09:00:00+00:00")
    payload["details"]["evaluation"]["criteria_results"] = results
    return payload


@pytest.fixture
def calls(load, agent, scorecard):
    other = builders.participant_payload(tag="Someone else")
    load(participants=[other], transcriptions=[
        call(scorecard, agent, "2026-01-20", False),  # more than 30 days before: not compared
        call(scorecard, agent, "2026-03-01", False, resolved=False),
        call(scorecard, agent, "2026-03-05", False),
        call(scorecard, agent, "2026-03-08", True),
        call(scorecard, agent, "2026-03-09", None),  # no Greeting result: counts in neither
        call(scorecard, agent, "2026-03-12", True),
        call(scorecard, agent, "2026-03-15", False),
        call(scorecard, other, "2026-03-14", False),  # another agent's
    ])
    return {c.name: c for c in Transcription.objects.filter(participant_id=agent["participant_id"])}


@pytest.fixture
def manager():
    return get_user_model().objects.filter(username="qa-lead").first() or builders.person("qa-lead", "QA manager")


def open_session(participant, manager, focus=("Greeting",), held=HELD):
    return coaching.coaching_create(participant_id=participant.pk, focus_criteria=list(focus), held_at=held,
                                    acting_user=manager)


def test_the_focus_criteria_before_and_after_on_the_ai_results_then_on_the_score_of_record(calls, agent, manager):
    ana = Participant.objects.get(heify_id=agent["participant_id"])
    session = open_session(ana, manager, focus=("Greeting", "Issue resolved"))
    [effect] = coaching_effect.coaching_effect(ana, as_of=AS_OF)
    assert (effect["id"], effect["date"], effect["focus_criteria"]) == (session.id, "2026-03-10",
                                                                        ["Greeting", "Issue resolved"])
    greeting, resolved = effect["focus"]
    assert greeting == {"criterion": "Greeting", "before": {"calls": 3, "passed": 1, "pass_rate": 33.3},
                        "after": {"calls": 2, "passed": 1, "pass_rate": 50}, "change": 16.7}
    assert resolved["before"] == {"calls": 4, "passed": 3, "pass_rate": 75} and resolved["after"]["pass_rate"] == 100
    # A reviewer says the 15th's greeting was said: the score of record counts it, the AI's result stays.
    review(calls["2026-03-15.mp3"].heify_id, {"Greeting": True})
    [effect] = coaching_effect.coaching_effect(ana, as_of=AS_OF)
    assert effect["focus"][0]["after"] == {"calls": 2, "passed": 2, "pass_rate": 100}
    assert effect["focus"][0]["change"] == 66.7


def test_calls_after_the_day_asked_for_and_calls_left_out_count_nowhere(calls, agent, manager):
    ana = Participant.objects.get(heify_id=agent["participant_id"])
    open_session(ana, manager)
    [effect] = coaching_effect.coaching_effect(ana, as_of=date(2026, 3, 13))
    assert effect["focus"][0]["after"] == {"calls": 1, "passed": 1, "pass_rate": 100}
    [effect] = coaching_effect.coaching_effect(ana, as_of=AS_OF, leave_out=[calls["2026-03-08.mp3"].heify_id])
    assert effect["focus"][0]["before"] == {"calls": 2, "passed": 0, "pass_rate": 0}
    assert effect["focus"][0]["change"] == 50


def test_a_session_with_no_calls_around_it_still_shows_with_no_rate(load, agent, scorecard, manager):
    load(transcriptions=[call(scorecard, agent, "2025-11-02", True)])  # what says which criteria Ana has
    ana = Participant.objects.get(heify_id=agent["participant_id"])
    open_session(ana, manager)
    [effect] = coaching_effect.coaching_effect(ana, as_of=AS_OF)
    assert effect["focus"] == [{"criterion": "Greeting", "before": {"calls": 0, "passed": 0, "pass_rate": None},
                                "after": {"calls": 0, "passed": 0, "pass_rate": None}, "change": None}]
    assert coaching_effect.timeline_marks([effect]) == [{"date": "2026-03-10", "label": "Coaching: Greeting"}]


def test_one_query_whatever_the_number_of_sessions(calls, agent, manager, django_assert_num_queries):
    ana = Participant.objects.get(heify_id=agent["participant_id"])
    for day in (1, 10, 20):
        open_session(ana, manager, held=datetime(2026, 3, day, 12, tzinfo=UTC))
    with django_assert_num_queries(1):
        effect = coaching_effect.coaching_effect(ana, as_of=AS_OF)
    assert [session["date"] for session in effect] == ["2026-03-01", "2026-03-10", "2026-03-20"]


def dashboard_queries(admin_client, participant) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(f"/admin/qa/participant/{participant.pk}/change/?as_of={AS_OF.isoformat()}")
    assert page.status_code == 200
    return len(queries), page.content.decode()


def test_the_dashboard_marks_sessions_on_the_trend_at_a_fixed_cost(calls, agent, manager, admin_client):
    ana = Participant.objects.get(heify_id=agent["participant_id"])
    dashboard_queries(admin_client, ana)  # the session, the content types: read once
    without, page = dashboard_queries(admin_client, ana)
    assert "No coaching session yet." in page
    open_session(ana, manager, focus=("Greeting", "Issue resolved"))
    open_session(ana, manager, held=datetime(2026, 3, 20, 12, tzinfo=UTC))
    with_two, page = dashboard_queries(admin_client, ana)
    assert with_two == without
    marks = json.loads(page.split('id="qa-chart-data"')[1].split(">", 1)[1].split("</script>")[0])["coaching"]
    assert marks == [{"date": "2026-03-10", "label": "Coaching: Greeting, Issue resolved"},
                     {"date": "2026-03-20", "label": "Coaching: Greeting"}]
    section = page.split('data-testid="coaching-effect"')[1].split("</section>")[0]
    assert "2 sessions" in section and "33.3% <span" in section and "+16.7 pts" in section
