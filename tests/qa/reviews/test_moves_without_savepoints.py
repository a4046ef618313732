"""A review move takes no savepoint of its own (qa.reviews.queues._move, _moved; qa.mirror.rollups.recount_call), and
loses nothing by it: a refused move raises only once its block is left, so a transaction around it goes on; a bad
version is refused before any SQL; a move that fails in the database fails alone in the expiry job; the moved call
returned without being read again is the row as stored; the roll-ups stay a recount of the calls, concurrent moves
of one bucket included."""

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qa.db import on_postgresql
from qa.mirror import rollups
from qa.mirror.models import DailyCalls, Transcription
from qa.mirror.services import StaleEdit
from qa.reviews import queues
from qa.reviews.models import ReviewEvent
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

LONG_AGO = "2026-01-01T00:00:00Z"


@pytest.fixture
def calls(pending_calls):
    return pending_calls(3)


def rollup_rows():
    return sorted(DailyCalls.objects.values_list("participant_id", "day", "group", "calls", "scored", "score_sum",
                                                 "passed", "critical_fails", "pass_mark"), key=repr)


def recounted():
    kept = rollup_rows()
    rollups.rebuild()
    return kept, rollup_rows()


# --- a refusal leaves the transaction around it usable -------------------------------------------------------


def test_a_refused_claim_inside_a_transaction_leaves_it_usable(calls):
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    first, second, _third = calls
    with transaction.atomic():
        queues.transcription_claim(transcription_id=first.pk, reviewer=ann)
        with pytest.raises(queues.ClaimLost):
            queues.transcription_claim(transcription_id=first.pk, reviewer=bob)
        with pytest.raises(Transcription.DoesNotExist):
            queues.transcription_claim(transcription_id=first.pk + 1000, reviewer=bob)
        Transcription.all_objects.filter(pk=second.pk).update(gone_at="2026-03-03T00:00:00Z")
        with pytest.raises(queues.ValidationError) as gone:
            queues.transcription_claim(transcription_id=second.pk, reviewer=bob)
        assert gone.value.code == queues.GONE
        # Still usable: the next move and the next query go on.
        assert queues.transcription_claim(transcription_id=calls[2].pk, reviewer=bob).assigned_to == bob
    assert ReviewEvent.objects.filter(action="claim").count() == 2


def test_a_refused_move_inside_a_transaction_leaves_it_usable(calls):
    ann, bob, max_ = person("ann", "Reviewer"), person("bob", "Reviewer"), person("max", "QA manager")
    call = calls[0]
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    with transaction.atomic():
        with pytest.raises(queues.PermissionDenied):
            queues.transcription_release(transcription_id=call.pk, acting_user=bob)
        with pytest.raises(StaleEdit):
            queues.transcription_move(transcription_id=call.pk, group="ARCHIVED", acting_user=max_,
                                      expected_version=call.version + 5)
        assert queues.transcription_release(transcription_id=call.pk, acting_user=ann).group == "PENDING_REVIEW"


# --- a version no row can hold is refused before any SQL -----------------------------------------------------------


def over_the_column() -> int:
    """One more than this database's version column holds (2**31 on PostgreSQL, 2**63 on SQLite)."""
    return connection.ops.integer_field_range("PositiveIntegerField")[1] + 1


@pytest.mark.parametrize("version", [-1, "over the column", 2**70])
def test_a_version_out_of_the_columns_range_is_stale_before_any_update(calls, version):
    version = over_the_column() if version == "over the column" else version
    max_ = person("max", "QA manager")
    call = calls[0]
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, pytest.raises(StaleEdit) as stale:
            queues.transcription_move(transcription_id=call.pk, group="ARCHIVED", acting_user=max_,
                                      expected_version=version)
        assert f"since version {version} (it is at {call.version})" in stale.value.messages[0]
        assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert Transcription.objects.get(pk=call.pk).group == "PENDING_REVIEW"  # and the transaction goes on


