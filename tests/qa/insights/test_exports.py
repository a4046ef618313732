"""Exports: every call list, the team overview and a participant's report as CSV and .xlsx; the API's CSV."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from qa import spreadsheets
from qa.insights import team
from qa.mirror.models import Participant, Transcription
from qa.reviews import exports, queues
from tests import builders
from tests.builders import person
from tests.qa.insights import conftest as insights
from tests.qa.reviews.test_review_page import SCALE_EVALUATOR

pytestmark = pytest.mark.django_db

HEADERS = list(exports.CALL_HEADERS)


def read(response) -> list[list]:
    """The rows of an export (header first), whatever its format: a CSV's cells as text, a .xlsx's as openpyxl
    reads them (numbers, datetimes, text; an empty cell as "")."""
    assert response.status_code == 200, response.content[:500]
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        assert body.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert response["Content-Type"] == spreadsheets.CONTENT_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [["" if value is None else value for value in row] for row in book.active.iter_rows(values_only=True)]


def moment(value, fmt: str) -> datetime:
    """A date cell as the moment it names: ISO 8601 in a CSV; in a .xlsx, the site's wall-clock time."""
    if fmt == "csv":
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime), f"not a date cell: {value!r}"
    return value.replace(tzinfo=timezone.get_current_timezone())


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
    # Three columns per criterion of the evaluator the list is filtered to (the AI's, the reviewer's, the reason),
    # then the link back.
    assert rows[0] == [*HEADERS, *(f"{name} ({what})" for name in ("Greeting", "No offensive language",
                                                                    "Issue resolved")
                                   for what in ("AI", "reviewer", "reason")), "Review page"]
    for call in expected:
        row = exported[call.heify_id]
        assert row["Call"] == call.name and row["Participant"] == "Alice Agent" and row["Evaluator"] == "Scorecard A"
        assert float(row["AI score"]) == call.score and row["Status"] == "Completed"
        if fmt == "csv":
            assert row["Date"] == call.occurred_at.astimezone(UTC).isoformat()  # ISO 8601
        assert moment(row["Date"], fmt) == call.occurred_at
        assert row["AI critical fail"] == ("Yes" if call.critical_fail_triggered else "No")
        assert (row["Greeting (AI)"], row["Issue resolved (AI)"]) == ("Failed", "Passed")
        assert (row["Reviewed score"], row["Reviewed by"], row["Reviewed at"], row["Greeting (reviewer)"]) == (
            "", "", "", "")  # nobody reviewed it
        assert row["Review page"] == f"http://testserver/admin/qa/reviewitem/{call.pk}/change/"
    # The list's order, newest first.
    dates = [moment(row[HEADERS.index("Date")], fmt) for row in rows[1:]]
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
    score = sheet.cell(row=2, column=HEADERS.index("AI score") + 1)
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
    header = rows[0]
    assert header[:2] == ["Call", "Heify ID"]  # as in the call lists' export
    assert [row[1] for row in rows[1:]] == [call["id"] for call in report["raw_data"]] and len(rows) > 20
    calls = {call.heify_id: call for call in Transcription.objects.all()}
    assert rows[1][-1] == f"http://testserver/admin/qa/reviewitem/{calls[rows[1][1]].pk}/change/"
    for row in rows[1:]:
        call = calls[row[1]]
        shown = dict(zip(header, row, strict=True))
        assert shown["Call"] == call.name and moment(shown["Date"], fmt) == call.occurred_at
        assert (shown["Status"], shown["Group"]) == ("Completed", {
            None: "No group", "PENDING_REVIEW": "Pending Review", "ARCHIVED": "Archived"}[call.group])
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
    assert rows[0][-4:] == ["Issue resolved (AI)", "Issue resolved (reviewer)", "Issue resolved (reason)",
                            "Review page"]
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


# --- as people read them: labels, dates, durations, the reviewer's results and the score of record ------------


