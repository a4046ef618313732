"""Security regression: a rater with an open score sheet sees none of the AI's verdicts on its calls, at any door
(the call's pages, the API's call and list, the admin's and the API's exports), until they submit. No door
answers 5xx."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa.mirror.models import Transcription
from qa.reviews import blinding, calibration, queues
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

SCORE = 73.5  # the AI's score, a figure nothing else on the pages shows
SECRET_REASON = "AGENT-NEVER-GREETED"


@pytest.fixture
def world(load):
    evaluator = builders.evaluator_payload()
    agent = builders.participant_payload(tag="Agent Blind")
    call = builders.transcription_payload(evaluator=evaluator, participant=agent, name="blind call",
                                          group="PENDING_REVIEW")
    call["details"]["evaluation"].update(score=SCORE, critical_fail_triggered=True)
    other = builders.transcription_payload(evaluator=evaluator, participant=agent, name="other call",
                                           created_at="2026-03-08T10:00:00+00:00")
    other["details"]["evaluation"]["score"] = 64.5
    outside = builders.transcription_payload(evaluator=evaluator, participant=agent, name="outside call",
                                             created_at="2026-03-09T10:00:00+00:00")
    outside["details"]["evaluation"]["score"] = 55.5
    load(evaluators=[evaluator], participants=[agent], transcriptions=[call, other, outside])
    people = {name: person(name, "Reviewer") for name in ("ann", "bob", "cleo")}
    people["max"] = person("max", "QA manager")
    blind = Transcription.objects.get(name="blind call")
    # Someone else's verdict on the call, which says what the AI said.
    queues.transcription_verdicts_record(transcription_id=blind.pk, acting_user=people["max"],
                                         verdicts=[queues.Verdict("Greeting", False, SECRET_REASON)])
    session = calibration.calibration_session_create(
        name="March", calls=[blind, Transcription.objects.get(name="other call")],
        reviewers=[people["ann"], people["bob"]], acting_user=people["max"])
    return {"session": session, "call": blind, **people}


def submit_all(session, rater):
    answers = {(call.pk, name): True for call in session.calls.all() for name in calibration.call_criteria(call)}
    calibration.calibration_answers_save(session=session, rater=rater, answers=answers, submit=True)


def ok(response):
    assert response.status_code < 500, response.status_code
    assert response.status_code == 200, response.content[:300]
    return response


def page(client, user, call, name):
    client.force_login(user)
    return ok(client.get(reverse(f"admin:qa_{name}_change", args=[call.pk]))).content.decode()


def shows_ai(html: str) -> bool:
    return any(mark in html for mark in ("qa-passed", "qa-failed", "73.5", "qa-critical", SECRET_REASON))


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def download(response) -> list[list[str]]:
    ok(response)
    body = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [["" if v is None else str(v) for v in row] for row in book.active.iter_rows(values_only=True)]


def blind_row(rows, call):
    header, *body = rows
    row = next(dict(zip(header, r, strict=True)) for r in body if r[header.index("Heify ID")] == call.heify_id)
    return {key: row[key] for key in ("AI score", "AI critical fail", "Greeting (AI)", "Greeting (reviewer)",
                                      "Greeting (reason)", "Reviewed score", "Reviewed by") if key in row}


@pytest.mark.parametrize("name", ["transcription", "reviewitem"])
def test_the_calls_pages_hide_the_ai_from_a_rater_until_they_submit(client, world, name):
    html = page(client, world["ann"], world["call"], name)
    assert not shows_ai(html) and "Greeting" in html and "Good morning" in html  # the call itself is there
    assert "until you submit" in html
    assert "64.5" not in html  # the session's other call, in the agent's recent scores
    outside = page(client, world["ann"], Transcription.objects.get(name="outside call"), name)
    assert "55.5" in outside and "73.5" not in outside and "64.5" not in outside  # nor on a call outside it
    assert shows_ai(page(client, world["cleo"], world["call"], name))  # not a rater: sees it all
    submit_all(world["session"], world["ann"])
    assert shows_ai(page(client, world["ann"], world["call"], name))


def listed_names(response) -> set[str]:
    return {call["name"] for call in ok(response).json()["data"]}


def test_the_api_hides_the_ai_from_a_rater_in_the_call_and_leaves_the_call_out_of_lists(world):
    api = api_for(world["ann"])
    url = f"/api/v1/transcriptions/{world['call'].heify_id}/"
    one = ok(api.get(url)).json()["data"]
    assert "evaluation" not in one["details"] and one["details"]["conversation"]["segments"]
    # A list, filtered or ordered by what the AI said or not, would tell it: the session's calls are left out.
    for query in ("", "?critical_fail=true", "?score_min=73&score_max=74", "?ordering=occurred_at"):
        assert listed_names(api.get("/api/v1/transcriptions/" + query)) <= {"outside call"}
    assert SECRET_REASON not in ok(api.get(url + "notes/")).content.decode()
    assert ok(api_for(world["cleo"]).get(url)).json()["data"]["details"]["evaluation"]["score"] == SCORE
    assert "blind call" in listed_names(api_for(world["cleo"]).get("/api/v1/transcriptions/?critical_fail=true"))
    submit_all(world["session"], world["ann"])
    assert ok(api.get(url)).json()["data"]["details"]["evaluation"]["score"] == SCORE
    assert "blind call" in listed_names(api.get("/api/v1/transcriptions/?critical_fail=true"))


@pytest.mark.parametrize(("name", "query"), [
    ("transcription", ""), ("transcription", "?critical_fail_triggered__exact=1"), ("transcription", "?q=blind"),
    ("reviewitem", "?queue=PENDING_REVIEW"), ("reviewitem", "?queue=PENDING_REVIEW&score=61-80"),
])
def test_the_admins_call_lists_leave_the_session_out_for_a_rater(client, world, name, query):
    url = reverse(f"admin:qa_{name}_changelist") + query
    client.force_login(world["ann"])
    assert "blind call" not in ok(client.get(url)).content.decode()
    client.force_login(world["cleo"])
    assert "blind call" in ok(client.get(url)).content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_exports_leave_the_session_out_for_a_rater(client, world, fmt):
    admin_url = reverse("admin:qa_transcription_export", args=[fmt])
    api_url = f"/api/v1/transcriptions/?format={fmt}"
    client.force_login(world["ann"])
    for rows in (download(client.get(admin_url)), download(api_for(world["ann"]).get(api_url))):
        assert {row[0] for row in rows[1:]} == {"outside call"}
    client.force_login(world["cleo"])
    shown = blind_row(download(client.get(admin_url + f"?evaluator__heify_id__exact={world['call'].evaluator_id}")),
                      world["call"])
    assert shown["AI score"] == "73.5" and shown["Greeting (AI)"] == "Failed"
    assert (shown["Greeting (reviewer)"], shown["Greeting (reason)"], shown["Reviewed by"]) == (
        "Passed", SECRET_REASON, "max")
    submit_all(world["session"], world["ann"])
    assert blind_row(download(api_for(world["ann"]).get(api_url)), world["call"])["AI score"] == "73.5"


def test_an_export_handed_a_blind_call_leaves_its_ai_verdicts_out(world):
    from qa.reviews import exports

    call = Transcription.objects.get(pk=world["call"].pk)
    table = exports.calls_table(Transcription.objects.filter(pk=call.pk), review_url=str, blind_call_ids={call.pk},
                                evaluator_id=call.evaluator_id)
    row = dict(zip(table.headers, next(iter(table.rows)), strict=True))
    assert (row["AI score"], row["AI critical fail"], row["Greeting (AI)"]) == (None, None, "")
    # Nor the reviewer's verdict on the AI's, nor the score of record it gives.
    assert call.reviewed_at is not None
    assert (row["Greeting (reviewer)"], row["Greeting (reason)"], row["Reviewed score"], row["Reviewed critical fail"],
            row["Reviewed by"], row["Reviewed at"]) == ("", "", None, None, None, None)
    assert SECRET_REASON not in [str(value) for value in row.values()]


def test_the_participant_report_export_hides_the_ai_from_a_rater(client, world):
    from qa.mirror.models import Participant

    agent = Participant.objects.get(tag="Agent Blind")
    client.force_login(world["ann"])
    url = reverse("admin:qa_participant_report_export", args=[agent.pk, "csv"]) + "?as_of=2026-03-31"
    header, *rows = download(client.get(url))
    assert {r[header.index("Heify ID")] for r in rows} == {
        Transcription.objects.get(name="outside call").heify_id}  # not the session's


def test_a_closed_session_hides_nothing(client, world):
    calibration.calibration_session_close(session=world["session"], acting_user=world["max"])
    assert not blinding.hides_ai_from(world["ann"], world["call"])
    assert shows_ai(page(client, world["ann"], world["call"], "reviewitem"))


def figures(report) -> dict:
    """What a reader is shown of a participant's report, besides its calls."""
    return {"calls": report["kpis"]["total_calls"], "avg": report["kpis"]["avg_score"],
            "critical": report["kpis"]["total_critical_fails"],
            "days": [d["date"] for d in report["charts"]["timeline"]],
            "greeting_fails": {c["name"]: c["fail_count"] for c in report["criteria_breakdown"]}.get("Greeting"),
            "ids": {c["id"] for c in report["raw_data"]}}


