"""Exports: every call list, the team overview and a participant's report as CSV and .xlsx; the API's CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa import spreadsheets
from qa.insights import team
from qa.mirror.models import Participant, Transcription
from qa.reviews import exports, queues
from tests import builders
from tests.builders import person
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db

HEADERS = list(exports.CALL_HEADERS)


def read(response) -> list[list]:
    """The rows of an export (header first), whatever its format, every cell as text."""
    assert response.status_code == 200, response.content[:500]
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        assert body.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert response["Content-Type"] == spreadsheets.CONTENT_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [["" if value is None else value if isinstance(value, str) else str(value) for value in row]
            for row in book.active.iter_rows(values_only=True)]


def by_id(rows: list[list]) -> dict[str, dict]:
    header, *body = rows
    return {row[header.index("Heify ID")]: dict(zip(header, row, strict=True)) for row in body}


@pytest.fixture
def world(load):
    """60 calls (more than a page) over two evaluators and two agents, in every group and status."""
    ev_a = builders.evaluator_payload(tag="Scorecard A")
    ev_b = builders.evaluator_payload(tag="Scorecard B")
    alice = builders.participant_payload(tag="Alice Agent")
    bob = builders.participant_payload(tag="Bob Agent")
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    calls = []
    for n in range(60):
        call = builders.transcription_payload(
            evaluator=ev_a if n % 2 else ev_b, participant=alice if n % 3 else bob, name=f"call {n:02d}.mp3",
            group=(None, "PENDING_REVIEW", "ARCHIVED")[n % 3], status="COMPLETED" if n % 5 else "FAILED",
            created_at=(start + timedelta(hours=n)).isoformat(),
        )
        call["details"]["evaluation"]["score"] = 40 + n
        call["details"]["evaluation"]["critical_fail_triggered"] = n % 7 == 0
        calls.append(call)
    load(evaluators=[ev_a, ev_b], participants=[alice, bob], transcriptions=calls)
    return {"ev_a": ev_a, "ev_b": ev_b, "alice": alice, "bob": bob}


def export_url(model: str, fmt: str, query: str = "") -> str:
    return reverse(f"admin:qa_{model}_export", args=[fmt]) + (f"?{query}" if query else "")


# --- the admin's lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_transcription_list_exports_exactly_the_filtered_rows(admin_client, world, fmt):
    ev_a = world["ev_a"]["evaluator_id"]
    query = f"status__exact=COMPLETED&evaluator__heify_id__exact={ev_a}&q=Alice"
    rows = read(admin_client.get(export_url("transcription", fmt, query)))
    expected = Transcription.objects.filter(status="COMPLETED", evaluator_id=ev_a, participant__tag="Alice Agent")
    assert len(expected) > 10
    exported = by_id(rows)
    assert set(exported) == {call.heify_id for call in expected}
    # One column per criterion of the evaluator the list is filtered to, then the link back.
    assert rows[0] == [*HEADERS, "Greeting", "No offensive language", "Issue resolved", "Review page"]
    for call in expected:
        row = exported[call.heify_id]
        assert row["Call"] == call.name and row["Participant"] == "Alice Agent" and row["Evaluator"] == "Scorecard A"
        assert float(row["Score"]) == call.score and row["Status"] == "COMPLETED"
        assert row["Date"] == call.occurred_at.astimezone(UTC).isoformat()  # ISO 8601
        assert row["Critical fail"] == ("yes" if call.critical_fail_triggered else "no")
        assert (row["Greeting"], row["Issue resolved"]) == ("failed", "passed")
        assert row["Review page"] == f"http://testserver/admin/qa/reviewitem/{call.pk}/change/"
    # The list's order, newest first.
    dates = [row[HEADERS.index("Date")] for row in rows[1:]]
    assert dates == sorted(dates, reverse=True)


def test_the_export_holds_every_page_and_no_criteria_columns_across_evaluators(admin_client, world):
    rows = read(admin_client.get(export_url("transcription", "csv")))
    assert len(rows) - 1 == Transcription.objects.count() == 60
    assert rows[0] == [*HEADERS, "Review page"]


def test_the_list_shows_both_export_links_with_its_filters(admin_client, world):
    response = admin_client.get(reverse("admin:qa_transcription_changelist") + "?status__exact=FAILED&p=1")
    links = dict(response.context["export_links"])
    assert links["Export CSV"] == export_url("transcription", "csv", "status__exact=FAILED")
    assert links["Export Excel (.xlsx)"] == export_url("transcription", "xlsx", "status__exact=FAILED")
    assert f'href="{export_url("transcription", "csv", "status__exact=FAILED")}"' in response.content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_review_queue_exports_its_queue_in_its_order(admin_client, world, fmt):
    rows = read(admin_client.get(export_url("reviewitem", fmt, "queue=PENDING_REVIEW")))
    expected = list(queues.review_queue("PENDING_REVIEW").values_list("heify_id", flat=True))
    assert [row[1] for row in rows[1:]] == expected and len(expected) == 20


def test_bad_filters_and_formats_are_refused_clearly(admin_client, world):
    response = admin_client.get(export_url("transcription", "csv", "no_such_field=1"))
    assert response.status_code == 400 and b"filters" in response.content
    assert admin_client.get(reverse("admin:qa_transcription_export", args=["pdf"])).status_code == 404


def test_cells_are_escaped_against_formula_injection(admin_client, load):
    nasty = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    agent = builders.participant_payload(tag="=1+1")
    load(participants=[agent], transcriptions=[
        builders.transcription_payload(participant=agent, name=name) for name in nasty
    ])
    for fmt in ("csv", "xlsx"):
        exported = by_id(read(admin_client.get(export_url("transcription", fmt))))
        names = sorted(row["Call"] for row in exported.values())
        assert names == sorted("'" + name for name in nasty), fmt
        assert {row["Participant"] for row in exported.values()} == {"'=1+1"}
    assert spreadsheets.escape_formula("plain -1") == "plain -1" and spreadsheets.cell(-1.5) == -1.5


def test_the_xlsx_file_is_typed_and_stops_at_excels_last_row(admin_client, world, monkeypatch):
    body = b"".join(admin_client.get(export_url("transcription", "xlsx")).streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    score = sheet.cell(row=2, column=HEADERS.index("Score") + 1)
    assert score.data_type == "n" and isinstance(score.value, (int, float))
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_ROWS", 5)
    rows = read(admin_client.get(export_url("transcription", "xlsx")))
    assert len(rows) == 1 + 5 and rows[-1][0] == spreadsheets.TOO_MANY_ROWS


def test_the_first_bytes_leave_before_the_rows_are_read(admin_client, world, monkeypatch):
    monkeypatch.setattr(spreadsheets, "BATCH", 10)
    for fmt in ("csv", "xlsx"):
        response = admin_client.get(export_url("transcription", fmt))
        assert response["Content-Disposition"].startswith('attachment; filename="transcriptions-')
        chunks = iter(response.streaming_content)
        with CaptureQueriesContext(connection) as queries:
            first = next(chunks)
        assert first and not queries.captured_queries  # nothing read from the calls yet
        rest = [chunk for chunk in chunks if chunk]
        # Then a batch of rows at a time (the .xlsx's deflate stream keeps small batches until it has enough).
        assert len(rest) >= (6 if fmt == "csv" else 1)


# --- roles ---------------------------------------------------------------------------------------------------


def test_a_reviewer_exports_only_what_they_can_see(client, world):
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    pending = list(Transcription.objects.filter(group="PENDING_REVIEW").order_by("pk"))
    for call in pending[:3]:
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    for call in pending[3:5]:
        queues.transcription_claim(transcription_id=call.pk, reviewer=bob)
    Transcription.objects.filter(pk=pending[2].pk).update(gone_at=datetime.now(UTC))  # the queues hide it
    client.force_login(ann)
    mine = read(client.get(export_url("reviewitem", "csv", "queue=UNDER_REVIEW&mine=1")))
    assert {row[1] for row in mine[1:]} == {call.heify_id for call in pending[:2]}
    assert {row[HEADERS.index("Reviewer")] for row in mine[1:]} == {"ann"}
    # Someone with no role sees no list, so exports none.
    client.force_login(person("nobody"))
    participant = world["alice"]["participant_id"]
    pk = Transcription.objects.filter(participant_id=participant).first().participant.pk
    for url in (export_url("transcription", "csv"), export_url("reviewitem", "xlsx"),
                reverse("admin:qa_participant_team_export", args=["csv"]),
                reverse("admin:qa_participant_report_export", args=[pk, "csv"])):
        assert client.get(url).status_code == 403, url


def test_the_api_export_follows_the_model_permissions(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=person('nobody'))[1]}")
    response = client.get("/api/v1/transcriptions/?format=csv")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


# --- the team overview and a participant's report ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_team_overview_exports_its_rows_in_its_order(admin_client, world, fmt):
    rows = read(admin_client.get(reverse("admin:qa_participant_team_export", args=[fmt]) + "?o=-calls"))
    overview = team.team_overview(sort="calls", descending=True)
    assert [row[0] for row in rows[1:]] == [row["tag"] for row in overview] == ["Alice Agent", "Bob Agent"]
    header = rows[0]
    for exported, row in zip(rows[1:], overview, strict=True):
        assert float(exported[header.index("Calls")]) == row["calls"]
        assert float(exported[header.index("Pass rate %")]) == row["pass_rate"]
        assert exported[-1].endswith(f"/admin/qa/participant/{row['participant'].pk}/change/")
    page = admin_client.get(reverse("admin:qa_participant_team") + "?o=-calls").content.decode()
    assert reverse("admin:qa_participant_team_export", args=["xlsx"]) + "?o=-calls" in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_participants_report_exports_its_calls(admin_client, world, fmt):
    from qa.insights import analytics
    from qa.mirror.models import Participant

    alice = Participant.objects.get(heify_id=world["alice"]["participant_id"])
    url = reverse("admin:qa_participant_report_export", args=[alice.pk, fmt]) + "?as_of=2026-03-31"
    rows = read(admin_client.get(url))
    report = analytics.participant_report(alice, as_of=datetime(2026, 3, 31).date())
    assert [row[0] for row in rows[1:]] == [call["id"] for call in report["raw_data"]] and len(rows) > 20
    pks = dict(Transcription.objects.values_list("heify_id", "pk"))
    assert rows[1][-1] == f"http://testserver/admin/qa/reviewitem/{pks[rows[1][0]]}/change/"
    page = admin_client.get(reverse("admin:qa_participant_change", args=[alice.pk])).content.decode()
    assert reverse("admin:qa_participant_report_export", args=[alice.pk, "csv"]) in page


# --- the REST API -----------------------------------------------------------------------------------------


@pytest.fixture
def api(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=person('max', 'QA manager'))[1]}")
    return client


def all_pages(api, query: str) -> list[str]:
    ids, cursor = [], ""
    while True:
        body = api.get(f"/api/v1/transcriptions/?limit=7&{query}{cursor}").json()
        ids += [item["transcription_id"] for item in body["data"]]
        if not body["next_cursor"]:
            return ids
        cursor = f"&cursor={body['next_cursor']}"


@pytest.mark.parametrize("how", ["format", "accept"])
def test_the_api_list_answers_csv_with_the_same_filters(api, world, how):
    query = f"status=COMPLETED&participant={world['bob']['participant_id']}&score_min=50"
    if how == "format":
        response = api.get(f"/api/v1/transcriptions/?format=csv&{query}")
    else:
        response = api.get(f"/api/v1/transcriptions/?{query}", HTTP_ACCEPT="text/csv")
    rows = read(response)
    expected = all_pages(api, query)
    assert [row[1] for row in rows[1:]] == expected and len(expected) >= 5
    evaluator = world["ev_a"]["evaluator_id"]
    rows = read(api.get(f"/api/v1/transcriptions/?format=csv&evaluator={evaluator}"))
    assert rows[0][-4:] == ["Greeting", "No offensive language", "Issue resolved", "Review page"]
    assert len(rows) - 1 == len(all_pages(api, f"evaluator={evaluator}")) == 30


def test_api_csv_errors_are_json_and_other_lists_export_too(api, world):
    response = api.get("/api/v1/transcriptions/?format=csv&score_min=abc")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "score_min" in response.json()["error"]["fields"]
    rows = read(api.get("/api/v1/participants/?format=csv"))
    assert rows[0][:2] == ["participant_id", "client_id"] and {row[2] for row in rows[1:]} == {
        "Alice Agent", "Bob Agent"}
    # A detail is not a list: there is no CSV of one object.
    call = Transcription.objects.first()
    assert api.get(f"/api/v1/transcriptions/{call.heify_id}/?format=csv").status_code == 404


def test_the_evaluator_list_exports_its_criteria_weights(admin_client, load):
    """Weights are Decimals: the nested criteria must still be written as JSON (xlsx crashed on them)."""
    load(evaluators=[builders.evaluator_payload(tag="Support")])
    for fmt in ("csv", "xlsx"):
        response = admin_client.get("/api/v1/evaluators/", {"format": fmt})
        assert response.status_code == 200, fmt
        assert b"".join(response.streaming_content)


def test_an_unknown_format_is_a_documented_404(admin_client):
    assert admin_client.get("/api/v1/evaluators/", {"format": "AAA"}).status_code == 404
    schema = admin_client.get("/api/v1/schema/?format=json").json()
    assert "404" in schema["paths"]["/api/v1/evaluators/"]["get"]["responses"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_team_and_report_exports_follow_the_score_asked(admin_client, load, fmt):
    card, agent = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Rosa")
    calls = [builders.transcription_payload(evaluator=card, participant=agent, created_at=f"2026-03-0{day}T10:00Z")
             for day in (2, 3)]  # 80 each by the AI, Greeting failed
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    review(calls[0]["transcription_id"], {"Issue resolved": False})  # 0 of record
    rosa = Participant.objects.get(tag="Rosa")

    def export(name: str, args: list, query: str) -> tuple[str, list[list]]:
        response = admin_client.get(reverse(name, args=args) + query)
        return response["Content-Disposition"], read(response)

    for query, avg, title in (("", 80, "team-overview-2"), ("?score=reviewed", 40, "team-overview-reviewed-score")):
        disposition, rows = export("admin:qa_participant_team_export", [fmt], query)
        assert float(rows[1][rows[0].index("Avg score")]) == avg and title in disposition
    disposition, rows = export("admin:qa_participant_report_export", [rosa.pk, fmt], "?as_of=2026-03-31&score=reviewed")
    scores = {row[0]: float(row[rows[0].index("Score")]) for row in rows[1:]}
    assert scores == {calls[0]["transcription_id"]: 0, calls[1]["transcription_id"]: 80}
    assert "rosa-report-reviewed-score" in disposition
    _, rows = export("admin:qa_participant_report_export", [rosa.pk, fmt], "?as_of=2026-03-31")
    assert {float(row[rows[0].index("Score")]) for row in rows[1:]} == {80}