def scale_calls(load, count: int) -> list[Transcription]:
    """`count` calls scored 90 by SCALE_EVALUATOR (tests.qa.reviews.test_review_page), every criterion passed,
    in the pending queue."""
    evaluator = builders.evaluator_payload(**SCALE_EVALUATOR)
    payloads = []
    for n in range(count):
        payload = builders.transcription_payload(evaluator=evaluator, group="PENDING_REVIEW", name=f"scale {n}.mp3",
                                                 created_at=f"2026-03-{1 + n:02d}T23:30:00+00:00")
        payload["details"]["evaluation"] = {"score": 90.0, "critical_fail_triggered": False, "criteria_results": [
            {"name": name, "passed": True} for name in ("Greeting", "Empathy", "Resolved", "No insults")]}
        payloads.append(payload)
    load(evaluators=[evaluator], transcriptions=payloads)
    return list(Transcription.objects.order_by("name"))


def review(call: Transcription, reviewer) -> None:
    """Through the service, as the review page and the API do: Empathy 2 of 5 (so the score of record is 70),
    Greeting agreed, Resolved passed; No insults left undecided."""
    queues.transcription_claim(transcription_id=call.pk, reviewer=reviewer)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=reviewer, verdicts=[
        queues.Verdict("Empathy", value=2, reason="cold"), queues.Verdict("Greeting", agrees=True),
        queues.Verdict("Resolved", passed=True)])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("where", ["admin", "api"])
def test_a_reviewed_call_exports_the_reviewers_results_and_the_score_of_record(admin_client, load, fmt, where):
    reviewed, untouched = scale_calls(load, 2)
    ann = person("ann", "Reviewer")
    review(reviewed, ann)
    reviewed.refresh_from_db()
    evaluator = reviewed.evaluator_id
    if where == "admin":
        response = admin_client.get(export_url("transcription", fmt, f"evaluator__heify_id__exact={evaluator}"))
    else:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=person('max', 'QA manager'))[1]}")
        response = api.get(f"/api/v1/transcriptions/?format={fmt}&evaluator={evaluator}")
    exported = by_id(read(response))
    row = exported[reviewed.heify_id]
    assert float(row["AI score"]) == 90 and float(row["Reviewed score"]) == reviewed.reviewed_score == 70
    assert (row["Reviewed score range"], row["AI critical fail"], row["Reviewed critical fail"]) == ("", "No", "No")
    assert row["Reviewed by"] == "ann"
    assert abs(moment(row["Reviewed at"], fmt) - reviewed.reviewed_at) < timedelta(milliseconds=1)  # Excel's ms
    assert (row["Empathy (AI)"], row["Empathy (reviewer)"], row["Empathy (reason)"]) == ("Passed", "Failed (2/5)",
                                                                                         "cold")
    assert (row["Greeting (AI)"], row["Greeting (reviewer)"], row["Greeting (reason)"]) == ("Passed", "Passed", "")
    assert (row["Resolved (reviewer)"], row["No insults (AI)"], row["No insults (reviewer)"]) == ("Passed", "Passed",
                                                                                                  "")
    assert row["Status"] == "Completed" and row["Group"] == "Under Review" and row["Reviewer"] == "ann"
    other = exported[untouched.heify_id]
    assert float(other["AI score"]) == 90 and [other[key] for key in (
        "Reviewed score", "Reviewed critical fail", "Reviewed by", "Reviewed at", "Empathy (reviewer)",
        "Empathy (reason)")] == ["", "", "", "", "", ""]
    assert other["Group"] == "Pending Review"


def test_a_score_of_record_that_cannot_be_exact_shows_its_range(admin_client, load):
    call, _ = scale_calls(load, 2)
    review(call, person("ann", "Reviewer"))
    # As qa.reviews.record stores a score whose scale values nothing settles: its middle and its ends.
    Transcription.objects.filter(pk=call.pk).update(reviewed_score=64.0, reviewed_score_low=48.0,
                                                     reviewed_score_high=80.0)
    row = by_id(read(admin_client.get(export_url("transcription", "csv"))))[call.heify_id]
    assert (row["Reviewed score"], row["Reviewed score range"]) == ("64.0", "48\u201380")


