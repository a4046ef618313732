"""The participant dashboard, the team overview and Heify's own report beside ours; on either score."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qa.db import on_postgresql
from qa.insights import analytics, team
from qa.mirror.models import DailyCalls, Participant, Transcription
from qa.reviews import queues
from syncer import pull
from tests import builders
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db


def scored(participant, score, day, *, critical=False, group=None):
    payload = builders.transcription_payload(
        participant=participant, group=group, created_at=f"2026-03-{day:02d}T10:00:00+00:00")
    payload["details"]["evaluation"].update(score=score, critical_fail_triggered=critical)
    return payload


@pytest.fixture
def team_data(load):
    steady, sinking, newbie = (builders.participant_payload(tag=tag) for tag in ("Steady", "Sinking", "Newbie"))
    calls = [scored(steady, 80, 1 + n % 20) for n in range(20)]
    # Sinking: ten calls at 90, then the ten newest at 60: declining by 30.
    calls += [scored(sinking, 90, 1 + n) for n in range(10)] + [scored(sinking, 60, 11 + n) for n in range(10)]
    calls += [scored(newbie, 40, 3, critical=True, group="PENDING_REVIEW")]
    load(participants=[steady, sinking, newbie], transcriptions=calls)


def test_team_overview_figures_and_sorting(team_data, django_assert_max_num_queries):
    # The roll-ups' totals, the reviewed calls' changes to them, the newest scores, the unacknowledged reviews,
    # the participants.
    with django_assert_max_num_queries(5):
        rows = {row["tag"]: row for row in team.team_overview()}
    assert (rows["Steady"]["calls"], rows["Steady"]["avg_score"], rows["Steady"]["pass_rate"]) == (20, 80, 100)
    assert rows["Steady"]["trend"]["direction"] == "stable" and not rows["Steady"]["degradation_alert"]
    assert rows["Sinking"]["trend"]["direction"] == "declining" and rows["Sinking"]["degradation_alert"]
    assert rows["Sinking"]["trend"]["recent_avg"] == 60 and rows["Sinking"]["trend"]["previous_avg"] == 90
    assert (rows["Newbie"]["critical_fails"], rows["Newbie"]["pending_critical_reviews"]) == (1, 1)
    assert rows["Newbie"]["trend"]["direction"] == "insufficient_data"
    by_score = [row["tag"] for row in team.team_overview(sort="avg_score", descending=True)]
    assert by_score == ["Steady", "Sinking", "Newbie"]
    assert [row["tag"] for row in team.team_overview(sort="trend")][0] == "Sinking"


@pytest.mark.parametrize("as_of", ["2026-03-05", "2026-03-12", "2026-03-15", "2026-03-31"])
def test_team_trends_are_each_reports_trend(load, team_data, as_of, settings):
    settings.ANALYTICS_TREND_SAMPLE = 4
    sinking = Participant.objects.get(tag="Sinking")
    late = scored({"participant_id": sinking.heify_id}, 10, 16)
    late["created_at"] = "2026-03-16T00:00:00+00:00"  # at midnight: counts from as_of 03-16, not 03-15
    load(transcriptions=[late])
    day = date.fromisoformat(as_of)
    rows = team.team_overview(as_of=day)
    assert {r["tag"]: r["trend"] for r in rows} == {
        p.tag: analytics.participant_report(p, as_of=day)["trend"] for p in Participant.objects.all()}


def test_team_overview_page(admin_client, team_data):
    page = admin_client.get(reverse("admin:qa_participant_team") + "?o=-pass_rate").content.decode()
    assert "Team overview" in page and "degrading" in page and page.index("Steady") < page.index("Newbie")


def test_dashboard_on_the_participant_page(admin_client, team_data):
    sinking = Participant.objects.get(tag="Sinking")
    page = admin_client.get(reverse("admin:qa_participant_change", args=[sinking.pk]) + "?as_of=2026-03-31")
    html = page.content.decode()
    assert 'id="qa-timeline"' in html and "chart-4.6.1.umd.min.js" in html and "qa-chart-data" in html
    assert 'data-testid="degradation"' in html and "declining" in html
    assert reverse("admin:qa_reviewitem_change", args=[sinking.transcriptions.first().pk]) in html


def test_heify_report_beside_ours_and_the_quota(admin_client, heify_account):
    pull.pull(["participants", "evaluators", "transcriptions"])
    participant = Participant.objects.first()
    url = reverse("admin:qa_participant_heify_report", args=[participant.pk])
    assert "Not asked yet" in admin_client.get(url).content.decode()
    answer = admin_client.post(url).content.decode()
    assert "agree" in answer and "differ" not in answer.replace("qa-trend-declining", "")
    used = heify_account.state.analytics_used()
    # Asked today: shown again, without spending the quota again (and with no button to).
    again = admin_client.get(url).content.decode()
    assert "agree" in again and 'data-testid="fetched-at"' in again and "Ask Heify now" not in again
    assert "agree" in admin_client.post(url).content.decode()
    assert heify_account.state.analytics_used() == used
    heify_account.state.analytics_quota = used
    other = reverse("admin:qa_participant_heify_report", args=[Participant.objects.exclude(pk=participant.pk)[0].pk])
    assert "quota is used up (429)" in admin_client.post(other).content.decode()


def test_api_remote_flag_and_quota(admin_user, heify_account):
    from rest_framework.test import APIClient

    pull.pull(["participants", "evaluators", "transcriptions"])
    participant = Participant.objects.first()
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/v1/participants/{participant.heify_id}/analytics/"
    body = api.get(url, {"remote": "true"}).json()
    assert body["remote"]["kpis"] == body["data"]["kpis"]
    used = heify_account.state.analytics_used()
    assert api.get(url, {"remote": "true"}).json()["remote"] == body["remote"]  # kept for the day
    assert heify_account.state.analytics_used() == used
    heify_account.state.analytics_quota = used
    other = f"/api/v1/participants/{Participant.objects.exclude(pk=participant.pk)[0].heify_id}/analytics/"
    response = api.get(other, {"remote": "true"})
    assert response.status_code == 429 and response.json()["error"]["code"] == "quota_exceeded"
    assert api.get(other).status_code == 200  # ours costs nothing
    heify_account.state.down = True
    assert api.get(other, {"remote": "1"}).status_code == 503


def test_only_a_qa_manager_may_spend_heifys_quota(heify_account, client):
    from django.contrib.auth.models import Group, User
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    pull.pull(["participants", "evaluators", "transcriptions"])
    participant = Participant.objects.first()
    people = {}
    for name, role in (("rita", "Reviewer"), ("max", "QA manager")):
        people[name] = User.objects.create_user(name, password="pw-for-tests-1", is_staff=True)
        people[name].groups.add(Group.objects.get(name=role))
    url = f"/api/v1/participants/{participant.heify_id}/analytics/"
    reviewer = APIClient()
    reviewer.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=people['rita'])[1]}")
    refused = reviewer.get(url, {"remote": "true"})
    assert refused.status_code == 403 and "QA managers only" in refused.json()["error"]["message"]
    assert reviewer.get(url).status_code == 200
    assert heify_account.state.analytics_used() == 0
    page = reverse("admin:qa_participant_change", args=[participant.pk])
    report = reverse("admin:qa_participant_heify_report", args=[participant.pk])
    client.force_login(people["rita"])
    assert report not in client.get(page).content.decode()
    assert client.get(report).status_code == 403 and client.post(report).status_code == 403
    assert heify_account.state.analytics_used() == 0
    client.force_login(people["max"])
    assert report in client.get(page).content.decode()
    assert "agree" in client.post(report).content.decode()
    assert heify_account.state.analytics_used() == 1


# --- a dashboard a person can read -------------------------------------------------------------------------


def test_the_dashboard_comes_before_the_metadata_editor(admin_client, team_data):
    sinking = Participant.objects.get(tag="Sinking")
    html = admin_client.get(reverse("admin:qa_participant_change", args=[sinking.pk])).content.decode()
    assert html.index('id="qa-dashboard"') < html.index('name="metadata"')


def test_the_calls_table_is_paged_with_labels_local_times_and_mm_ss(admin_client, load, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    agent = builders.participant_payload(tag="Busy")
    calls = [scored(agent, 70, 1 + n % 28, group="PENDING_REVIEW") for n in range(30)]
    for n, call in enumerate(calls):
        call["created_at"] = f"2026-03-{1 + n % 28:02d}T{8 + n % 10:02d}:{n:02d}:00+00:00"
        call["duration"] = 125.0
    load(participants=[agent], transcriptions=calls)
    url = reverse("admin:qa_participant_change", args=[Participant.objects.get(tag="Busy").pk])
    first = admin_client.get(url + "?as_of=2026-03-31")
    rows = first.context["calls"]
    assert len(rows) == 25 and first.context["calls_page"].paginator.count == 30  # it showed 200 rows
    html = first.content.decode()
    table = html[html.index('data-testid="dashboard-calls"'):]
    table = table[:table.index("</table>")]
    assert "PENDING_REVIEW" not in table and "Pending review" in table
    assert "2:05" in table and ">125<" not in table
    shown = re.sub(r"<[^>]+>", " ", table)  # what a person reads
    assert not re.search(r"\dT\d", shown) and "+00:00" not in shown  # not ISO
    newest = max(calls, key=lambda c: c["created_at"])  # 15:27 UTC is 16:27 in Madrid (CET, before DST)
    assert newest["created_at"].startswith("2026-03-28T15:27") and "title=\"2026-03-28 16:27\">28 Mar" in table
    assert "calls_page=2" in html and "as_of=2026-03-31" in html
    second = admin_client.get(url + "?as_of=2026-03-31&calls_page=2")
    assert len(second.context["calls"]) == 5


def test_criteria_that_fail_most_show_the_rate_over_their_evaluators_calls(admin_client, load):
    agent = builders.participant_payload(tag="Two scorecards")
    short, long_ = builders.evaluator_payload(tag="Short card"), builders.evaluator_payload(tag="Long card")
    calls = []
    for n in range(10):  # 2 calls by the short card, both failing Greeting; 8 by the long card, none failing
        evaluator = short if n < 2 else long_
        call = builders.transcription_payload(participant=agent, evaluator=evaluator,
                                              created_at=f"2026-03-{1 + n:02d}T10:00:00+00:00")
        call["details"]["evaluation"]["criteria_results"] = [
            {"name": "Greeting", "passed": n >= 2}, {"name": "Issue resolved", "passed": True}]
        calls.append(call)
    load(participants=[agent], evaluators=[short, long_], transcriptions=calls)
    participant = Participant.objects.get(tag="Two scorecards")
    response = admin_client.get(reverse("admin:qa_participant_change", args=[participant.pk]) + "?as_of=2026-03-31")
    (row,) = response.context["criteria_rows"]
    assert (row["name"], row["evaluator_tag"], row["fail_count"]) == ("Greeting", "Short card", 2)
    assert (row["evaluator_fail_rate"], row["evaluator_calls"], row["fail_rate"]) == (100, 2, 20)
    html = response.content.decode()
    assert "Short card" in html and "100% <span" in html and "20%" in html
    # The API keeps Heify's definition.
    api = admin_client.get(f"/api/v1/participants/{participant.heify_id}/analytics/?as_of=2026-03-31").json()
    assert [(c["name"], c["fail_rate"]) for c in api["data"]["criteria_breakdown"]] == [("Greeting", 20)]


@pytest.mark.parametrize("value", ["2026-13-45", "yesterday", "0001-01-01"])
def test_a_bad_as_of_is_said_not_ignored(admin_client, team_data, value):
    sinking = Participant.objects.get(tag="Sinking")
    for url in (reverse("admin:qa_participant_change", args=[sinking.pk]), reverse("admin:qa_participant_team")):
        html = admin_client.get(url, {"as_of": value}).content.decode()
        assert f"not {value}" in html or f"not &#x27;{value}&#x27;" in html, url
        assert "YYYY-MM-DD" in html or "between 1971-01-01 and 9998-12-31" in html, url


def test_the_dashboard_is_never_stale(admin_client, admin_user, load, settings):
    """On PostgreSQL the dashboard's answer is kept in the cache: every write it depends on must show at once."""
    card, agent = builders.evaluator_payload(tag="Card one"), builders.participant_payload(tag="Kept")
    calls = [scored(agent, 70 + n, 2 + n, critical=n == 0) for n in range(3)]
    for call in calls:
        call["evaluator_id"] = card["evaluator_id"]
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    url = reverse("admin:qa_participant_change", args=[participant.pk]) + "?as_of=2026-03-31"

    def shown() -> tuple:
        report = admin_client.get(url).context["report"]
        expected = analytics.participant_report(participant, as_of=date(2026, 3, 31))
        figures = (report["kpis"], report["evaluators"], report["raw_data"][:3])
        assert figures == (expected["kpis"], expected["evaluators"], expected["raw_data"][:3])
        return figures

    before = shown()
    with CaptureQueriesContext(connection) as queries:
        again = admin_client.get(url).context["report"]
    assert {**again, "metadata": None} == {**admin_client.get(url).context["report"], "metadata": None}
    assert shown() == before
    if on_postgresql():  # kept: the report's statement did not run again
        assert not [q for q in queries.captured_queries if "json_build_object" in q["sql"]]

    calls[1]["details"]["evaluation"]["score"] = 10  # Heify scored a call again
    load(transcriptions=[calls[1]])
    assert (after := shown()) != before
    critical = Transcription.objects.get(heify_id=calls[0]["transcription_id"])
    queues.transcription_move(transcription_id=critical.pk, group="PENDING_REVIEW", acting_user=admin_user)
    assert (moved := shown()) != after and moved[0]["pending_critical_reviews"] == 1
    load(evaluators=[{**card, "tag": "Card renamed"}])
    assert (renamed := shown()) != moved and renamed[1][0]["tag"] == "Card renamed"
    settings.ANALYTICS_PASS_MARK = 95
    assert shown()[0]["pass_rate"] == 0 != renamed[0]["pass_rate"]


