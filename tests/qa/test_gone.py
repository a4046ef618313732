"""Objects deleted in Heify (marked gone by a pull) are history, not data: no figure, list, queue, export or job
counts them; the "Deleted in Heify" filters and `?gone=true` show them, and their own page and GET answer.

One agent has three live calls and a fourth, newest, with a critical fail and the lowest score, that Heify
then deletes: every reader below would count it if it counted gone calls. An evaluator, a participant and a
configuration are deleted in Heify too, for the lists of those objects.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qa.insights import analytics, team, weekly_summary
from qa.mirror.models import Configuration, Evaluator, Participant, Transcription
from qa.reviews import agreement, queues, sampling
from qa.reviews.models import SamplingRule
from qa.scorecards import whatif
from syncer import pull
from tests import builders

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _call(account, day: int, score: float, *, group=None, critical=False, name=None):
    payload = builders.transcription_payload(
        configuration=account["configuration"], evaluator=account["evaluator"], participant=account["agent"],
        name=name or f"call-{day}.mp3", group=group, created_at=f"2026-03-0{day}T10:00:00+00:00",
    )
    payload["details"]["evaluation"].update(score=score, critical_fail_triggered=critical)
    return payload


@pytest.fixture
def account(heify):
    account = {
        "configuration": builders.configuration_payload(tag="Support line"),
        "old_configuration": builders.configuration_payload(tag="Old line"),
        "evaluator": builders.evaluator_payload(tag="Scorecard"),
        "retired": builders.evaluator_payload(tag="Retired scorecard"),
        "agent": builders.participant_payload(tag="Alice Agent"),
        "leaver": builders.participant_payload(tag="Lee Leaver"),
    }
    account["live"] = [_call(account, 2, 90), _call(account, 3, 70, group="PENDING_REVIEW"), _call(account, 4, 60)]
    account["doomed"] = _call(account, 5, 10, critical=True, name="deleted-in-heify.mp3")
    heify.state.load(builders.snapshot(
        configurations=[account["configuration"], account["old_configuration"]],
        evaluators=[account["evaluator"], account["retired"]], participants=[account["agent"], account["leaver"]],
        transcriptions=[*account["live"], account["doomed"]],
    ))
    pull.pull()
    return account


def delete_in_heify(heify, account):
    """Heify deletes the newest call and the extra objects; the next whole pull marks them gone (between whole
    pulls, evaluators and participants are listed for their changes only, which cannot show a deletion)."""
    for resource, key, id_field in (
        ("transcriptions", "doomed", "transcription_id"), ("evaluators", "retired", "evaluator_id"),
        ("participants", "leaver", "participant_id"), ("configurations", "old_configuration", "configuration_id"),
    ):
        heify.state.delete(resource, account[key][id_field])
    results = pull.pull(full=True)
    assert [results[r].gone for r in ("configurations", "evaluators", "participants", "transcriptions")] == [1] * 4


@pytest.fixture
def gone(heify, account):
    delete_in_heify(heify, account)
    return account


def agent(account) -> Participant:
    return Participant.objects.get(heify_id=account["agent"]["participant_id"])


def doomed(account) -> Transcription:
    return Transcription.all_objects.get(heify_id=account["doomed"]["transcription_id"])


LIVE_NAMES = {"call-2.mp3", "call-3.mp3", "call-4.mp3"}


# --- figures ----------------------------------------------------------------------------------------------------


def test_the_participant_report_leaves_a_gone_call_out(gone):
    report = analytics.participant_report(agent(gone))
    assert report["metadata"]["total_records_analyzed"] == 3
    assert {row["id"] for row in report["raw_data"]} == {c["transcription_id"] for c in gone["live"]}
    assert report["kpis"]["total_critical_fails"] == 0
    assert report["kpis"]["avg_score"] == 73.3


def test_the_dashboard_follows_a_call_marked_gone_at_once(heify, account):
    before, *_ = analytics.participant_dashboard(agent(account), calls_shown=25)  # kept in the cache (PostgreSQL)
    assert before["metadata"]["total_records_analyzed"] == 4
    delete_in_heify(heify, account)
    after, *_ = analytics.participant_dashboard(agent(account), calls_shown=25)
    assert after["metadata"]["total_records_analyzed"] == 3
    assert account["doomed"]["transcription_id"] not in {row["id"] for row in after["raw_data"]}


def test_the_team_overview_leaves_a_gone_call_out_from_the_rollups_and_from_the_calls(gone, settings):
    settings.ANALYTICS_TREND_SAMPLE = 2
    rows = {row["tag"]: row for row in team.team_overview()}
    assert set(rows) == {"Alice Agent"}  # the participant deleted in Heify is not listed
    alice = rows["Alice Agent"]
    assert (alice["calls"], alice["critical_fails"], alice["avg_score"]) == (3, 0, 73.3)
    assert (alice["trend"]["recent_avg"], alice["trend"]["previous_avg"]) == (60, 70)  # the newest live calls
    settings.ANALYTICS_PASS_MARK = 65  # the roll-ups were counted at 50: the overview counts the calls itself
    alice = team.team_overview()[0]
    assert (alice["calls"], alice["critical_fails"], alice["pass_rate"]) == (3, 0, 66.7)


def test_queue_counts_leave_a_gone_call_out(gone):
    assert queues.queue_counts()[None] == 2 and queues.queue_counts()["PENDING_REVIEW"] == 1
    assert doomed(gone) not in queues.review_queue(None)


def test_the_newest_calls_alerts_read_leave_a_gone_call_out(gone):
    participant_id = gone["agent"]["participant_id"]
    assert analytics.newest_calls(participant_id, 1) == [(60, False)]
    assert analytics.pass_rate_of_newest(participant_id, 1) == 100


def test_the_weekly_summary_leaves_a_gone_call_out(gone):
    summary = weekly_summary.week_summary(week_start=date(2026, 3, 2))
    assert summary["team"]["current_period"]["calls"] == 3
    assert summary["open_critical_count"] == 0


def test_what_if_agreement_and_sampling_leave_a_gone_call_out(heify, account, admin_user):
    queues.transcription_verdicts_record(transcription_id=doomed(account).pk, acting_user=admin_user,
                                         verdicts=[queues.Verdict("Greeting", False, "It greeted.")])
    delete_in_heify(heify, account)
    evaluator = Evaluator.objects.get(heify_id=account["evaluator"]["evaluator_id"])
    criteria = [{"name": c.name, "type": c.type, "weight": c.weight} for c in evaluator.criteria.all()]
    assert whatif.evaluator_what_if(evaluator=evaluator, criteria=criteria)["calls"] == 3
    assert agreement.evaluator_agreement(evaluator=evaluator)["criteria"] == []
    rule = SamplingRule.objects.create(name="lowest", method="lowest_score", per_participant=1, period="week",
                                       owner=admin_user)
    run = sampling.rule_choice(rule, now=datetime(2026, 3, 10, tzinfo=UTC))
    assert [c.heify_id for c in run.chosen] == [account["live"][2]["transcription_id"]]  # 60, not the gone 10


# --- admin lists, pages and exports -------------------------------------------------------------------------------


CHANGELISTS = {
    "transcription": ("name", LIVE_NAMES, {"deleted-in-heify.mp3"}),
    "participant": ("tag", {"Alice Agent"}, {"Lee Leaver"}),
    "evaluator": ("tag", {"Scorecard"}, {"Retired scorecard"}),
    "configuration": ("tag", {"Support line"}, {"Old line"}),
}


@pytest.mark.parametrize("model", CHANGELISTS)
def test_admin_lists_show_gone_objects_only_under_deleted_in_heify(admin_client, gone, model):
    field, live, deleted = CHANGELISTS[model]
    url = reverse(f"admin:qa_{model}_changelist")
    listed = admin_client.get(url)
    assert {getattr(o, field) for o in listed.context["cl"].result_list} == live
    assert "Deleted in Heify" in listed.content.decode()
    asked = admin_client.get(url, {"gone": "yes"})
    assert {getattr(o, field) for o in asked.context["cl"].result_list} == deleted


@pytest.mark.parametrize("model", [Transcription, Participant, Evaluator, Configuration])
def test_a_gone_objects_own_admin_page_still_answers_read_only(admin_client, gone, model):
    obj = model.all_objects.filter(gone_at__isnull=False).get()
    page = admin_client.get(reverse(f"admin:qa_{model._meta.model_name}_change", args=[obj.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    if model is Transcription:
        assert "Deleted in Heify" in page.content.decode() and 'data-testid="review-link"' not in page.content.decode()


def csv_names(response) -> set[str]:
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return {row[rows[0].index("Call")] for row in rows[1:]} if "Call" in rows[0] else {str(rows)}


def test_exports_leave_a_gone_call_out(admin_client, gone):
    assert csv_names(admin_client.get(reverse("admin:qa_transcription_export", args=["csv"]))) == LIVE_NAMES
    assert csv_names(admin_client.get(reverse("admin:qa_reviewitem_export", args=["csv"]) + "?queue=none")) \
        == {"call-2.mp3", "call-4.mp3"}
    report = admin_client.get(reverse("admin:qa_participant_report_export", args=[agent(gone).pk, "csv"]))
    assert gone["doomed"]["transcription_id"] not in b"".join(report.streaming_content).decode()
    api = APIClient()
    api.force_authenticate(admin_client.get("/admin/").wsgi_request.user)
    assert csv_names(api.get(f"{API}/transcriptions/", {"format": "csv"})) == LIVE_NAMES
    assert csv_names(api.get(f"{API}/transcriptions/", {"format": "csv", "gone": "true"})) \
        == {"deleted-in-heify.mp3"}


# --- the API --------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


API_LISTS = {
    "transcriptions": ("name", LIVE_NAMES, {"deleted-in-heify.mp3"}),
    "participants": ("tag", {"Alice Agent"}, {"Lee Leaver"}),
    "evaluators": ("tag", {"Scorecard"}, {"Retired scorecard"}),
    "configurations": ("tag", {"Support line"}, {"Old line"}),
}


@pytest.mark.parametrize("resource", API_LISTS)
def test_api_lists_show_gone_objects_only_when_asked(api, gone, resource):
    field, live, deleted = API_LISTS[resource]
    for query, expected in (({}, live), ({"gone": "false"}, live), ({"gone": "true"}, deleted)):
        response = api.get(f"{API}/{resource}/", query)
        assert response.status_code == 200, response.content
        assert {o[field] for o in response.json()["data"]} == expected, query
    bad = api.get(f"{API}/{resource}/", {"gone": "maybe"})
    assert bad.status_code == 400 and "gone" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("resource", API_LISTS)
def test_api_get_by_id_answers_a_gone_object_with_gone_at(api, gone, resource):
    key = {"transcriptions": "doomed", "participants": "leaver", "evaluators": "retired",
           "configurations": "old_configuration"}[resource]
    heify_id = gone[key][f"{resource[:-1]}_id"]
    response = api.get(f"{API}/{resource}/{heify_id}/")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["sync"]["gone_at"] is not None


def test_api_filters_a_gone_calls_agent_by_id(api, gone):
    # The id of an agent deleted in Heify is known (its calls are history), not "no such participant".
    response = api.get(f"{API}/transcriptions/", {"participant": gone["leaver"]["participant_id"], "gone": "true"})
    assert response.status_code == 200 and response.json()["data"] == []


def test_api_changes_and_steps_find_only_what_heify_still_has(api, gone):
    call = gone["doomed"]["transcription_id"]
    assert api.post(f"{API}/transcriptions/{call}/claim/").status_code == 404
    assert api.patch(f"{API}/participants/{gone['leaver']['participant_id']}/", {"tag": "Back"},
                     format="json").status_code == 404


def test_the_schema_documents_gone(api):
    schema = api.get(f"{API}/schema/", {"format": "json"}).json()
    for resource in API_LISTS:
        params = {p["name"]: p for p in schema["paths"][f"{API}/{resource}/"]["get"]["parameters"]}
        assert "gone" in params and "deleted in Heify" in params["gone"]["description"]


def test_a_gone_call_takes_no_review_step_and_a_bulk_move_says_so(admin_client, gone, admin_user):
    call = doomed(gone)
    assert queues.allowed_steps(admin_user, call) == frozenset()
    response = admin_client.post(reverse("admin:qa_transcription_changelist") + "?gone=yes", {
        "action": "move_to_pending", "_selected_action": [call.pk]}, follow=True)
    assert response.status_code == 200
    assert "deleted in Heify" in " ".join(str(m) for m in response.context["messages"])
    call.refresh_from_db()
    assert call.group is None
