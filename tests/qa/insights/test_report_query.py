"""The report's query (qa/insights/report_query.py): the database's form (PostgreSQL's one statement, or
SQLite's rows aggregated in Python; the suite runs on both) gives the same report as Heify's payloads read by
the emulator's form, on either score, and its query count does not grow with the calls. The data helpers are the report
tests' own (tests/qa/insights/test_analytics.py)."""

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from qa.db import on_postgresql
from qa.insights import analytics
from qa.insights.report import build_report, criteria_by_evaluator, report_window, review_section
from qa.insights.report_query import inputs_from_db, inputs_from_parsed
from qa.mirror.models import Participant, Transcription
from qa.mirror.report_rules import ReportSettings
from syncer import demo, mirror
from syncer.emulator import participant_report_from_payloads
from tests import builders
from tests.qa.insights.conftest import review
from tests.qa.insights.test_analytics import AS_OF, GROUPS, as_json, call, march, report

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query_limit", [20_000, 15])
def test_payloads_give_the_same_report_as_the_database(load, settings, query_limit):
    settings.ANALYTICS_QUERY_LIMIT = query_limit
    now = datetime(2026, 3, 21, 12, tzinfo=UTC)
    account = demo.generate(seed=3, transcriptions=300, now=now)
    load(**account)
    compared = 0
    for participant in account["participants"]:
        ours = analytics.participant_report(Participant.objects.get(heify_id=participant["participant_id"]),
                                            as_of=now.date())
        theirs = participant_report_from_payloads(
            participant["participant_id"], account["transcriptions"], account["evaluators"], now,
        )
        ours["metadata"].pop("generated_at"), theirs["metadata"].pop("generated_at")
        assert ours == theirs
        compared += ours["metadata"]["total_records_analyzed"] > 0
    assert compared >= 3


@pytest.mark.parametrize(("seed", "query_limit"), [(1, 20_000), (2, 20_000), (3, 40)])
def test_awkward_calls_give_the_same_report_from_the_database_and_from_payloads(load, agent, settings, seed,
                                                                                 query_limit):
    """On PostgreSQL the database aggregates (one SQL statement), elsewhere Python does: each must equal (c)."""
    settings.ANALYTICS_QUERY_LIMIT = query_limit
    rng = random.Random(seed)
    evaluators = [builders.evaluator_payload(tag=tag) for tag in ("Zeta", "Alpha", "Alpha")]
    gone = builders.evaluator_payload(tag="Gone")  # never loaded
    names = ["Greeting", "Issue resolved", "No offensive language", "Unknown to all"]
    calls = []
    for i in range(120):
        when = datetime(2026, 1, 25, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 56 * 86400))
        if i % 3:
            when = when.replace(microsecond=rng.randrange(1_000_000))
        if i % 17 == 0 and calls:  # the same instant as another call: the id breaks the tie
            when = datetime.fromisoformat(calls[-1]["created_at"])
        score = rng.choice([20, 20.5, 40, 100, 0, 60, 60.05, round(rng.uniform(0, 100), rng.choice([0, 1, 3]))])
        duration = rng.choice([None, 542.5, 542.4999, 600.0, round(rng.uniform(30, 900), rng.choice([0, 1, 2]))])
        calls.append(call(
            agent, when=when.isoformat(), score=score, duration=duration, critical=rng.random() < 0.2,
            evaluator=rng.choice([*evaluators, gone, None]), group=rng.choice([None, *GROUPS]),
            failed=rng.sample(names, rng.randrange(3)), status="COMPLETED" if i % 13 else "FAILED",
        ))
    load(evaluators=evaluators, transcriptions=calls)
    reached = []
    for as_of in (date(2026, 3, 21), date(2026, 2, 28), date(2026, 2, 1)):
        theirs = participant_report_from_payloads(
            agent["participant_id"], calls, evaluators, datetime(2026, 3, 21, tzinfo=UTC), as_of=as_of,
        )
        ours = report(agent, as_of)
        theirs["metadata"].pop("generated_at")
        assert as_json(ours) == as_json(theirs)
        reached.append(ours["metadata"]["query_limit_reached"])
    assert reached[0] == (query_limit == 40) and not reached[-1]


@pytest.mark.parametrize("count", [3, 60])
def test_query_count_does_not_grow_with_the_calls(load, agent, django_assert_num_queries, count):
    evaluators = [builders.evaluator_payload() for _ in range(3)]
    load(evaluators=evaluators)
    load(transcriptions=[
        call(agent, when=march(1 + i % 20, f"{10 + i % 7}:00:00"), score=(37 * i) % 101, evaluator=evaluators[i % 3],
             duration=60.0 + i, critical=i % 5 == 0, group="PENDING_REVIEW" if i % 4 == 0 else None,
             failed=["Greeting"] if i % 2 else [])
        for i in range(count)
    ])
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    # PostgreSQL: the statement's settings, then the one statement. SQLite: its one statement.
    with django_assert_num_queries(2 if on_postgresql() else 1):
        data = analytics.participant_report(participant, as_of=AS_OF)
    assert data["metadata"]["total_records_analyzed"] == count