def test_the_kept_dashboard_follows_the_calls_its_capped_report_reads(admin_client, load, settings):
    """Past Heify's cap, the report reads the newest calls and whether one more lies beyond; the kept answer
    follows exactly those (the fingerprint reads as many calls as the report), never a stale one."""
    settings.ANALYTICS_QUERY_LIMIT = 2
    agent = builders.participant_payload(tag="Busy")
    calls = [scored(agent, 50 + n, 2 + n) for n in range(4)]  # day 2 (oldest) to day 5 (newest)
    load(participants=[agent], transcriptions=calls[:2])
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    url = reverse("admin:qa_participant_change", args=[participant.pk]) + "?as_of=2026-03-31"

    def shown() -> dict:
        report = admin_client.get(url).context["report"]
        expected = analytics.participant_report(participant, as_of=date(2026, 3, 31))
        assert (report["kpis"], report["metadata"]["query_limit_reached"], report["raw_data"][:2]) == (
            expected["kpis"], expected["metadata"]["query_limit_reached"], expected["raw_data"][:2])
        return report

    assert not shown()["metadata"]["query_limit_reached"]
    load(transcriptions=calls[2:3])  # one more than the cap: the oldest is beyond it
    assert shown()["metadata"]["query_limit_reached"]
    calls[0]["details"]["evaluation"]["score"] = 5  # beyond the cap: the report reads it nowhere
    load(transcriptions=[calls[0]])
    assert shown()["kpis"]["avg_score"] == 51.5  # 52 and 51
    load(transcriptions=calls[3:])  # a newer call pushes another past the cap
    assert shown()["kpis"]["avg_score"] == 52.5  # 53 and 52