def test_the_participants_dashboard_and_the_apis_report_leave_the_calls_out_of_their_figures(client, world):
    """A day with one call shows that call's score, an average of few calls tells them: a reader's figures leave
    out the calls they score blind (the dashboard's cached answer is never another reader's)."""
    from qa.mirror.models import Participant

    agent = Participant.objects.get(tag="Agent Blind")
    outside = Transcription.objects.get(name="outside call").heify_id
    dashboard = reverse("admin:qa_participant_change", args=[agent.pk]) + "?as_of=2026-03-31"
    api_url = f"/api/v1/participants/{agent.heify_id}/analytics/?as_of=2026-03-31"
    everything = {"calls": 3, "avg": 64.5, "critical": 1, "days": ["2026-03-07", "2026-03-08", "2026-03-09"],
                  "greeting_fails": 3}
    blind = {"calls": 1, "avg": 55.5, "critical": 0, "days": ["2026-03-09"], "greeting_fails": 1, "ids": {outside}}
    for reader, expected in (("cleo", everything), ("ann", blind), ("cleo", everything)):  # the cache in between
        client.force_login(world[reader])
        page = ok(client.get(dashboard))
        shown = figures(page.context["report"])
        assert {k: v for k, v in shown.items() if k in expected} == expected, reader
        html = page.content.decode()
        table = html.split('data-testid="dashboard-calls"')[1].split("</table>")[0]
        assert ("73.5" in table) == (reader == "cleo")
        assert sum(row["fail_count"] for row in page.context["criteria_rows"]) == (3 if reader == "cleo" else 1)
        shown = figures(ok(api_for(world[reader]).get(api_url)).json()["data"])
        assert {k: v for k, v in shown.items() if k in expected} == expected, reader
    client.force_login(world["ann"])
    export = reverse("admin:qa_participant_report_export", args=[agent.pk, "csv"]) + "?as_of=2026-03-31"
    assert world["call"].heify_id not in {row[0] for row in download(client.get(export))[1:]}
    submit_all(world["session"], world["ann"])
    assert figures(ok(client.get(dashboard)).context["report"])["calls"] == 3
    assert figures(ok(api_for(world["ann"]).get(api_url)).json()["data"])["calls"] == 3