# --- the three forms on the reviewed score -------------------------------------------------------------------


REVIEWED_COLUMNS = ("reviewed_score", "reviewed_critical", "reviewed_failed_criteria", "reviewed_at")


def parsed_with_reviews(payloads: list[dict]) -> list[dict]:
    """(c)'s rows: Heify's JSON read by the upsert's parser, with the score of record the mirror keeps for each
    (Heify's JSON has none)."""
    kept = {row["heify_id"]: row for row in Transcription.objects.values("heify_id", *REVIEWED_COLUMNS)}
    rows = [mirror.parse_transcription(payload)[0] for payload in payloads]
    return [{**row, **{column: kept[row["heify_id"]][column] for column in REVIEWED_COLUMNS}} for row in rows]


@pytest.mark.parametrize(("seed", "query_limit"), [(4, 20_000), (5, 30)])
def test_the_three_forms_agree_on_the_reviewed_score(load, agent, settings, seed, query_limit):
    """PostgreSQL's statement or SQLite's rows (whichever database runs the suite) and the emulator's form give the
    same report on the reviewed score, and compare both scores the same way."""
    settings.ANALYTICS_QUERY_LIMIT = query_limit
    rng = random.Random(seed)
    evaluators = [builders.evaluator_payload(tag=tag) for tag in ("Billing", "Sales")]
    calls = []
    for _ in range(60):
        when = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 48 * 86400))
        greeting, resolved = rng.random() < 0.5, rng.random() < 0.7
        score = 20 * greeting + 80 * resolved
        calls.append(call(agent, when=when.isoformat(), score=score, evaluator=rng.choice(evaluators),
                          duration=rng.choice([None, 60.0, round(rng.uniform(30, 900), 1)]),
                          group=rng.choice([None, *GROUPS]), critical=False,
                          failed=[name for name, passed in (("Greeting", greeting), ("Issue resolved", resolved))
                                  if not passed]))
    load(evaluators=evaluators, transcriptions=calls)
    reviewed = rng.sample([c for c in calls if c["group"] != "ARCHIVED"], 15)  # an archived call takes no verdict
    for payload in reviewed:
        review(payload["transcription_id"], {rng.choice(["Greeting", "Issue resolved", "No offensive language"]):
                                             rng.random() < 0.5})
    assert Transcription.objects.filter(reviewed_at__isnull=False).count() == 15
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    parsed = parsed_with_reviews(calls)
    parsed_evaluators = [mirror.parse_evaluator(e) for e in evaluators]
    now = datetime(2026, 3, 21, tzinfo=UTC)
    differs = 0
    for as_of in (date(2026, 3, 21), date(2026, 2, 20)):
        ours = analytics.participant_report(participant, as_of=as_of, score="reviewed")
        theirs = analytics.participant_report_from_parsed(agent["participant_id"], parsed, parsed_evaluators, now,
                                                          as_of=as_of, score="reviewed")
        ours["metadata"].pop("generated_at"), theirs["metadata"].pop("generated_at")
        assert as_json(ours) == as_json(theirs)
        ai = analytics.participant_report(participant, as_of=as_of)
        differs += ai["kpis"] != ours["kpis"]
        # Both scores compared, by the database's form and by (c)'s.
        config, window = ReportSettings.current(), report_window(as_of)
        from_db = inputs_from_db(agent["participant_id"], window, config, compare=True).review
        from_rows = inputs_from_parsed(agent["participant_id"], parsed, parsed_evaluators, window, config,
                                       compare=True).review
        assert review_section(from_db) == review_section(from_rows)
        assert review_section(from_db)["all_calls"]["ai"] == {
            key: ai["kpis"][name] for key, name in (("calls", "total_calls"), ("avg_score", "avg_score"),
                                                   ("pass_rate", "pass_rate"))}
        assert from_db.record.calls == ours["kpis"]["total_calls"] and from_db.reviewed > 0
    assert differs  # the reviews did change the figures
    # Heify's own JSON says nothing of reviews: (c) without the mirror's columns is the AI's report.
    plain = analytics.participant_report_from_parsed(
        agent["participant_id"], [mirror.parse_transcription(c)[0] for c in calls], parsed_evaluators, now,
        as_of=date(2026, 3, 21))
    plain["metadata"].pop("generated_at")
    heifys = analytics.participant_report(participant, as_of=date(2026, 3, 21))
    heifys["metadata"].pop("generated_at")
    assert as_json(plain) == as_json(heifys)


@pytest.mark.parametrize("count", [3, 60])
def test_the_reviewed_score_costs_the_same_queries(load, agent, django_assert_num_queries, count):
    evaluator = builders.evaluator_payload()
    load(evaluators=[evaluator])
    calls = [call(agent, when=march(1 + i % 20), score=80, evaluator=evaluator, failed=["Greeting"])
             for i in range(count)]
    load(transcriptions=calls)
    review(calls[0]["transcription_id"], {"Issue resolved": False})
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    with django_assert_num_queries(2 if on_postgresql() else 1):
        data = analytics.participant_report(participant, as_of=AS_OF, score="reviewed")
    assert data["kpis"]["total_calls"] == count and data["metadata"]["score"] == "reviewed"


