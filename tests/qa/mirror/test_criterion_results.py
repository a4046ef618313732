"""Criterion results typed once (qa.mirror.criterion_results): the one parser on Heify's shapes, the rows the
upsert writes and replaces, their pin to the evaluator revision that scored the call (pinned again when a
revision is recorded or forgotten), the backfill migration, and the readers that read the rows, with their
query counts pinned."""

from __future__ import annotations

import csv
import importlib
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qa import heify as heify_port
from qa import policy, spreadsheets
from qa.mirror import criterion_results, services
from qa.mirror.criterion_results import CriterionResult, ParsedResult, parse_criteria_results, pinned_rows
from qa.mirror.models import Evaluator, Transcription
from qa.reviews import agreement, calibration, queues
from qa.scorecards import whatif
from syncer import pull
from tests import builders
from tests.builders import person
from tests.qa.test_migrations import migrate

pytestmark = pytest.mark.django_db


def crit(name, kind, weight, description=""):
    return {"id": builders.new_id(), "name": name, "description": description or f"{name}?", "type": kind,
            "weight": weight}


SCORECARD = [crit("Greeting", "BOOLEAN", 20, "Standard opening?"), crit("Empathy", "SCALE", 50, "Rate 1-5."),
             crit("Resolved", "BOOLEAN", 30), crit("No insults", "STRICT", 0)]


def call_payload(evaluator, results, *, score=90.0, day=7, month=3, year=2026, **overrides):
    when = f"{year}-{month:02d}-{day:02d}T10:00:00+00:00"
    body = builders.transcription_payload(evaluator=evaluator, created_at=when, **overrides)
    body["details"]["evaluation"] = {"score": score, "critical_fail_triggered": False, "criteria_results": results}
    body["details"]["completed_at"] = when
    return body


def rows(call) -> list[tuple]:
    return list(CriterionResult.objects.filter(transcription=call).values_list(
        "position", "name", "passed", "value", "revision", "type", "weight"))


# --- the parser, on Heify's shapes --------------------------------------------------------------------------


def test_heifys_documented_example_parses_to_one_result_each():
    # shared/seeds/core-objects.txt, the transcription's evaluation.
    raw = [{"name": "Greeting", "passed": True}, {"name": "No offensive language", "passed": True},
           {"name": "Issue resolved", "passed": True}]
    assert parse_criteria_results(raw) == [
        ParsedResult(0, "Greeting", True, None), ParsedResult(1, "No offensive language", True, None),
        ParsedResult(2, "Issue resolved", True, None)]


@pytest.mark.parametrize(("item", "passed", "value"), [
    ({"name": "Resolved", "passed": True}, True, None),  # boolean
    ({"name": "No insults", "passed": False}, False, None),  # strict
    ({"name": "Empathy", "passed": True, "value": 4}, True, 4),  # scale, with its value
    ({"name": "Empathy", "passed": False, "value": 1}, False, 1),
    ({"name": "Empathy", "passed": True}, True, None),  # scale, Heify said only passed
    ({"name": "Empathy"}, None, None),  # passed missing: unknown, not failed
    ({"name": "Empathy", "passed": None, "value": 5}, None, 5),
    ({"name": "Empathy", "passed": 0}, None, None),  # not JSON false
    ({"name": "Empathy", "passed": "true"}, None, None),
    ({"name": "Empathy", "passed": True, "value": 6}, True, None),  # off the scale
    ({"name": "Empathy", "passed": True, "value": 0}, True, None),
    ({"name": "Empathy", "passed": True, "value": 4.0}, True, None),  # not a whole number
    ({"name": "Empathy", "passed": True, "value": True}, True, None),
    ({"name": "Empathy", "passed": True, "value": "4"}, True, None),
])
def test_each_result_is_typed(item, passed, value):
    assert parse_criteria_results([item]) == [ParsedResult(0, item["name"], passed, value)]