@pytest.mark.parametrize("if_match, status", [('"99"', 412), ('"999999999"', 412), ('"9999999999"', 400),
                                              ('"99999999999999999999999"', 400)])
def test_the_api_answers_a_stale_or_impossible_if_match_with_a_4xx(calls, if_match, status):
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    max_ = person("max", "QA manager")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=max_)[1]}")
    first, second = calls[0], calls[1]
    url = f"/api/v1/transcriptions/{first.heify_id}/move/"
    assert api.post(url, {"group": "ARCHIVED"}, format="json", HTTP_IF_MATCH=if_match).status_code == status
    # The request after it is answered as ever (nothing was left failed).
    moved = api.post(f"/api/v1/transcriptions/{second.heify_id}/move/", {"group": "ARCHIVED"}, format="json",
                     HTTP_IF_MATCH=f'"{second.version}"')
    assert moved.status_code in (200, 202) and moved.json()["data"]["group"] == "ARCHIVED"


# --- the expiry job: one claim that fails in the database fails alone -------------------------------------------


def test_a_release_that_fails_in_the_database_rolls_back_alone(calls, monkeypatch, caplog):
    ann = person("ann", "Reviewer")
    for call in calls:
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.update(review_touched_at=LONG_AGO)
    poisoned = calls[1].pk
    recount = rollups.recount_call

    def failing(pk):
        recount(pk)  # its UPDATE and recount written, then the database refuses a statement
        if pk == poisoned:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(rollups, "recount_call", failing)
    assert queues.release_expired_claims() == 2
    groups = dict(Transcription.objects.values_list("name", "group"))
    assert groups == {"call 0": "PENDING_REVIEW", "call 1": "UNDER_REVIEW", "call 2": "PENDING_REVIEW"}
    assert not ReviewEvent.objects.filter(transcription_id=poisoned, action="expire").exists()
    assert "not released" in caplog.text
    kept, counted = recounted()
    assert kept == counted  # the failed release's recount went with it


# --- the moved call, not read again, is the row as stored ----------------------------------------------------------


def stored_fields(call):
    return {f.attname: getattr(call, f.attname) for f in Transcription._meta.concrete_fields}


def test_a_claim_and_an_archive_return_the_call_as_stored(calls):
    ann = person("ann", "Reviewer")
    call = calls[0]
    claimed = queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    assert stored_fields(claimed) == stored_fields(Transcription.objects.get(pk=call.pk))
    assert claimed.assigned_to == ann
    for name in dict.fromkeys(call.criterion_results.values_list("name", flat=True)):
        queues.transcription_verdicts_record(transcription_id=call.pk, acting_user=ann,
                                             verdicts=[queues.Verdict(name, agrees=True)])
    archived = queues.transcription_archive(transcription_id=call.pk, acting_user=ann)
    assert stored_fields(archived) == stored_fields(Transcription.objects.get(pk=call.pk))
    # Agreeing with the AI on the rest changes the score of record: that archive reads the call again.
    other = queues.transcription_claim(transcription_id=calls[1].pk, reviewer=ann)
    archived = queues.transcription_archive(transcription_id=other.pk, acting_user=ann, agree_rest=True)
    assert stored_fields(archived) == stored_fields(Transcription.objects.get(pk=other.pk))
    assert archived.reviewed_score is not None


def test_a_takeover_returns_the_call_as_stored(calls):
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    call = calls[0]
    queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
    Transcription.objects.filter(pk=call.pk).update(review_touched_at=LONG_AGO)
    taken = queues.transcription_claim(transcription_id=call.pk, reviewer=bob)
    assert stored_fields(taken) == stored_fields(Transcription.objects.get(pk=call.pk))
    assert taken.assigned_to == bob and taken.group_changed_at == Transcription.objects.get(pk=call.pk).group_changed_at


# --- the roll-ups ----------------------------------------------------------------------------------------------------


