"""The report's query (qa/insights/report_query.py): the database's form (PostgreSQL's one statement, or
SQLite's rows aggregated in Python; the suite runs on both) gives the same report as Heify's payloads read by
the emulator's form, and its query count does not grow with the calls. The data helpers are the report
tests' own (tests/qa/insights/test_analytics.py)."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from qa.insights import analytics
from qa.mirror.models import Participant
from syncer import demo
from syncer.emulator import participant_report_from_payloads
from tests import builders
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
    # PostgreSQL: the statement's settings, then the one statement. The fallback: the included calls (one read of
    # their rows), then the failed criteria's ids.
    with django_assert_num_queries(2):
        data = analytics.participant_report(participant, as_of=AS_OF)
    assert data["metadata"]["total_records_analyzed"] == count