def test_what_is_not_a_result_is_left_out_and_positions_stay_heifys():
    raw = ["Greeting", 5, None, ["Greeting"], {"name": 7, "passed": False}, {"passed": False},
           {"name": "Greeting", "passed": False}, {"name": "", "passed": True}, {"name": "Greeting", "passed": False}]
    assert parse_criteria_results(raw) == [
        ParsedResult(6, "Greeting", False, None), ParsedResult(7, "", True, None),
        ParsedResult(8, "Greeting", False, None)]
    assert criterion_results.failed_criteria(raw) == ["Greeting", "Greeting"]  # failed twice, as Heify sent them


@pytest.mark.parametrize("raw", [None, {"oops": 1}, "Greeting", 3, []])
def test_anything_but_a_list_has_no_results(raw):
    assert parse_criteria_results(raw) == [] and criterion_results.failed_criteria(raw) == []


def test_results_are_pinned_with_the_type_and_weight_of_the_revision_by_name():
    parsed = parse_criteria_results([{"name": "Greeting", "passed": True}, {"name": "Renamed", "passed": True},
                                     {"name": "Empathy", "passed": True, "value": 3}])
    criteria = [{"name": "Greeting", "type": "boolean", "weight": 20.0, "description": ""},
                {"name": "Empathy", "type": "scale", "weight": 33.33, "description": ""},
                {"name": "Greeting", "type": "strict", "weight": 0.0, "description": ""}]  # the first of a name wins
    assert [(r["name"], r["revision"], r["type"], r["weight"]) for r in pinned_rows(
        parsed, revision=3, criteria=criteria)] == [
        ("Greeting", 3, "boolean", Decimal("20.00")), ("Renamed", 3, "", None),
        ("Empathy", 3, "scale", Decimal("33.33"))]
    assert {(r["revision"], r["type"], r["weight"]) for r in pinned_rows(parsed, revision=None, criteria=None)} == {
        (None, "", None)}


# --- the upsert writes them, once, and replaces them -------------------------------------------------------


def test_the_upsert_types_a_calls_results_pinned_to_its_revision(load):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    load(evaluators=[evaluator], transcriptions=[call_payload(evaluator, [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4},
        {"name": "Resolved", "passed": False}, {"name": "No insults", "passed": True}, {"name": "Hold"}])])
    call = Transcription.objects.get()
    assert rows(call) == [
        (0, "Greeting", True, None, 1, "boolean", Decimal("20")), (1, "Empathy", True, 4, 1, "scale", Decimal("50")),
        (2, "Resolved", False, None, 1, "boolean", Decimal("30")), (3, "No insults", True, None, 1, "strict", 0),
        (4, "Hold", None, None, 1, "", None)]
    assert call.failed_criteria == ["Resolved"]
    assert call.criteria_results[4] == {"name": "Hold"}  # Heify's JSON is kept as it sent it


def test_a_changed_call_has_its_rows_replaced_and_an_unchanged_one_costs_no_write(load):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    payload = call_payload(evaluator, [{"name": "Greeting", "passed": True}, {"name": "Resolved", "passed": True}])
    other = call_payload(evaluator, [{"name": "Greeting", "passed": False}], day=8)
    load(evaluators=[evaluator], transcriptions=[payload, other])
    with CaptureQueriesContext(connection) as queries:
        load(transcriptions=[payload, other])
    assert not [q for q in queries.captured_queries if "qa_criterionresult" in q["sql"]]
    payload["details"]["evaluation"]["criteria_results"] = [{"name": "Empathy", "passed": False, "value": 2}]
    load(transcriptions=[payload])
    assert rows(Transcription.objects.get(heify_id=payload["transcription_id"])) == [
        (0, "Empathy", False, 2, 1, "scale", Decimal("50"))]
    assert [r[1] for r in rows(Transcription.objects.get(heify_id=other["transcription_id"]))] == ["Greeting"]
    payload["status"], payload["details"] = "FAILED", None
    load(transcriptions=[payload])
    assert rows(Transcription.objects.get(heify_id=payload["transcription_id"])) == []


