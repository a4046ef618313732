"""What keeps the screens fast with a million calls: fixed query counts, capped counts, indexed search, roll-ups.

benchmarks/screens.py times the screens on big tables; these tests pin what
must not come back: a query per row (every screen of the benchmark, at two
table sizes), a COUNT(*) of the whole list, a search that joins and scans,
and roll-ups that drift from the calls they count.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qa.db import on_postgresql
from qa.insights import team
from qa.insights.analytics import participant_dashboard, participant_report
from qa.mirror import rollups
from qa.mirror.admin import paging
from qa.mirror.models import Configuration, DailyCalls, Evaluator, Participant, Transcription
from qa.reviews import queues
from qa.reviews.admin.transcriptions import TranscriptionAdmin
from syncer import mirror, pull
from tests import builders

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:qa_transcription_changelist")
QUEUE = reverse("admin:qa_reviewitem_changelist")


def call(n, *, configuration, evaluator, participant, group=None, critical=False, score=80, day=None):
    payload = builders.transcription_payload(
        configuration=configuration, evaluator=evaluator, participant=participant, name=f"call-{n:04d}.mp3",
        group=group, created_at=f"2026-03-{day or 1 + n % 28:02d}T10:{n % 60:02d}:00+00:00",
    )
    payload["details"]["evaluation"].update(score=score, critical_fail_triggered=critical)
    return payload


@pytest.fixture
def account():
    return {
        "configuration": builders.configuration_payload(tag="Support line"),
        "evaluators": [builders.evaluator_payload(tag=tag) for tag in ("Scorecard A", "Scorecard B")],
        "participants": [builders.participant_payload(tag=tag) for tag in ("Alice Agent", "Bob Agent")],
    }


def calls_of(account, count: int, start: int = 0) -> list[dict]:
    groups = (None, "PENDING_REVIEW", "UNDER_REVIEW", "ARCHIVED", None)
    return [
        call(n, configuration=account["configuration"], evaluator=account["evaluators"][n % 2],
             participant=account["participants"][n % 2] if n % 7 else None, group=groups[n % 5],
             critical=n % 3 == 0, score=10 + n * 7 % 90)
        for n in range(start, start + count)
    ]


@pytest.fixture
def world(load, account, admin_user):
    load(configurations=[account["configuration"]], evaluators=account["evaluators"],
         participants=account["participants"], transcriptions=calls_of(account, 30))
    # "My reviews": two calls under review are the admin's.
    for pk in Transcription.objects.filter(group="PENDING_REVIEW").values_list("pk", flat=True)[:2]:
        queues.transcription_claim(transcription_id=pk, reviewer=admin_user)
    return account


def grow(load, account, count: int = 40) -> None:
    """More calls of the same people, as a later pull brings."""
    load(transcriptions=calls_of(account, count, start=1000))


# --- every screen of the benchmark: its number of queries, the same with more calls ---------------------------

# (label, URL builder, queries). The builder gets the account and the admin user. A screen's count includes the
# session and the user (2 queries) for the admin, and the token or session user for the API.
def _ids(account, key, index=0):
    return account[key][index]["participant_id" if key == "participants" else "evaluator_id"]


def _pk(model, heify_id):
    return model.objects.get(heify_id=heify_id).pk


SCREENS = [
    ("admin home", lambda a, u: "/admin/", 5),  # the queue counts: one query of the roll-ups
    ("transcriptions", lambda a, u: CHANGELIST, 7),
    ("transcriptions ?p=2", lambda a, u: CHANGELIST + "?p=1", 7),
    ("search a call name", lambda a, u: CHANGELIST + "?q=call-0001", 8),
    ("search an agent name", lambda a, u: CHANGELIST + "?q=Alice", 9),
    # SQLite: one query more, that counts each word's matches (up to 1,000) to lead with the rarest.
    ("search two words", lambda a, u: CHANGELIST + "?q=call+0012", 10 + (not on_postgresql())),
    ("search a Heify id", lambda a, u: CHANGELIST + f"?q={_ids(a, 'participants')}", 9),
    ("status", lambda a, u: CHANGELIST + "?status__exact=COMPLETED", 7),
    ("group", lambda a, u: CHANGELIST + "?group=PENDING_REVIEW", 7),
    ("no group", lambda a, u: CHANGELIST + "?group=none", 7),
    ("evaluator", lambda a, u: CHANGELIST + f"?evaluator__heify_id__exact={_ids(a, 'evaluators')}", 7),
    ("no evaluator", lambda a, u: CHANGELIST + "?evaluator__isnull=True", 6),
    ("no participant", lambda a, u: CHANGELIST + "?participant__isnull=True", 7),
    ("participant", lambda a, u: CHANGELIST + f"?participant__heify_id__exact={_ids(a, 'participants')}", 7),
    ("critical fail", lambda a, u: CHANGELIST + "?critical_fail_triggered__exact=1", 7),
    ("past 7 days", lambda a, u: CHANGELIST + "?occurred_at__gte=2026-03-01+00:00:00%2B00:00"
                                               "&occurred_at__lt=2026-03-08+00:00:00%2B00:00", 7),
    ("status + participant",
     lambda a, u: CHANGELIST + f"?status__exact=COMPLETED&participant__heify_id__exact={_ids(a, 'participants')}", 7),
    ("status + group", lambda a, u: CHANGELIST + "?status__exact=COMPLETED&group=PENDING_REVIEW", 7),
    ("status + critical", lambda a, u: CHANGELIST + "?status__exact=COMPLETED&critical_fail_triggered__exact=1", 7),
    ("a pair nothing matches", lambda a, u: CHANGELIST + "?status__exact=FAILED&critical_fail_triggered__exact=1",
     6),  # no page of ids to read
    ("critical + evaluator",
     lambda a, u: CHANGELIST + f"?critical_fail_triggered__exact=1&evaluator__heify_id__exact={_ids(a, 'evaluators')}",
     7),
    ("transcription page",  # 5 and 9 below: one reads the revision that scored the call, one what calibration hides
     lambda a, u: reverse("admin:qa_transcription_change", args=[Transcription.objects.first().pk]), 5),
    ("queue: pending review", lambda a, u: QUEUE + "?queue=PENDING_REVIEW", 7),
    ("queue: under review", lambda a, u: QUEUE + "?queue=UNDER_REVIEW", 7),
    ("queue: archived", lambda a, u: QUEUE + "?queue=ARCHIVED", 7),
    ("queue: no group", lambda a, u: QUEUE + "?queue=none", 7),
    ("queue: my reviews", lambda a, u: QUEUE + "?queue=UNDER_REVIEW&mine=1", 6),
    ("queue + critical + score", lambda a, u: QUEUE + "?critical_fail_triggered__exact=1&score=0-20", 6),
    ("queue + evaluator",
     lambda a, u: QUEUE + f"?queue=none&evaluator__heify_id__exact={_ids(a, 'evaluators', 1)}", 7),
    ("queue + dates", lambda a, u: QUEUE + "?queue=none&occurred_at__gte=2026-03-08+00:00:00%2B00:00"
                                           "&occurred_at__lt=2026-04-01+00:00:00%2B00:00", 7),
    ("queue + participant",
     lambda a, u: QUEUE + f"?queue=none&participant__heify_id__exact={_ids(a, 'participants')}", 7),
    ("review page",
     lambda a, u: reverse("admin:qa_reviewitem_change",
                          args=[Transcription.objects.filter(group="UNDER_REVIEW").first().pk]), 9),
    # + the fingerprint of what its report reads (kept in the cache); + the calls calibration hides;
    # + the coaching sessions with their focus criteria before and after (qa.insights.coaching_effect).
    # (PostgreSQL, SQLite): the report is one statement on both, after its settings on PostgreSQL.
    ("participant page + dashboard",
     lambda a, u: reverse("admin:qa_participant_change", args=[_pk(Participant, _ids(a, "participants"))]),
     (9, 8)),
    ("participant page + dashboard, reviewed score",
     lambda a, u: reverse("admin:qa_participant_change", args=[_pk(Participant, _ids(a, "participants"))])
     + "?score=reviewed", (9, 8)),
    # + the reviewed calls, + the unacknowledged reviews
    ("team overview", lambda a, u: reverse("admin:qa_participant_team"), 7),
    ("team overview, reviewed score", lambda a, u: reverse("admin:qa_participant_team") + "?score=reviewed", 7),
    ("participant list", lambda a, u: reverse("admin:qa_participant_changelist"), 4),
    ("evaluator list", lambda a, u: reverse("admin:qa_evaluator_changelist"), 5),  # + languages in use
    ("configuration list", lambda a, u: reverse("admin:qa_configuration_changelist"), 4),
    ("evaluator page", lambda a, u: reverse("admin:qa_evaluator_change", args=[_pk(Evaluator, _ids(a, "evaluators"))]),
     4),
    ("configuration page",
     lambda a, u: reverse("admin:qa_configuration_change", args=[Configuration.objects.get().pk]), 4),
    ("API transcriptions", lambda a, u: "/api/v1/transcriptions/?limit=100", 4),
    ("API transcriptions filtered",  # 4: the participant id is checked first
     lambda a, u: f"/api/v1/transcriptions/?group=PENDING_REVIEW&participant={_ids(a, 'participants')}", 5),
    ("API a transcription",
     lambda a, u: f"/api/v1/transcriptions/{Transcription.objects.first().heify_id}/", 4),
    ("API participants", lambda a, u: "/api/v1/participants/", 3),
    ("API a participant", lambda a, u: f"/api/v1/participants/{_ids(a, 'participants')}/", 3),
    ("API evaluators", lambda a, u: "/api/v1/evaluators/", 4),
    ("API configurations", lambda a, u: "/api/v1/configurations/", 4),
    ("API analytics", lambda a, u: f"/api/v1/participants/{_ids(a, 'participants')}/analytics/", (6, 5)),
    ("API analytics, reviewed score",
     lambda a, u: f"/api/v1/participants/{_ids(a, 'participants')}/analytics/?score=reviewed", (6, 5)),
]


@pytest.mark.parametrize("more", [False, True], ids=["30 calls", "70 calls"])
@pytest.mark.parametrize(("label", "url", "queries"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_query_count_is_fixed(client, admin_user, world, load, more, label, url, queries,
                                     django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 2)  # lists of several pages at both sizes
    if more:
        grow(load, world)
    client.force_login(admin_user)
    address = url(world, admin_user)
    if isinstance(queries, tuple):  # (on PostgreSQL, on SQLite)
        queries = queries[0] if on_postgresql() else queries[1]
    with django_assert_num_queries(queries):
        response = client.get(address)
    assert response.status_code == 200, (label, response.status_code)


# Every list filter of the call list, for the pairs below (the benchmark times each alone and with one other).
LIST_FILTERS = {
    "status": lambda a: {"status__exact": "COMPLETED"},
    "group": lambda a: {"group": "PENDING_REVIEW"},
    "evaluator": lambda a: {"evaluator__heify_id__exact": _ids(a, "evaluators")},
    "participant": lambda a: {"participant__heify_id__exact": _ids(a, "participants")},
    "critical": lambda a: {"critical_fail_triggered__exact": "1"},
    "dates": lambda a: {"occurred_at__gte": "2026-03-01 00:00:00+00:00",
                        "occurred_at__lt": "2026-04-01 00:00:00+00:00"},
}
PAIRS = [(first, second) for n, first in enumerate(LIST_FILTERS) for second in list(LIST_FILTERS)[n + 1:]]


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a} + {b}" for a, b in PAIRS])
def test_every_pair_of_list_filters_costs_a_fixed_number_of_queries(client, admin_user, world, load, first,
                                                                        second, monkeypatch):
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 2)
    client.force_login(admin_user)
    query = {**LIST_FILTERS[first](world), **LIST_FILTERS[second](world)}
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CHANGELIST, query).status_code == 200
        counts.append(len(queries.captured_queries))
        grow(load, world)
    # 7: session, user, the filters' evaluators and participants, the capped count, the page's ids, its rows
    # (6 when the list fits one page: Django then reads it whole, without paging).
    assert set(counts) <= {6, 7}, counts


# --- the call lists count as far as they show -------------------------------------------------------------------


def test_the_list_counts_up_to_a_cap_not_the_whole_table(admin_client, world, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 7)
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 3)
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(CHANGELIST)
    assert page.context["cl"].result_count == 7 and page.context["cl"].paginator.capped
    assert "7+ transcriptions" in " ".join(page.content.decode().split())
    count = next(q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper())
    assert "LIMIT 8" in count.upper()
    # A page past the cap counts as far as it needs, and is shown.
    deep = admin_client.get(CHANGELIST + "?p=4")
    assert deep.status_code == 200 and deep.context["cl"].result_count == 12
    assert len(deep.context["cl"].result_list) == 3
    # Below the cap the count is exact, without the "+".
    few = admin_client.get(CHANGELIST + "?q=call-0001")
    assert not few.context["cl"].paginator.capped and "+ transcriptions" not in few.content.decode()


# --- the search box ---------------------------------------------------------------------------------------------


def found(admin_client, term: str) -> set[str]:
    page = admin_client.get(CHANGELIST, {"q": term})
    assert page.status_code == 200
    return {t.heify_id for t in page.context["cl"].result_list}


def heify_ids(**filters) -> set[str]:
    return set(Transcription.objects.filter(**filters).values_list("heify_id", flat=True))


def test_search_finds_names_agents_evaluators_configurations_and_whole_ids(admin_client, world, monkeypatch):
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 200)
    alice = world["participants"][0]["participant_id"]
    assert found(admin_client, "call-0012") == heify_ids(name="call-0012.mp3")
    assert found(admin_client, "alice agent") == heify_ids(participant_id=alice)  # each word, any case
    assert found(admin_client, '"Scorecard B"') == heify_ids(evaluator_id=world["evaluators"][1]["evaluator_id"])
    assert found(admin_client, "support LINE") == heify_ids()
    one = Transcription.objects.first().heify_id
    assert found(admin_client, one) == {one}
    assert found(admin_client, alice) == heify_ids(participant_id=alice)  # also a dangling agent's id
    assert found(admin_client, one[:8]) == set()  # ids match whole: no scan of the id column
    assert found(admin_client, "Alice call-0001") == heify_ids(name="call-0001.mp3", participant_id=alice)
    # A word in every call's name beside a rarer one, which leads on SQLite: by its text, or as a whole id.
    assert found(admin_client, "call 0012") == found(admin_client, "0012 CALL") == heify_ids(name="call-0012.mp3")
    assert found(admin_client, f"CALL {one}") == {one}
    assert found(admin_client, "call mp3 Scorecard") == heify_ids()


def test_search_looks_up_agents_and_evaluators_first_instead_of_joining_them(admin_client, world):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(CHANGELIST, {"q": "Alice"})
    wheres = [q["sql"].split(" WHERE ", 1)[1] for q in queries.captured_queries
              if 'FROM "qa_transcription"' in q["sql"] and " WHERE " in q["sql"]]
    assert wheres and all('"qa_participant"' not in where and '"qa_evaluator"' not in where for where in wheres)
    # The set of matching ids is not sorted (SQLite would walk the date index for it): only the page is.
    assert all(where.count("ORDER BY") <= 1 for where in wheres)


@pytest.fixture
def as_if_100000_calls():
    """SQLite plans as it would at 100,000 calls: the statistics ANALYZE gives, scaled up (the same spread)."""
    if on_postgresql():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'qa_transcription'")
        for index, stat in cursor.fetchall():
            rows, *per_value = (int(n) for n in stat.split())
            scaled = [100_000, *(max(1, n * 100_000 // rows) for n in per_value)]
            cursor.execute("UPDATE sqlite_stat1 SET stat = %s WHERE tbl = 'qa_transcription' AND idx IS %s",
                           [" ".join(map(str, scaled)), index])
        cursor.execute("ANALYZE sqlite_schema")  # loads them
        yield
        cursor.execute("DELETE FROM sqlite_stat1")
        cursor.execute("ANALYZE sqlite_schema")


@pytest.mark.parametrize("field", ["evaluator", "participant"])
def test_the_no_relation_filter_finds_those_calls_through_the_relations_index(admin_client, world, load, field,
                                                                              monkeypatch, as_if_100000_calls):
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 200)
    orphan = builders.transcription_payload(name="orphan.mp3", participant=None, evaluator=None)
    load(transcriptions=[orphan])
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(CHANGELIST, {f"{field}__isnull": "True"})
    assert {t.heify_id for t in page.context["cl"].result_list} == heify_ids(**{f"{field}__isnull": True})
    if not on_postgresql():  # PostgreSQL knows how many are NULL; SQLite is told they are few
        listing = [q["sql"] for q in queries.captured_queries  # the page, in the list's order
                   if 'FROM "qa_transcription"' in q["sql"] and " ORDER BY " in q["sql"]]
        assert listing
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + listing[-1].replace("%", "%%"))
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING INDEX tx_date" not in plan and f"{field}_id" in plan, plan


# --- the roll-ups ---------------------------------------------------------------------------------------------------


def rollup_rows() -> list[tuple]:
    return sorted(
        DailyCalls.objects.values_list("participant_id", "day", "group", "calls", "scored", "score_sum", "passed",
                                       "critical_fails", "pass_mark"),
        key=repr,
    )


def recounted() -> list[tuple]:
    kept = rollup_rows()
    rollups.rebuild()
    return kept, rollup_rows()


def test_rollups_are_kept_by_the_upsert_and_every_review_move(world, load, admin_user):
    kept, counted = recounted()
    assert kept == counted and sum(row[3] for row in kept) == 30
    call = Transcription.objects.filter(group="PENDING_REVIEW").first()
    queues.transcription_claim(transcription_id=call.pk, reviewer=admin_user)
    queues.transcription_archive(transcription_id=call.pk, acting_user=admin_user, agree_rest=True)
    queues.transcription_move(transcription_id=call.pk, group=None, acting_user=admin_user)
    kept, counted = recounted()
    assert kept == counted
    # Heify changes a call's agent, day, score and group: both its old and its new bucket are recounted.
    payload = calls_of(world, 30)[12]
    payload.update(transcription_id=Transcription.objects.get(name="call-0012.mp3").heify_id,
                   participant_id=world["participants"][1]["participant_id"], group="ARCHIVED",
                   created_at="2026-03-27T23:59:59+00:00")
    payload["details"]["evaluation"]["score"] = 3
    load(transcriptions=[payload])
    kept, counted = recounted()
    assert kept == counted
    grow(load, world)
    kept, counted = recounted()
    assert kept == counted and sum(row[3] for row in kept) == 70


def test_queue_counts_leave_out_calls_gone_from_heify(world, heify):
    before = queues.queue_counts()
    gone = Transcription.objects.filter(group="ARCHIVED").first()
    pull.refresh_transcriptions([gone.heify_id])  # the emulator has no such call: marked gone
    assert queues.queue_counts() == {**before, "ARCHIVED": before["ARCHIVED"] - 1}
    assert queues.queue_counts() == {
        group: Transcription.objects.filter(queues.in_group(group)).count() for group in before
    }
    assert rollup_rows() == recounted()[1]


def test_team_overview_counts_the_calls_itself_when_the_pass_mark_changed(world, settings):
    as_counted = {row["tag"]: row["pass_rate"] for row in team.team_overview()}
    settings.ANALYTICS_PASS_MARK = 70
    stricter = {row["tag"]: row["pass_rate"] for row in team.team_overview()}
    assert stricter != as_counted  # not the roll-ups' pass rate at 50
    call_command("rebuild_rollups", verbosity=0)
    assert set(DailyCalls.objects.values_list("pass_mark", flat=True)) == {70}
    assert {row["tag"]: row["pass_rate"] for row in team.team_overview()} == stricter


def test_team_overview_from_rollups_is_what_the_calls_give(world, load, admin_user):
    from_rollups = team.team_overview()
    DailyCalls.objects.update(pass_mark=-1)  # forces the count from the calls
    assert team.team_overview() == from_rollups


# --- the dashboard lists the newest calls; the API keeps them all ---------------------------------------------------


def test_the_dashboard_report_cuts_only_raw_data(world, load, settings, admin_client):
    settings.ANALYTICS_TREND_SAMPLE = 4
    alice = Participant.objects.get(heify_id=world["participants"][0]["participant_id"])
    full, (cut, criteria, _) = participant_report(alice, as_of=None), participant_dashboard(alice, calls_shown=2)
    assert len(cut["raw_data"]) == 4 and cut["raw_data"] == full["raw_data"][:4]  # at least the trend's sample
    assert {**cut, "raw_data": None, "metadata": None} == {**full, "raw_data": None, "metadata": None}
    assert cut["metadata"]["total_records_analyzed"] == full["metadata"]["total_records_analyzed"] == len(
        full["raw_data"])
    api = admin_client.get(f"/api/v1/participants/{alice.heify_id}/analytics/").json()["data"]
    assert len(api["raw_data"]) == len(full["raw_data"])
    # The criteria's rates per evaluator are the report's, counted over every included call, not the cut.
    fails = Counter((c["evaluator_id"], name) for c in full["raw_data"] for name in c["failed_criteria"])
    scored = Counter(c["evaluator_id"] for c in full["raw_data"])
    assert fails and {(r["evaluator_id"], r["name"]): (r["fail_count"], r["evaluator_calls"]) for r in criteria} == {
        key: (count, scored[key[0]]) for key, count in fails.most_common(10)}


def test_mirror_upsert_of_other_objects_leaves_the_rollups_alone(world):
    before = rollup_rows()
    mirror.upsert("participants", mirror.parse_batch("participants", [builders.participant_payload()]))
    assert rollup_rows() == before


def test_search_follows_renames_and_short_words(admin_client, world, load, monkeypatch):
    monkeypatch.setattr(TranscriptionAdmin, "list_per_page", 200)
    payload = calls_of(world, 30)[7]
    payload.update(transcription_id=Transcription.objects.get(name="call-0007.mp3").heify_id, name="renamed.wav")
    load(transcriptions=[payload])  # Heify renamed it: the search index follows (SQLite: its triggers)
    assert found(admin_client, "renamed") == {payload["transcription_id"]}
    assert found(admin_client, "call-0007") == set()
    assert found(admin_client, "wa") == {payload["transcription_id"]}  # shorter than a trigram: read, not indexed
    assert found(admin_client, "SUPPORT line") == heify_ids()
