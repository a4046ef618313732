"""Each function that has an SQLite and a PostgreSQL form (qa/db.py lists them) gives what the other form would.

Each test runs the function on the current database and checks the result against what it must be, stated
without either form (a rule in Python, the ORM's plain query, or the same function's other path); the suite runs
on SQLite and on PostgreSQL in CI, so both forms are checked. The participant report's two forms are compared
with each other and with the emulator's in tests/qa/insights/test_report_query.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from itertools import product

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

from qa import db
from qa.insights import analytics, team
from qa.mirror import criterion_results, report_rules, rollups
from qa.mirror.call_search import calls_matching
from qa.mirror.models import DailyCalls, Participant, Transcription
from qa.reviews import exports
from syncer import mirror
from tests import builders

pytestmark = pytest.mark.django_db


def test_the_dialect_is_the_configured_databases_and_no_other_is_served(monkeypatch):
    engine = settings.DATABASES["default"]["ENGINE"]
    assert db.dialect() == {"django.db.backends.postgresql": "postgresql",
                            "django.db.backends.sqlite3": "sqlite"}[engine]
    assert db.on_postgresql() is (engine == "django.db.backends.postgresql")
    monkeypatch.setattr(connection, "vendor", "mysql")  # Django's, not ours: a database we have no form for
    with pytest.raises(ImproperlyConfigured, match="'default' is mysql: .* PostgreSQL or SQLite only"):
        db.on_postgresql()


# --- the call search (qa/mirror/call_search.py) --------------------------------------------------------------


@pytest.fixture
def searchable(load):
    """Calls whose names, configurations, agents and evaluators share and differ in words."""
    line, renewals = builders.configuration_payload(tag="Support line"), builders.configuration_payload(tag="Renewals")
    card = builders.evaluator_payload(tag="Scorecard B")
    alice, bob = builders.participant_payload(tag="Alice Agent"), builders.participant_payload(tag="Bob O'Neil")
    names = ["Call 0012.mp3", "call-0001.mp3", "RENEWAL call 50% off.mp3", "x.mp3", None, "Calling Alice.mp3",
             "ab.mp3", "Call 0012 again.mp3"]
    calls = [
        builders.transcription_payload(configuration=(line, renewals)[n % 2], evaluator=card if n % 3 else None,
                                       participant=(alice, bob, None)[n % 3], name=name)
        for n, name in enumerate(names)
    ]
    missing = builders.participant_payload()  # deleted in Heify, or not synced yet: never loaded
    calls.append(builders.transcription_payload(name="dangling.mp3", participant=missing))
    load(configurations=[line, renewals], evaluators=[card], participants=[alice, bob], transcriptions=calls)
    return {"calls": calls, "missing": missing}


def found_by_the_rule(term: str) -> set[str]:
    """What the search box finds, in Python: calls where every word (a quoted phrase is one) is in the call's
    name or configuration tag, or its agent's or evaluator's name (any case), or is one of their whole Heify ids."""
    words = [unescape_string_literal(w) if w[:1] in ('"', "'") and w[0] == w[-1] else w for w in smart_split(term)]
    found = set()
    for call in Transcription.objects.select_related("participant", "evaluator"):
        texts = [call.name, call.configuration_tag, call.participant and call.participant.tag,
                 call.evaluator and call.evaluator.tag]
        if all(any(word.lower() in (text or "").lower() for text in texts)
               or word in (call.heify_id, call.participant_id, call.evaluator_id) for word in words):
            found.add(call.heify_id)
    return found


def found_by_the_search(term: str) -> set[str]:
    return set(Transcription.objects.filter(calls_matching(term)).values_list("heify_id", flat=True))


SEARCHES = [
    "", "call", "CALL", "Call 0012", "0012 call", '"call 00"', '"Call 0012 again"', "al", "ab", "x", "50%", "%",
    "_", "renewal CALL", "alice", "ice line", "scorecard b", '"scorecard b" call', "bob o'neil", '"o\'neil"',
    "0012 0001", "nothing-like-it", "call nothing-like-it",
]


@pytest.mark.parametrize("term", SEARCHES)
def test_the_call_search_finds_what_its_rule_says(searchable, term):
    assert found_by_the_search(term) == found_by_the_rule(term)


def test_the_rule_the_search_is_checked_against_is_not_vacuous(searchable):
    everything = set(Transcription.objects.values_list("heify_id", flat=True))
    assert found_by_the_rule("") == everything
    assert 1 < len(found_by_the_rule("call")) < len(everything)
    assert found_by_the_rule("nothing-like-it") == set() == found_by_the_search("nothing-like-it")
    calls = {payload["name"]: payload["transcription_id"] for payload in searchable["calls"]}
    assert found_by_the_search('"Call 0012"') == {calls["Call 0012.mp3"], calls["Call 0012 again.mp3"]}
    assert found_by_the_search("50%") == {calls["RENEWAL call 50% off.mp3"]}  # % is a character, not a wildcard


def test_the_call_search_finds_a_call_by_each_whole_heify_id(searchable):
    call = Transcription.objects.get(name="call-0001.mp3")  # with an agent and an evaluator
    for heify_id in (call.heify_id, call.participant_id, call.evaluator_id):
        assert call.heify_id in found_by_the_search(heify_id) == found_by_the_rule(heify_id)
    dangling = Transcription.objects.get(name="dangling.mp3")
    missing = searchable["missing"]["participant_id"]
    assert found_by_the_search(missing) == {dangling.heify_id}  # an agent that is not in the back office
    assert found_by_the_search(call.heify_id[:-1]) == set()  # a Heify id matches whole only


def test_the_call_search_follows_a_rename(searchable, load):
    payload = next(p for p in searchable["calls"] if p["name"] == "x.mp3")
    load(transcriptions=[{**payload, "name": "Escalation.mp3"}])
    for term in ("escalation", "x.mp3", "Escal call", "escalation x"):
        assert found_by_the_search(term) == found_by_the_rule(term)
    assert found_by_the_search("escalation") == {payload["transcription_id"]}


# --- the team trend's newest calls (qa.insights.team._newest_scores) ------------------------------------------


def test_each_participants_newest_scores_are_the_orms_newest_scored_calls(load):
    agents = [builders.participant_payload(tag=f"Agent {n}") for n in range(3)]
    calls = []
    for (n, agent), day in product(enumerate(agents[:2]), range(1, 7)):
        calls.append(builders.transcription_payload(
            participant=agent, name=f"{n}-{day}", created_at=f"2026-03-{day:02d}T10:00:00+00:00"))
        calls[-1]["details"]["evaluation"]["score"] = 10 * day + n
    for agent, hour in product(agents[:1], range(3)):  # the same moment: the newest by Heify id
        calls.append(builders.transcription_payload(participant=agent, created_at="2026-03-05T12:00:00+00:00"))
        calls[-1]["details"]["evaluation"]["score"] = 90 + hour
    unscored = builders.transcription_payload(participant=agents[0], created_at="2026-03-06T12:00:00+00:00")
    unscored["details"]["evaluation"]["score"] = None
    calls += [
        unscored,
        builders.transcription_payload(participant=agents[0], status="FAILED", details=None,
                                       created_at="2026-03-06T12:00:00+00:00"),  # not completed
        builders.transcription_payload(participant=agents[1], created_at="2026-03-08T00:00:00+00:00"),  # after
        builders.transcription_payload(participant=builders.participant_payload()),  # no such participant here
    ]
    load(participants=agents, transcriptions=calls)
    end = datetime(2026, 3, 8, tzinfo=UTC)

    for sample in (1, 3, 20):
        expected = {}
        for participant_id in Participant.all_objects.exclude(heify_id=None).values_list("heify_id", flat=True):
            scores = list(Transcription.objects.filter(
                participant_id=participant_id, status=report_rules.COMPLETED, score__isnull=False,
                occurred_at__lt=end,
            ).order_by("-occurred_at", "-heify_id").values_list("score", flat=True)[:sample])
            if scores:
                expected[participant_id] = scores
        assert dict(team._newest_scores(end, sample)) == expected
        assert len(expected) == 2 and len(expected[agents[0]["participant_id"]]) == min(sample, 9)


# --- the streaming read (qa.db.streaming_read) ----------------------------------------------------------------


def test_a_streamed_read_gives_the_rows_a_plain_read_gives(load):
    load(transcriptions=[builders.transcription_payload(name=f"call {n}") for n in range(7)])
    calls = Transcription.objects.order_by("-occurred_at", "-heify_id").values_list("heify_id", "name", "score")
    with db.streaming_read(calls.db):
        streamed = list(calls.iterator(chunk_size=2))
    assert streamed == list(calls) and len(streamed) == 7
    table = exports.calls_table(Transcription.objects.order_by("name"), review_url=str, blind_call_ids=())
    assert [row[0] for row in table.rows] == [f"call {n}" for n in range(7)]


@pytest.mark.django_db(transaction=True)
def test_a_writer_is_not_stopped_while_a_streamed_read_is_read(load):
    """SQLite would take the write lock for a transaction (IMMEDIATE): the streamed read must not open one."""
    load(transcriptions=[builders.transcription_payload(name=f"call {n}") for n in range(5)])
    written = []

    def another_writer():
        try:
            load(transcriptions=[builders.transcription_payload(name="written meanwhile")])
            written.append(True)
        finally:
            connections.close_all()

    calls = Transcription.objects.order_by("name").values_list("name", flat=True)
    with db.streaming_read(calls.db):
        rows = calls.iterator(chunk_size=2)
        first = next(rows)
        writer = threading.Thread(target=another_writer)
        writer.start()
        writer.join(60)
        rest = list(rows)
    assert written == [True]
    assert [first, *rest][:5] == [f"call {n}" for n in range(5)]


# --- the planner's hint (qa.db.rare_hinted) -------------------------------------------------------------------


def test_a_rare_hinted_filter_keeps_the_same_rows(load):
    card = builders.evaluator_payload()
    load(evaluators=[card], transcriptions=[
        builders.transcription_payload(name=f"call {n}", evaluator=card if n % 4 else None) for n in range(9)])
    for condition in ({"evaluator__isnull": True}, {"evaluator__isnull": False}):
        plain = Transcription.objects.filter(**condition)
        hinted = db.rare_hinted(plain, Q(**condition))
        assert set(hinted.values_list("name", flat=True)) == set(plain.values_list("name", flat=True))
    assert Transcription.objects.filter(evaluator__isnull=True).count() == 3


# --- the roll-ups' bucket lock (qa.mirror.rollups._lock) ------------------------------------------------------


def test_the_rollups_kept_by_each_write_are_a_recount_of_the_calls(load):
    agents = [builders.participant_payload() for _ in range(2)]
    calls = [builders.transcription_payload(participant=agents[n % 2], created_at=f"2026-03-0{1 + n % 3}T10:00Z")
             for n in range(8)]
    load(participants=agents, transcriptions=calls)  # each bucket locked (PostgreSQL) and recounted
    calls[0]["group"], calls[3]["details"]["evaluation"]["score"] = "ARCHIVED", 20
    load(transcriptions=[calls[0], calls[3]])

    def stored():
        return sorted(DailyCalls.objects.values_list("participant_id", "day", "group", "calls", "scored", "passed"),
                      key=repr)

    kept = stored()
    assert rollups.rebuild() == len(kept) and stored() == kept
    assert sum(row[3] for row in kept) == 8 and {row[1] for row in kept} == {date(2026, 3, d) for d in (1, 2, 3)}


# --- the dashboard's cache (qa.insights.analytics.participant_dashboard) --------------------------------------


def test_the_dashboard_is_the_report_whether_kept_or_not(load):
    card, agent = builders.evaluator_payload(tag="Card"), builders.participant_payload(tag="Dana")
    calls = [builders.transcription_payload(evaluator=card, participant=agent, created_at=f"2026-03-0{d}T10:00Z")
             for d in range(1, 6)]
    load(evaluators=[card], participants=[agent], transcriptions=calls)
    participant = Participant.objects.get(heify_id=agent["participant_id"])
    as_of = date(2026, 3, 31)

    def figures(report: dict) -> dict:
        """All but when it was computed, and raw_data cut as the dashboard cuts it."""
        return {**report, "metadata": None, "raw_data": report["raw_data"][:3]}

    first = analytics.participant_dashboard(participant, as_of=as_of, calls_shown=3)
    kept = analytics.participant_dashboard(participant, as_of=as_of, calls_shown=3)  # PostgreSQL: from the cache
    assert figures(kept[0]) == figures(first[0]) == figures(analytics.participant_report(participant, as_of=as_of))
    assert kept[1] == first[1] and first[1]
    calls[4]["details"]["evaluation"]["score"] = 5
    load(transcriptions=[calls[4]])
    changed = analytics.participant_dashboard(participant, as_of=as_of, calls_shown=3)
    assert figures(changed[0]) == figures(analytics.participant_report(participant, as_of=as_of)) != figures(first[0])


# --- a call's results as one value (qa.mirror.criterion_results.results_pattern) ------------------------------


def test_a_calls_results_pattern_holds_its_rows_as_the_orm_reads_them(load):
    evaluator = builders.evaluator_payload()
    odd = [{"name": "Greeting", "passed": True}, "not a result", {"name": "Issue resolved"},
           {"name": "Empathy", "passed": False, "value": 2}, {"name": 'Quote "and" comma, é', "passed": True}]
    calls = [builders.transcription_payload(evaluator=evaluator), builders.transcription_payload(evaluator=evaluator),
             builders.transcription_payload(evaluator=evaluator, status="FAILED", details=None)]
    calls[1]["details"]["evaluation"]["criteria_results"] = odd
    load(evaluators=[evaluator], transcriptions=calls)
    patterns = dict(Transcription.objects.annotate(p=criterion_results.results_pattern()).values_list("pk", "p"))
    for call in Transcription.objects.all():
        rows = tuple((r.name, r.passed, r.value, r.type, None if r.weight is None else float(r.weight))
                     for r in call.criterion_results.all())
        assert criterion_results.pattern(patterns[call.pk]) == rows
    assert len({patterns[c.pk] for c in Transcription.objects.all()}) == 3  # the failed call's: None


# --- the upsert's batch write and clock (syncer.mirror.insert_rows, heify_clock) ------------------------------


def test_the_batch_write_stores_each_value_as_parsed(load):
    odd = builders.transcription_payload(name="Ünïcode ☎ call", duration=None, group="PENDING_REVIEW")
    odd["details"]["evaluation"].update(score=33.25, critical_fail_triggered=True)
    odd["details"]["fields"]["fields"] = [{"name": "nested", "value": {"a": [1, None, "ü"]}}]
    plain = builders.transcription_payload(name=None, details=None, status="FAILED",
                                           error={"code": "X", "message": "ç"})
    for round_ in range(2):  # inserted, then updated in place
        if round_:
            odd["name"], odd["details"]["evaluation"]["score"] = "renamed", None
        parsed = mirror.parse_batch("transcriptions", [odd, plain])
        load(transcriptions=[odd, plain])
        for row, _ in parsed:
            stored = Transcription.objects.filter(heify_id=row["heify_id"]).values(*row).get()
            assert stored == row
    assert Transcription.objects.count() == 2


def test_the_heify_clock_is_an_aware_clock_that_does_not_go_back():
    readings = [mirror.heify_clock() for _ in range(3)]
    assert all(reading.utcoffset() is not None for reading in readings)
    assert readings == sorted(readings)


# The pull's lock (syncer.pull.pull_lock, both forms) is tested where the pull is: tests/syncer/test_pull.py
# (a second pull refused while one runs; a dead pull's lock taken over).