def test_heifys_own_report_is_refused_to_a_manager_scoring_its_calls_blind(client, world):
    """Heify's report beside ours holds every call and its verdicts: refused, before Heify is asked."""
    from qa.mirror.models import Participant

    agent = Participant.objects.get(tag="Agent Blind")
    calibration.calibration_session_create(name="Managers too", calls=[world["call"]],
                                           reviewers=[world["max"], world["bob"]], acting_user=world["max"])
    answer = api_for(world["max"]).get(f"/api/v1/participants/{agent.heify_id}/analytics/?remote=true")
    assert answer.status_code == 409 and "calibration" in answer.json()["error"]["message"]
    client.force_login(world["max"])
    page = client.get(reverse("admin:qa_participant_heify_report", args=[agent.pk]))
    assert page.status_code == 403 and "73.5" not in page.content.decode()


def test_the_team_overview_leaves_a_raters_blind_calls_out_of_their_figures(client, world):
    client.force_login(world["cleo"])
    row = next(r for r in ok(client.get(reverse("admin:qa_participant_team"))).context["rows"]
               if r["tag"] == "Agent Blind")
    assert (row["calls"], row["avg_score"], row["critical_fails"]) == (3, 64.5, 1)
    client.force_login(world["ann"])
    row = next(r for r in ok(client.get(reverse("admin:qa_participant_team"))).context["rows"]
               if r["tag"] == "Agent Blind")
    assert (row["calls"], row["avg_score"], row["pass_rate"], row["critical_fails"]) == (1, 55.5, 100, 0)
    header, *rows = download(client.get(reverse("admin:qa_participant_team_export", args=["csv"])))
    assert "73.5" not in str(rows) and "64.5" not in str(rows)
    submit_all(world["session"], world["ann"])
    row = next(r for r in ok(client.get(reverse("admin:qa_participant_team"))).context["rows"]
               if r["tag"] == "Agent Blind")
    assert (row["calls"], row["avg_score"]) == (3, 64.5)