def test_sqlite_keeps_the_index_the_dashboards_key_reads():
    """qa/migrations/0034_dashboard_fingerprint_sqlite.py: a later migration that remakes the table on SQLite
    would drop it, and the kept dashboard's key would read the table again."""
    if on_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'qa_transcription'")
        assert "tx_dashboard_key_sqlite" in {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("score", ["ai", "reviewed"])
def test_sqlite_reads_the_report_from_that_index_alone(load, score):
    """qa/migrations/0039_report_index_sqlite.py: the index holds every column the report reads and tests, so
    SQLite reads no call's row beside it (it did for each of 20,000 calls)."""
    if on_postgresql():
        return
    agent, card = builders.participant_payload(), builders.evaluator_payload()
    load(participants=[agent], evaluators=[card], transcriptions=[
        builders.transcription_payload(participant=agent, evaluator=card) for _ in range(3)])
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    with CaptureQueriesContext(connection) as captured:
        analytics.participant_dashboard(participant, as_of=date(2026, 3, 21), calls_shown=1, leave_out=["x"],
                                        score=score)
    [report] = [q["sql"] for q in captured.captured_queries if "'summary'" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + report)
        reads = [row[-1] for row in cursor.fetchall() if re.match(r"(SEARCH|SCAN) t\b", row[-1])]
    assert reads and all("USING COVERING INDEX tx_dashboard_key_sqlite" in read for read in reads), reads


# --- both scores ------------------------------------------------------------------------------------------------


@pytest.fixture
def reviewed_team(load):
    """Two agents scored by one card (Greeting 20, Issue resolved 80, No offensive language strict): every call
    80 by the AI (Greeting failed). Two of Rosa's calls reviewed: one resolved not (0), one greeted after all
    (100)."""
    card = builders.evaluator_payload(tag="Card")
    rosa, theo = builders.participant_payload(tag="Rosa"), builders.participant_payload(tag="Theo")
    calls = {name: [] for name in ("Rosa", "Theo")}
    for name, agent in (("Rosa", rosa), ("Theo", theo)):
        for n in range(4):
            payload = scored(agent, 80, 2 + n, group="PENDING_REVIEW")
            payload["evaluator_id"] = card["evaluator_id"]
            calls[name].append(payload)
    load(evaluators=[card], participants=[rosa, theo], transcriptions=calls["Rosa"] + calls["Theo"])
    review(calls["Rosa"][0]["transcription_id"], {"Issue resolved": False})
    review(calls["Rosa"][1]["transcription_id"], {"Greeting": True})
    return calls


def test_the_team_overview_offers_both_scores(reviewed_team, admin_client, django_assert_max_num_queries):
    for score in ("ai", "reviewed"):
        with django_assert_max_num_queries(5):
            team.team_overview(score=score)
    ai = {row["tag"]: row for row in team.team_overview()}
    reviewed = {row["tag"]: row for row in team.team_overview(score="reviewed")}
    # Rosa: 80, 80, 80, 80 by the AI; 0, 100, 80, 80 of record: avg 65, 3 of 4 pass.
    assert (ai["Rosa"]["avg_score"], ai["Rosa"]["pass_rate"]) == (80, 100)
    assert (reviewed["Rosa"]["avg_score"], reviewed["Rosa"]["pass_rate"]) == (65, 75)
    assert ai["Rosa"]["reviewed_calls"] == reviewed["Rosa"]["reviewed_calls"] == 2
    assert ai["Rosa"]["scores"] == reviewed["Rosa"]["scores"] == {
        "ai": {"avg_score": 80, "pass_rate": 100}, "reviewed": {"avg_score": 65, "pass_rate": 75}}
    assert ai["Theo"] | {"participant": None} == reviewed["Theo"] | {"participant": None}  # none of his reviewed
    assert [row["tag"] for row in team.team_overview(score="reviewed", sort="avg_score")] == ["Rosa", "Theo"]
    # The roll-ups and the reviewed calls give what the calls themselves give.
    from_rollups = team.team_overview(score="reviewed")
    DailyCalls.objects.update(pass_mark=-1)
    assert team.team_overview(score="reviewed") == from_rollups
    page = admin_client.get(reverse("admin:qa_participant_team") + "?score=reviewed").content.decode()
    assert "on the reviewed score" in page and ">65 <span" in page and "(80)" in page  # the AI's in grey
    assert "?score=reviewed&amp;o=-calls" in page or "?score=reviewed&amp;o=calls" in page  # sorting keeps it
    bad = admin_client.get(reverse("admin:qa_participant_team") + "?score=human").content.decode()
    assert "score must be &#x27;ai&#x27; or &#x27;reviewed&#x27;, not &#x27;human&#x27;. Shown on the AI score." in bad


def test_the_dashboard_says_where_the_scores_differ(reviewed_team, admin_client):
    rosa = Participant.objects.get(tag="Rosa")
    url = reverse("admin:qa_participant_change", args=[rosa.pk]) + "?as_of=2026-03-31"
    response = admin_client.get(url)
    assert response.context["report"]["kpis"]["avg_score"] == 80  # the AI's, by default
    assert response.context["review"] == {
        "reviewed_calls": 2,
        "all_calls": {"ai": {"calls": 4, "avg_score": 80, "pass_rate": 100},
                      "reviewed": {"calls": 4, "avg_score": 65, "pass_rate": 75},
                      "difference": {"avg_score": -15, "pass_rate": -25}},
        "reviewed": {"ai": {"calls": 2, "avg_score": 80, "pass_rate": 100},
                     "reviewed": {"calls": 2, "avg_score": 50, "pass_rate": 50},
                     "difference": {"avg_score": -30, "pass_rate": -50}},
    }
    html = response.content.decode()
    panel = html[html.index('data-testid="scores-compared"'):]
    panel = re.sub(r"<[^>]+>", " ", panel[:panel.index("</section>")])
    assert "2 of 4 calls reviewed" in panel and " -30 " in panel and " -50 pts " in panel
    table = html[html.index('data-testid="dashboard-calls"'):]
    assert table.count('data-testid="call-reviewed-score"') == 4 and 'title="No verdict yet"' in table
    # On the reviewed score: every figure is the score of record's; the comparison is the same.
    on_record = admin_client.get(url + "&score=reviewed")
    assert on_record.context["report"]["kpis"]["avg_score"] == 65
    assert on_record.context["review"] == response.context["review"]
    assert "on the reviewed score" in on_record.content.decode()
    assert "as_of=2026-03-31&amp;score=reviewed" in on_record.content.decode()  # the exports keep both
    assert "score must be" in admin_client.get(url + "&score=x").content.decode()


def test_a_verdict_refreshes_the_kept_dashboard(reviewed_team, admin_client):
    """On PostgreSQL the dashboard is kept in the cache: a verdict changes no call's version, and must still show."""
    theo = Participant.objects.get(tag="Theo")
    url = reverse("admin:qa_participant_change", args=[theo.pk]) + "?as_of=2026-03-31"
    assert admin_client.get(url).context["review"]["reviewed_calls"] == 0
    assert admin_client.get(url + "&score=reviewed").context["report"]["kpis"]["avg_score"] == 80
    review(reviewed_team["Theo"][3]["transcription_id"], {"Issue resolved": False})
    assert admin_client.get(url).context["review"]["reviewed_calls"] == 1
    assert admin_client.get(url).context["report"]["kpis"]["avg_score"] == 80  # the AI's did not move
    assert admin_client.get(url + "&score=reviewed").context["report"]["kpis"]["avg_score"] == 60
    review(reviewed_team["Theo"][3]["transcription_id"], {"Issue resolved": True})  # changed back
    assert admin_client.get(url + "&score=reviewed").context["report"]["kpis"]["avg_score"] == 80


def test_a_calls_reviewed_score_shows_its_range_where_it_cannot_be_exact():
    from qa.insights.admin import ParticipantAdmin

    both = ParticipantAdmin._both_scores
    assert both(None) == {"ai_shown": "", "reviewed_shown": "", "reviewed": False}
    assert both((80.0, False, None, None, None, None, None))["reviewed_shown"] == ""  # not reviewed
    exact = both((80.0, False, "2026-03-03", 60.0, 60.0, 60.0, False))
    assert (exact["ai_shown"], exact["reviewed_shown"], exact["reviewed"]) == ("80", "60", True)
    ranged = both((68.0, False, "2026-03-03", 64.0, 48.0, 80.0, False))["reviewed_shown"]
    assert ranged.startswith("64 <span") and "(48–80)" in ranged and "Not exact" in ranged
    voided = both((80.0, False, "2026-03-03", 80.0, 80.0, 80.0, True))["reviewed_shown"]
    assert "<s>80</s>" in voided  # a critical fail of record voids it, as everywhere
    unknown = both((80.0, False, "2026-03-03", None, None, None, False))["reviewed_shown"]
    assert unknown == "80"  # no score of record computable: the AI's, as the reports read it