def test_every_move_keeps_the_rollups_a_recount(calls, load):
    ann, max_ = person("ann", "Reviewer"), person("max", "QA manager")
    undated = builders.transcription_payload(group="PENDING_REVIEW", name="undated")  # no agent
    load(transcriptions=[undated])
    for call in [*calls, Transcription.objects.get(name="undated")]:
        queues.transcription_claim(transcription_id=call.pk, reviewer=ann)
        queues.transcription_archive(transcription_id=call.pk, acting_user=ann, agree_rest=True)
        queues.transcription_reopen(transcription_id=call.pk, acting_user=max_)
        queues.transcription_move(transcription_id=call.pk, group=None, acting_user=max_)
        kept, counted = recounted()
        assert kept == counted


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not on_postgresql(), reason="real concurrent transactions need PostgreSQL")
def test_concurrent_moves_of_one_bucket_keep_its_count(monkeypatch):
    from qa.alerts import services as alerts
    from syncer import mirror, push

    # The background tasks each move queues (run inline in tests, one job at a time) are not what is tested here.
    for module in (alerts, push):
        monkeypatch.setattr(module, "async_task", lambda *args, **kwargs: None)

    agent = builders.participant_payload()
    mirror.load_snapshot(builders.snapshot(participants=[agent], transcriptions=[
        builders.transcription_payload(group="PENDING_REVIEW", participant=agent, created_at="2026-03-02T10:00:00Z")
        for _ in range(4)]))
    reviewers = [person(f"r{n}", "Reviewer") for n in range(4)]
    pks = list(Transcription.objects.order_by("pk").values_list("pk", flat=True))
    barrier, errors = threading.Barrier(4), []

    def claim(user, pk):
        try:
            barrier.wait()
            queues.transcription_claim(transcription_id=pk, reviewer=user)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=pair) for pair in zip(reviewers, pks, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert Transcription.objects.filter(Q(group="UNDER_REVIEW")).count() == 4
    kept, counted = recounted()
    assert kept == counted and [row[2:4] for row in kept] == [("UNDER_REVIEW", 4)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["archive", "verdict"])
@pytest.mark.skipif(not on_postgresql(), reason="real concurrent transactions need PostgreSQL")
def test_a_move_that_waited_for_the_lock_sees_the_holder_as_committed(monkeypatch, step):
    """A move that waits for another transaction's lock on the call is refused by the holder that transaction left,
    naming them: the call is read locked alone (a holder joined to it would be the row as it was before the wait)."""
    from qa.alerts import services as alerts
    from syncer import mirror, push

    for module in (alerts, push):
        monkeypatch.setattr(module, "async_task", lambda *args, **kwargs: None)
    agent = builders.participant_payload()
    mirror.load_snapshot(builders.snapshot(participants=[agent], transcriptions=[
        builders.transcription_payload(group="UNDER_REVIEW", participant=agent, created_at="2026-03-02T10:00:00Z")]))
    first, second, other = person("first", "Reviewer"), person("second", "Reviewer"), person("other", "Reviewer")
    pk = Transcription.objects.get().pk
    Transcription.objects.filter(pk=pk).update(assigned_to=first, review_touched_at=timezone.now())
    locked, done, refusals = threading.Event(), threading.Event(), []

    def hand_over():  # another transaction holds the call's lock while it changes its holder
        try:
            with transaction.atomic():
                Transcription.objects.select_for_update().get(pk=pk)
                Transcription.objects.filter(pk=pk).update(assigned_to=second)
                locked.set()
                done.wait(1)  # the move below is waiting for this lock by now
        finally:
            connection.close()

    def move():
        locked.wait(10)
        try:
            if step == "archive":
                queues.transcription_archive(transcription_id=pk, acting_user=other, agree_rest=True)
            else:
                queues.transcription_verdicts_record(transcription_id=pk, acting_user=other,
                                                     verdicts=[queues.Verdict("Greeting", agrees=False)])
        except Exception as exc:  # noqa: BLE001
            refusals.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_over), threading.Thread(target=move)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert len(refusals) == 1, refusals
    assert "second" in str(refusals[0]) and "first" not in str(refusals[0])