def test_a_call_gone_from_heify_keeps_its_rows(heify):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    payload = call_payload(evaluator, [{"name": "Greeting", "passed": True}])
    heify.state.load(builders.snapshot(evaluators=[evaluator], transcriptions=[payload]))
    pull.pull()
    heify.state.delete("transcriptions", payload["transcription_id"])
    assert pull.pull()["transcriptions"].gone == 1
    call = Transcription.all_objects.get()
    assert call.gone_at is not None and rows(call) == [(0, "Greeting", True, None, 1, "boolean", Decimal("20"))]


def test_each_call_keeps_the_key_of_its_results_through_the_pull_a_verdict_and_a_change(heify, admin_user):
    """Transcription.results_key, what what-if counts calls by: the same results as Heify gave them (wherever in its
    list), the same key; a verdict leaves it (it changes the results of record, not Heify's); a pull that brings
    other results brings their key; a call gone from Heify keeps its own, as it keeps its rows."""
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    same = [{"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4}]
    first, second = call_payload(evaluator, same), call_payload(evaluator, [same[0], "not a result", same[1]], day=8)
    other = call_payload(evaluator, [{"name": "Greeting", "passed": False}, same[1]], day=9)
    heify.state.load(builders.snapshot(evaluators=[evaluator], transcriptions=[first, second, other]))
    pull.pull()

    def keys():
        return dict(Transcription.all_objects.values_list("heify_id", "results_key"))

    pulled = keys()
    assert pulled[first["transcription_id"]] == pulled[second["transcription_id"]] == criterion_results.results_key(
        parse_criteria_results(same)) != pulled[other["transcription_id"]]
    assert pulled[other["transcription_id"]] == criterion_results.results_key(
        parse_criteria_results(other["details"]["evaluation"]["criteria_results"]))

    reviewed = Transcription.objects.get(heify_id=first["transcription_id"])
    queues.transcription_verdicts_record(transcription_id=reviewed.pk, acting_user=admin_user,
                                         verdicts=[queues.Verdict("Greeting", False, "It did not greet.")])
    assert Transcription.objects.get(pk=reviewed.pk).reviewed_at is not None and keys() == pulled

    other["details"]["evaluation"]["criteria_results"] = same
    heify.state.load(builders.snapshot(transcriptions=[other]))
    heify.state.delete("transcriptions", first["transcription_id"])
    pull.pull()
    assert keys() == {**pulled, other["transcription_id"]: pulled[first["transcription_id"]]}


# --- pinned to the revision that scored the call, and pinned again when that changes -------------------------


def test_a_call_stored_before_its_evaluator_is_pinned_when_the_evaluator_comes(load):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    load(transcriptions=[call_payload(evaluator, [{"name": "Greeting", "passed": True}])])
    assert rows(Transcription.objects.get()) == [(0, "Greeting", True, None, None, "", None)]
    load(evaluators=[evaluator])
    assert rows(Transcription.objects.get()) == [(0, "Greeting", True, None, 1, "boolean", Decimal("20"))]


def test_a_late_pull_of_an_older_change_pins_the_calls_it_scored_and_the_pages_add_their_points_with_it(
        admin_client, load):
    """The bug this guards against: a call's points added with criteria that did not score it (the evaluator's
    current ones, as the review page once did, or a revision a later change took the call from)."""
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    results = [{"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
               {"name": "Resolved", "passed": True}, {"name": "No insults", "passed": True}]
    february, march = call_payload(evaluator, results, month=2), call_payload(evaluator, results, score=88.0)
    load(evaluators=[evaluator], transcriptions=[february, march])
    # Heify changed the weights on 1 March, which the back office learns only now.
    reweighted = [dict(c, weight=w) for c, w in zip(SCORECARD, (40, 30, 30, 0), strict=True)]
    load(evaluators=[{**evaluator, "criteria": reweighted, "updated_at": "2026-03-01T00:00:00+00:00"}])
    old, new = (Transcription.objects.get(heify_id=p["transcription_id"]) for p in (february, march))
    assert [r[4:] for r in rows(old)][:2] == [(1, "boolean", Decimal("20")), (1, "scale", Decimal("50"))]
    assert [r[4:] for r in rows(new)][:2] == [(2, "boolean", Decimal("40")), (2, "scale", Decimal("30"))]
    for call, label, greeting, empathy, total in ((old, "revision 1", "/ 20", "30–50", "80–100"),
                                                  (new, "revision 2", "/ 40", "18–30", "88–100")):
        for url in (reverse("admin:qa_transcription_change", args=[call.pk]),
                    reverse("admin:qa_reviewitem_change", args=[call.pk])):
            page = admin_client.get(url).content.decode()
            assert label in page
            greeting_row = re.search(r'<tr [^>]*data-criterion="Greeting">.*?</tr>', page, re.S).group(0)
            empathy_row = re.search(r'<tr [^>]*data-criterion="Empathy">.*?</tr>', page, re.S).group(0)
            assert greeting in greeting_row and empathy in empathy_row and "Rate 1-5." in empathy_row
            assert total in re.search(r'data-testid="points-total">(.*?)</td>', page, re.S).group(1)


def test_a_change_heify_refuses_leaves_the_calls_pinned_as_before(heify):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    # Completed after any save made now: the revision a save records would score it.
    later = call_payload(evaluator, [{"name": "Greeting", "passed": True}], year=2099)
    heify.state.load(builders.snapshot(evaluators=[evaluator], transcriptions=[later]))
    pull.pull()
    call = Transcription.objects.get()
    assert [r[4:] for r in rows(call)] == [(1, "boolean", Decimal("20"))]
    model = Evaluator.objects.get()
    heify.state.delete("evaluators", model.heify_id)  # gone from Heify meanwhile: the save is refused
    criteria = [{"id": c["id"], "name": c["name"], "description": c["description"], "type": c["type"],
                 "weight": w} for c, w in zip(SCORECARD, (40, 30, 30, 0), strict=True)]
    with pytest.raises(heify_port.Refused):
        services.evaluator_save(evaluator=model, data={"tag": model.tag, "criteria": criteria})
    assert list(model.revisions.values_list("number", flat=True)) == [1]
    assert [r[4:] for r in rows(call)] == [(1, "boolean", Decimal("20"))]


def test_a_change_saved_here_pins_the_calls_it_scores(heify):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    before, later = (call_payload(evaluator, [{"name": "Greeting", "passed": True}], year=year)
                     for year in (2026, 2099))
    heify.state.load(builders.snapshot(evaluators=[evaluator], transcriptions=[before, later]))
    pull.pull()
    model = Evaluator.objects.get()
    criteria = [{"id": c["id"], "name": c["name"], "description": c["description"], "type": c["type"],
                 "weight": w} for c, w in zip(SCORECARD, (40, 30, 30, 0), strict=True)]
    services.evaluator_save(evaluator=model, data={"tag": model.tag, "criteria": criteria})
    pinned = {call.heify_id: [r[4:] for r in rows(call)] for call in Transcription.objects.all()}
    assert pinned == {before["transcription_id"]: [(1, "boolean", Decimal("20"))],
                      later["transcription_id"]: [(2, "boolean", Decimal("40"))]}


# --- the backfill ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_calls_mirrored_before_get_their_results_typed_in_batches(monkeypatch):
    monkeypatch.setattr(importlib.import_module("qa.migrations.0024_criterion_results"), "BATCH", 2)
    apps = migrate(("qa", "0023_job_item_state"))
    try:
        Evaluator_, Revision, Call = (apps.get_model("qa", name)
                                      for name in ("Evaluator", "EvaluatorRevision", "Transcription"))
        scorecard = Evaluator_.objects.create(heify_id="ev-1", tag="Scorecard")
        first = [{"name": "Greeting", "description": "", "type": "boolean", "weight": 20.0},
                 {"name": "Empathy", "description": "", "type": "scale", "weight": 80.0}]
        second = [dict(first[0], weight=50.0), dict(first[1], weight=50.0)]
        Revision.objects.create(evaluator=scorecard, number=1, criteria=first, at=datetime.now(UTC), source="heify")
        Revision.objects.create(evaluator=scorecard, number=2, criteria=second, at=datetime.now(UTC),
                                in_force_from=datetime(2026, 3, 10, tzinfo=UTC), source="heify")
        results = [{"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True, "value": 4}]
        march = {day: datetime(2026, 3, day, 10, tzinfo=UTC) for day in (5, 15)}
        for heify_id, fields in {
            "t-1": {"score": 84, "completed_at": march[5], "criteria_results": results},  # revision 1
            "t-2": {"score": 90, "completed_at": march[15], "criteria_results": results},  # revision 2
            "t-3": {"score": 90, "occurred_at": march[15], "criteria_results": results},  # by its date: 2
            "t-4": {"score": None, "completed_at": march[15], "criteria_results": results},  # no score
            "t-5": {"score": 90, "completed_at": march[15], "criteria_results": {"not": "a list"}},
            "t-6": {"score": 90, "completed_at": march[5], "gone_at": march[15],  # gone: history keeps them
                    "criteria_results": ["Greeting", {"name": 7}, {"name": "Greeting", "passed": False}]},
            "t-7": {"score": 90, "completed_at": march[5], "evaluator_id": "ev-missing", "criteria_results": results},
        }.items():
            Call.objects.create(**{"heify_id": heify_id, "status": "COMPLETED", "evaluator_id": "ev-1", **fields})
        Result = migrate(("qa", "0024_criterion_results")).get_model("qa", "CriterionResult")
        typed = {}
        for heify_id, *row in Result.objects.order_by("transcription__heify_id", "position").values_list(
                "transcription__heify_id", "position", "name", "passed", "value", "revision", "type", "weight"):
            typed.setdefault(heify_id, []).append(tuple(row))
        assert typed == {
            "t-1": [(0, "Greeting", True, None, 1, "boolean", 20), (1, "Empathy", True, 4, 1, "scale", 80)],
            "t-2": [(0, "Greeting", True, None, 2, "boolean", 50), (1, "Empathy", True, 4, 2, "scale", 50)],
            "t-3": [(0, "Greeting", True, None, 2, "boolean", 50), (1, "Empathy", True, 4, 2, "scale", 50)],
            "t-4": [(0, "Greeting", True, None, None, "", None), (1, "Empathy", True, 4, None, "", None)],
            "t-6": [(2, "Greeting", False, None, 1, "boolean", 20)],
            "t-7": [(0, "Greeting", True, None, None, "", None), (1, "Empathy", True, 4, None, "", None)],
        }
    finally:
        migrate()


# --- the readers read the rows: behaviour as before, query counts pinned --------------------------------------


@pytest.fixture
def scored(load):
    """Four calls of one evaluator: one result says nothing of Resolved (no `passed`)."""
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    calls = [call_payload(evaluator, [
        {"name": "Greeting", "passed": n % 2 == 0}, {"name": "Empathy", "passed": True, "value": 3 + n % 3},
        {"name": "Resolved"} if n == 0 else {"name": "Resolved", "passed": True},
        {"name": "No insults", "passed": True}], score=float(56 + 20 * (n % 2 == 0) + 10 * (n % 3)), day=n + 1,
        group="PENDING_REVIEW", name=f"call {n}") for n in range(4)]
    load(evaluators=[evaluator], transcriptions=calls)
    return Evaluator.objects.get()


def test_a_verdict_on_a_result_that_says_nothing_counts_as_without_ai_result(scored):
    ann = person("ann", "Reviewer")
    call = Transcription.objects.get(name="call 0")
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann, verdicts=[
        queues.Verdict("Resolved", passed=True), queues.Verdict("Greeting", True)])
    with pytest.raises(queues.VerdictRefused, match="no result for 'Hold'"):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict("Hold", True)])
    data = agreement.evaluator_agreement(evaluator=scored)
    assert data["verdicts_without_ai_result"] == 1
    assert [(c["name"], c["table"]["ai_pass_reviewer_pass"]) for c in data["criteria"]] == [("Greeting", 1)]


def test_calibration_scores_every_result_and_the_ai_only_where_it_said(scored, django_assert_num_queries):
    calls = list(Transcription.objects.order_by("occurred_at"))
    assert calibration.call_criteria(calls[0]) == ["Greeting", "Empathy", "Resolved", "No insults"]
    assert calibration._ai_verdicts(calls[0]) == {"Greeting": True, "Empathy": True, "No insults": True}
    reviewers = [person("ann", "Reviewer"), person("bob", "Reviewer")]
    assert all(policy.is_reviewer(r) for r in reviewers)  # their permissions, read once
    with django_assert_num_queries(1):  # the calls' results, all at once
        calibration.clean_session(calls=calls, reviewers=reviewers)


def test_the_calibration_pages_cost_the_same_whatever_the_calls(client, load):
    evaluator = builders.evaluator_payload(criteria=SCORECARD)
    results = [{"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": False}]
    load(evaluators=[evaluator], transcriptions=[call_payload(evaluator, results, day=n + 1) for n in range(6)])
    ann, bob, max_ = person("ann", "Reviewer"), person("bob", "Reviewer"), person("max", "QA manager")
    counts = []
    for size in (2, 6):
        session = calibration.calibration_session_create(
            name=f"{size}", calls=Transcription.objects.order_by("occurred_at")[:size], reviewers=[ann, bob],
            acting_user=max_)
        for rater, answer, value in ((ann, True, 4), (bob, False, 2)):  # Empathy is on the scale: a value
            calibration.calibration_answers_save(session=session, rater=rater, submit=True, answers={
                (call.pk, name): given for call in session.calls.all()
                for name, given in (("Greeting", answer), ("Empathy", value))})
        client.force_login(max_)
        with CaptureQueriesContext(connection) as results_page:
            assert client.get(reverse("admin:qa_calibrationsession_results", args=[session.pk])).status_code == 200
        counts.append(len(results_page.captured_queries))
    assert counts[0] == counts[1], counts


def test_what_if_reads_the_results_in_one_query_whatever_the_calls(scored, load, django_assert_num_queries):
    criteria = [{"name": c["name"], "description": "", "type": c["type"].lower(), "weight": w}
                for c, w in zip(SCORECARD, (30, 40, 30, 0), strict=True)]
    with django_assert_num_queries(1):  # the calls, grouped by their results as scored
        before = whatif.evaluator_what_if(evaluator=scored, criteria=criteria)
    assert before["calls"] == 4 and before["inexact_calls"] == 0  # each value carried by its result
    # Greeting 30 when passed, Empathy value/5 × 40, Resolved 30 (the first call's says nothing: not evaluated):
    # 30 + 24, 0 + 32 + 30, 30 + 40 + 30, 0 + 24 + 30.
    assert before["avg_score_after"] == (54 + 62 + 100 + 54) / 4
    assert [(row["name"], row["calls"]) for row in before["not_evaluated"]] == [("Resolved", 1)]


def test_the_export_reads_each_batch_of_calls_results_in_one_query(admin_client, scored, monkeypatch):
    url = reverse("admin:qa_transcription_export", args=["csv"]) + f"?evaluator__heify_id__exact={scored.heify_id}"

    def export():
        with CaptureQueriesContext(connection) as queries:
            body = b"".join(admin_client.get(url).streaming_content).decode("utf-8-sig")
        return body, len(queries.captured_queries)

    body, few = export()
    header, *lines = csv.reader(io.StringIO(body))
    ai_columns = [f"{name} (AI)" for name in ("Greeting", "Empathy", "Resolved", "No insults")]
    assert [name for name in header if name.endswith(" (AI)")] == ai_columns
    row = {line[0]: dict(zip(header, line, strict=True)) for line in lines}["call 0"]
    assert [row[column] for column in ai_columns] == ["Passed", "Passed (3/5)", "", "Passed"]
    monkeypatch.setattr(spreadsheets, "BATCH", 1)  # two calls a batch: one query more per batch
    assert export()[1] == few + 1