def test_the_reviewers_columns_cost_one_query_a_batch_whatever_the_reviewed_calls(admin_client, load, monkeypatch):
    calls = scale_calls(load, 6)
    ann = person("ann", "Reviewer")
    url = export_url("transcription", "csv", f"evaluator__heify_id__exact={calls[0].evaluator_id}")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = read(admin_client.get(url))
        assert len(rows) == 7
        return len(captured.captured_queries)

    none_reviewed = queries()
    review(calls[0], ann)
    one_reviewed = queries()
    assert one_reviewed == none_reviewed + 1  # the batch's verdicts, in one query
    for call in calls[1:]:
        review(call, ann)
    assert queries() == one_reviewed  # flat: not one per call
    monkeypatch.setattr(spreadsheets, "BATCH", 1)  # three batches of two calls: results and verdicts for each
    assert queries() == one_reviewed + 2 * 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_export_writes_dates_as_dates_and_durations_in_whole_seconds(admin_client, load, settings, fmt):
    settings.TIME_ZONE = "Europe/Madrid"  # 23:30 UTC on 1 March is 00:30 on 2 March there
    calls = scale_calls(load, 2)
    review(calls[0], person("ann", "Reviewer"))
    transcriptions = read(admin_client.get(export_url("transcription", fmt)))
    assert transcriptions[0][HEADERS.index("Duration (s)")] == "Duration (s)"
    row = by_id(transcriptions)[calls[0].heify_id]
    assert moment(row["Date"], fmt) == calls[0].occurred_at
    if fmt == "xlsx":  # the wall-clock time the screens show, as a real date
        assert row["Date"] == datetime(2026, 3, 2, 0, 30)
        assert isinstance(row["Reviewed at"], datetime) and isinstance(row["In group since"], datetime)
    assert str(row["Duration (s)"]) == "185"  # 185.4 s, whole seconds as Heify's report gives them
    # The participant report's calls: the same column, the same seconds, dates as dates.
    agent = builders.participant_payload(tag="Timed")
    load(participants=[agent], transcriptions=[builders.transcription_payload(
        participant=agent, name="timed.mp3", created_at="2026-03-10T23:30:00+00:00")])
    pk = Transcription.objects.get(name="timed.mp3").participant.pk
    report = read(admin_client.get(reverse("admin:qa_participant_report_export", args=[pk, fmt]) + "?as_of=2026-03-31"))
    shown = dict(zip(report[0], report[1], strict=True))
    assert str(shown["Duration (s)"]) == "185" and shown["Call"] == "timed.mp3"
    assert moment(shown["Date"], fmt) == datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    # The audit log's moments too (the claim and the verdicts above).
    audit = read(admin_client.get(reverse("admin:qa_auditevent_export", args=[fmt])))
    assert audit[0][0] == "When" and len(audit) > 1
    assert all(isinstance(moment(row[0], fmt), datetime) for row in audit[1:])


def test_a_xlsx_date_is_a_date_cell_excel_sorts_and_filters(admin_client, load):
    scale_calls(load, 1)
    body = b"".join(admin_client.get(export_url("transcription", "xlsx")).streaming_content)
    date = openpyxl.load_workbook(io.BytesIO(body)).active.cell(row=2, column=HEADERS.index("Date") + 1)
    # A number (Excel's serial date) with a date format, which openpyxl reads back as a datetime; not text.
    assert date.is_date and isinstance(date.value, datetime) and date.number_format == "yyyy-mm-dd hh:mm:ss"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    cell = re.search(rf'<c r="{date.column_letter}2"[^>]*>.*?</c>', sheet).group(0)
    assert 't="' not in cell and re.search(r"<v>\d+\.\d+</v>", cell)