# --- the database's form against the reference aggregation, over every kind of call ---------------------------


AWKWARD_SCORES = [0, 20, 20.5, 40, 49.99999, 50, 59.95, 60, 60.05, 100, 1 / 3 * 100, 2 / 3 * 100, 0.1 + 0.2, 81.25]
AWKWARD_DURATIONS = [None, None, 0.0, 1e-07, 542.5, 542.4999999, 600.0, 3600.9999995, 185.4]


@pytest.mark.parametrize(("seed", "query_limit"), [(6, 20_000), (7, 25)])
def test_the_database_form_equals_the_reference_over_every_kind_of_call(load, agent, settings, seed, query_limit):
    """The database's form (PostgreSQL's statement or SQLite's, whichever runs the suite) against the reference:
    report.inputs_from_calls over the same calls given as rows (c), figure for figure, as a client reads them.
    Nulls (no duration, no evaluator, no group), ties (the same instant, the same duration), awkward numbers
    (thirds, 0.1 + 0.2, halves at every rounding), an evaluator with one call and one the mirror does not know,
    calls gone from Heify, a capped participant, calls left out (a reader's blind ones), both scores, and the
    dashboard's cut and comparison."""
    settings.ANALYTICS_QUERY_LIMIT = query_limit
    rng = random.Random(seed)
    evaluators = [builders.evaluator_payload(tag=tag) for tag in ("Sales", "Billing", "Sales")]
    lone = builders.evaluator_payload(tag="Lone")  # one call: no spread
    unknown = builders.evaluator_payload(tag="Gone")  # never loaded
    names = ["Greeting", "Issue resolved", "No offensive language", "Unknown to all"]
    calls = []
    for i in range(140):
        when = datetime(2026, 1, 25, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 56 * 86400))
        if i % 3:
            when = when.replace(microsecond=rng.randrange(1_000_000))
        if i % 11 == 0 and calls:  # the same instant as another call: the id breaks the tie
            when = datetime.fromisoformat(calls[-1]["created_at"])
        if i in (5, 6):  # on the months' edges
            when = datetime(2026, 3, 1, tzinfo=UTC) - timedelta(microseconds=i - 5)
        calls.append(call(
            agent, when=when.isoformat(), score=rng.choice(AWKWARD_SCORES + [round(rng.uniform(0, 100), 2)]),
            duration=rng.choice(AWKWARD_DURATIONS), critical=rng.random() < 0.2,
            evaluator=lone if i == 7 else rng.choice([*evaluators, unknown, None]), group=rng.choice([None, *GROUPS]),
            failed=rng.sample(names, rng.randrange(3)), status="COMPLETED" if i % 13 else "FAILED",
        ))
    load(evaluators=[*evaluators, lone], transcriptions=calls)
    completed = [c for c in calls if c["status"] == "COMPLETED"]
    known = {e["evaluator_id"] for e in (*evaluators, lone)}
    for payload in rng.sample([c for c in completed if c["group"] != "ARCHIVED" and c["evaluator_id"] in known], 14):
        review(payload["transcription_id"], {name: rng.random() < 0.5 for name in rng.sample(names[:3], 2)})
    gone = {c["transcription_id"] for c in rng.sample(completed, 6)}
    assert Transcription.objects.filter(heify_id__in=gone).update(gone_at=datetime(2026, 3, 20, tzinfo=UTC)) == 6
    blind = frozenset(c["transcription_id"] for c in rng.sample(completed, 7))
    parsed = parsed_with_reviews([c for c in calls if c["transcription_id"] not in gone])
    parsed_evaluators = [mirror.parse_evaluator(e) for e in (*evaluators, lone)]
    config, now = ReportSettings.current(), datetime(2026, 3, 21, 12, tzinfo=UTC)
    compared = reached = 0
    for as_of in (date(2026, 3, 21), date(2026, 2, 28), date(2026, 1, 31)):
        window = report_window(as_of)
        for score in ("ai", "reviewed"):
            for leave_out in (frozenset(), blind):
                rows = [row for row in parsed if row["heify_id"] not in leave_out]
                reference = inputs_from_parsed(agent["participant_id"], rows, parsed_evaluators, window, config,
                                               score=score, compare=True)
                for shown in (None, config.trend_sample):
                    ours = inputs_from_db(agent["participant_id"], window, config, shown, leave_out, score=score,
                                          compare=True)
                    expected = reference if shown is None else dataclasses.replace(
                        reference, raw_data=reference.raw_data[:shown])
                    assert as_json(build_report(ours, generated_at=now, config=config, score=score)) == as_json(
                        build_report(expected, generated_at=now, config=config, score=score)), (as_of, score, shown)
                    assert as_json(criteria_by_evaluator(ours)) == as_json(criteria_by_evaluator(expected))
                    assert as_json(review_section(ours.review)) == as_json(review_section(expected.review))
                    compared += ours.totals.overall.calls > 0
                    reached += ours.query_limit_reached
    assert compared >= 16 and bool(reached) == (query_limit == 25)