def test_a_rater_may_not_record_verdicts_on_the_ai_until_they_submit(client, world):
    from qa.reviews.models import CriterionVerdict

    api = api_for(world["ann"])
    url = f"/api/v1/transcriptions/{world['call'].heify_id}/"
    claimed = api.post(url + "claim/")  # 202: the move waits for Heify (none here)
    assert claimed.status_code == 202 and "evaluation" not in claimed.json()["data"]["details"]
    body = {"verdicts": [{"criterion": "Issue resolved", "agrees": True, "reason": ""}]}
    refused = api.put(url + "verdicts/", body, format="json")
    assert refused.status_code == 409 and "calibration" in refused.content.decode()
    assert SECRET_REASON not in refused.content.decode()
    client.force_login(world["ann"])
    step = reverse("admin:qa_reviewitem_step", args=[world["call"].pk, "verdict"])
    answer = client.post(step, {"criterion": "Issue resolved", "agrees": "yes"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "calibration" in answer.json()["message"]
    # A QA manager who rates in the session is refused the same way.
    session = calibration.calibration_session_create(
        name="Managers too", calls=[world["call"]], reviewers=[world["max"], world["bob"]], acting_user=world["max"])
    assert api_for(world["max"]).put(url + "verdicts/", body, format="json").status_code == 409
    assert not CriterionVerdict.objects.filter(criterion_name="Issue resolved").exists()  # (max's Greeting: before)
    submit_all(world["session"], world["ann"])
    assert [v["criterion"] for v in ok(api.put(url + "verdicts/", body, format="json")).json()["data"]] == [
        "Greeting", "Issue resolved"]
    submit_all(session, world["max"])
    assert ok(api_for(world["max"]).put(url + "verdicts/", body, format="json"))


def test_a_critical_fail_alert_reaches_no_one_scoring_the_call_blind(client, world, load,
                                                                    django_capture_on_commit_callbacks):
    from django.core import mail

    from qa.alerts import services as alerts
    from qa.alerts.models import AlertRule
    from qa.mirror.models import Participant

    for name in ("ann", "bob", "cleo"):
        User.objects.filter(username=name).update(email=f"{name}@example.com")
    rule = AlertRule.objects.create(name="Critical", kind=AlertRule.Kind.CRITICAL_FAIL)
    rule.users.add(world["ann"], world["cleo"])
    rule.groups.add(Group.objects.get(name="Reviewer"))  # bob by his group
    agent = Participant.objects.get(tag="Agent Blind")
    fresh = builders.transcription_payload(participant={"participant_id": agent.heify_id}, name="fresh critical",
                                           created_at="2026-03-10T10:00:00+00:00")
    fresh["details"]["evaluation"].update(score=12.5, critical_fail_triggered=True)
    load(transcriptions=[fresh])
    call = Transcription.objects.get(name="fresh critical")
    session = calibration.calibration_session_create(
        name="Fresh", calls=[call], reviewers=[world["ann"], world["bob"], world["max"]], acting_user=world["max"])
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.calls_stored(heify_ids=[call.heify_id]) == 1
    assert [m.to for m in mail.outbox] == [["cleo@example.com"]]
    assert alerts.recipients(rule) == ["ann@example.com", "bob@example.com", "cleo@example.com"]  # the rule's own
    # Nor is it listed to a manager scoring the call blind.
    client.force_login(world["max"])
    def listed():
        return [a.subject for a in ok(client.get(reverse("admin:qa_alert_changelist"))).context["cl"].result_list]

    assert listed() == []
    submit_all(session, world["max"])
    assert listed() == ["Critical fail: fresh critical (Agent Blind)"]


def test_a_manager_who_rates_sees_the_results_only_once_submitted(client, world):
    session = calibration.calibration_session_create(
        name="Managers too", calls=[world["call"]], reviewers=[world["max"], world["bob"]], acting_user=world["max"])
    client.force_login(world["max"])
    url = reverse("admin:qa_calibrationsession_results", args=[session.pk])
    assert client.get(url).status_code == 403
    assert not shows_ai(page(client, world["max"], world["call"], "reviewitem"))
    submit_all(session, world["max"])
    assert ok(client.get(url)).status_code == 200
    assert ok(client.get(reverse("admin:qa_calibrationsession_results", args=[world["session"].pk])))


def test_the_expert_is_blind_too_until_they_submit(world):
    session = calibration.calibration_session_create(
        name="With an expert", calls=[world["call"]], reviewers=[world["bob"], world["cleo"]], expert=world["ann"],
        acting_user=world["max"])
    calibration.calibration_session_close(session=world["session"], acting_user=world["max"])  # ann's other one
    assert blinding.hides_ai_from(world["ann"], world["call"])
    submit_all(session, world["ann"])
    assert not blinding.hides_ai_from(world["ann"], world["call"])