def test_the_other_api_lists_export_dates_as_dates_and_types_as_shown(admin_client, load):
    load(evaluators=[builders.evaluator_payload(tag="Support", **SCALE_EVALUATOR)])
    rows = read(admin_client.get("/api/v1/evaluators/", {"format": "xlsx"}))
    shown = dict(zip(rows[0], rows[1], strict=True))
    assert shown["criteria"].splitlines() == [
        "Greeting (Boolean · weight 20): Standard opening?", "Empathy (Scale · weight 50): Rate 1-5.",
        "Resolved (Boolean · weight 30): Resolved?", "No insults (Strict · critical): Rude words?"]
    assert isinstance(shown["created_at"], datetime) and shown["sync.state"] == "in sync with Heify"
    csv_rows = read(admin_client.get("/api/v1/evaluators/", {"format": "csv"}))
    assert datetime.fromisoformat(dict(zip(csv_rows[0], csv_rows[1], strict=True))["created_at"])


def test_the_writer_keeps_dates_days_and_what_excel_cannot_hold(settings):
    settings.TIME_ZONE = "America/New_York"
    table = spreadsheets.Table(title="t", headers=["moment", "day", "old"], rows=[
        [datetime(2026, 7, 1, 3, 30, 15, 250000, tzinfo=UTC), datetime(2026, 3, 2).date(),
         datetime(1899, 1, 1, tzinfo=UTC)]])
    book = openpyxl.load_workbook(io.BytesIO(b"".join(spreadsheets.xlsx_chunks(table))))
    moment_, day, old = book.active[2]
    assert moment_.value == datetime(2026, 6, 30, 23, 30, 15, 250000)  # New York's wall clock, summer time
    assert day.value == datetime(2026, 3, 2) and day.number_format == "yyyy-mm-dd"
    assert old.value == "1899-01-01T00:00:00+00:00"  # Excel's calendar is a day off before March 1900: as text
    csv_text = b"".join(spreadsheets.csv_chunks(table)).decode("utf-8-sig")
    assert "2026-07-01T03:30:15.250000+00:00" in csv_text and "2026-03-02" in csv_text  # UTC, ISO 8601


# --- on either score ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_team_and_report_exports_follow_the_score_asked(admin_client, load, fmt):
    card, agent = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Rosa")
    calls = [builders.transcription_payload(evaluator=card, participant=agent, created_at=f"2026-03-0{day}T10:00Z")
             for day in (2, 3)]  # 80 each by the AI, Greeting failed
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    insights.review(calls[0]["transcription_id"], {"Issue resolved": False})  # 0 of record
    rosa = Participant.objects.get(tag="Rosa")

    def export(name: str, args: list, query: str) -> tuple[str, list[list]]:
        response = admin_client.get(reverse(name, args=args) + query)
        return response["Content-Disposition"], read(response)

    for query, avg, title in (("", 80, "team-overview-2"), ("?score=reviewed", 40, "team-overview-reviewed-score")):
        disposition, rows = export("admin:qa_participant_team_export", [fmt], query)
        assert float(rows[1][rows[0].index("Avg score")]) == avg and title in disposition
    disposition, rows = export("admin:qa_participant_report_export", [rosa.pk, fmt], "?as_of=2026-03-31&score=reviewed")
    header = rows[0]
    scores = {row[header.index("Heify ID")]: float(row[header.index("Score")]) for row in rows[1:]}
    assert scores == {calls[0]["transcription_id"]: 0, calls[1]["transcription_id"]: 80}
    assert "rosa-report-reviewed-score" in disposition
    _, rows = export("admin:qa_participant_report_export", [rosa.pk, fmt], "?as_of=2026-03-31")
    assert {float(row[rows[0].index("Score")]) for row in rows[1:]} == {80}
