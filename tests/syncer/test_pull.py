"""Pull: Heify -> mirror over loopback HTTP, through the real client and the one upsert path."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa.models import Configuration, Criterion, Evaluator, Participant, Transcription
from syncer import pull
from syncer.client import HeifyClient, RetryPolicy, Unavailable
from syncer.models import PullCheckpoint, SeenInPull

pytestmark = pytest.mark.django_db


def counts():
    return tuple(m.objects.count() for m in (Configuration, Evaluator, Participant, Transcription))


def small_pages(heify, **kwargs):
    """A client whose lists come in pages of 25, so a pull crosses several pages."""
    client = HeifyClient(heify.url, heify.api_key, **kwargs)
    original = client.pages
    client.pages = lambda resource, cursor=None, limit=25: original(resource, cursor=cursor, limit=limit)
    return client


def test_full_pull_mirrors_the_account(heify_account):
    state = heify_account.state
    results = pull.pull()
    assert counts() == tuple(state.count(r) for r in ("configurations", "evaluators", "participants",
                                                       "transcriptions"))
    assert results["transcriptions"].created == state.count("transcriptions")
    assert Criterion.objects.count() == sum(len(e["criteria"]) for e in state.objects("evaluators"))
    remote = state.objects("transcriptions")[0]
    local = Transcription.objects.get(heify_id=remote["transcription_id"])
    assert (local.status, local.group, local.score) == (
        remote["status"], remote["group"], (remote.get("details") or {}).get("evaluation", {}).get("score"))


def test_pulling_twice_changes_nothing(heify_account):
    pull.pull()
    before = list(Transcription.objects.order_by("pk").values_list("version", "synced_at"))
    with CaptureQueriesContext(connection) as queries:
        results = pull.pull()
    assert all(r.created == r.updated == r.gone == 0 for r in results.values())
    assert results["transcriptions"].unchanged == heify_account.state.count("transcriptions")
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].split()[0].upper() in ("UPDATE", "DELETE", "INSERT")
              and "syncer_" not in q["sql"]]
    assert writes == []  # only the pull's own bookkeeping is written
    assert list(Transcription.objects.order_by("pk").values_list("version", "synced_at")) == before


def test_an_object_deleted_in_heify_is_marked_gone_not_deleted(heify_account):
    pull.pull()
    victim = heify_account.state.objects("participants")[0]["participant_id"]
    heify_account.state.delete("participants", victim)
    results = pull.pull(["participants"])
    assert results["participants"].gone == 1
    assert Participant.all_objects.get(heify_id=victim).gone_at is not None
    assert Participant.objects.filter(gone_at__isnull=True).count() == heify_account.state.count("participants")


def test_a_500_mid_pagination_then_a_clean_resume(heify_account):
    heify_account.state.fail_page("transcriptions", 3, status=500, times=1)
    client = small_pages(heify_account)
    with pytest.raises(Unavailable):
        pull.pull(client=client)
    stored = Transcription.objects.count()
    assert stored == 50  # two pages of 25, each committed whole
    assert PullCheckpoint.objects.get(resource="transcriptions").pages == 2
    heify_account.state.clear_request_log()
    results = pull.pull(["transcriptions"], client=client)
    assert results["transcriptions"].resumed and results["transcriptions"].gone == 0
    assert results["transcriptions"].created == heify_account.state.count("transcriptions") - 50
    first_query = heify_account.state.request_log[0].query
    assert first_query.get("cursor"), "the resumed pull starts from the saved cursor"
    assert Transcription.objects.count() == heify_account.state.count("transcriptions")
    assert not PullCheckpoint.objects.exists() and not SeenInPull.objects.exists()


def test_a_timeout_mid_pagination_then_a_clean_resume(heify_account):
    state = heify_account.state
    client = small_pages(heify_account, timeout=0.3, retry=RetryPolicy(attempts=2, base_delay=0.01, total=1))

    def slow_down_after_first_page(resource, count):
        if resource == "transcriptions":
            state.latency = 0.6

    with pytest.raises(Unavailable) as exc:
        pull.pull(client=client, on_page=slow_down_after_first_page)
    assert "no answer" in str(exc.value)
    assert Transcription.objects.count() == 25
    state.latency = 0
    pull.pull(client=client)
    assert Transcription.objects.count() == state.count("transcriptions")


def test_a_gone_object_that_comes_back_is_revived(heify_account):
    pull.pull(["participants"])
    Participant.all_objects.update(gone_at="2026-01-01T00:00:00Z")
    results = pull.pull(["participants"])
    assert results["participants"].updated == heify_account.state.count("participants")
    assert not Participant.all_objects.filter(gone_at__isnull=False).exists()


def test_heify_sync_command(heify_account, capsys):
    call_command("heify_sync", "--only", "evaluator", "--only", "participants")
    out = capsys.readouterr().out
    assert "evaluators: 4 created" in out and "participants: 12 created" in out
    assert "transcriptions" not in out and not Transcription.objects.exists()
    call_command("heify_sync", "--quiet")
    assert capsys.readouterr().out == ""
    assert Transcription.objects.count() == heify_account.state.count("transcriptions")


def test_heify_sync_command_errors_are_clear(heify):
    with pytest.raises(CommandError, match="unknown resource 'agents'"):
        call_command("heify_sync", "--only", "agents")
    heify.state.down = True
    with pytest.raises(CommandError, match="the next run resumes"):
        call_command("heify_sync", "--quiet")


# --- one pull at a time ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_second_pull_returns_at_once_saying_so_while_one_runs(heify_account, caplog):
    """Another worker's pull holds the lock (its own connection, in another thread)."""
    import threading
    from io import StringIO

    from django.db import connections

    from syncer import tasks

    holding, finish = threading.Event(), threading.Event()

    def another_pull():
        try:
            with pull.pull_lock():
                holding.set()
                finish.wait(30)
        finally:
            connections.close_all()

    other = threading.Thread(target=another_pull)
    other.start()
    try:
        assert holding.wait(10)
        heify_account.state.clear_request_log()
        with pytest.raises(pull.PullAlreadyRunning):
            pull.pull()
        out = StringIO()
        call_command("heify_sync", stdout=out)
        assert "Another pull is running; this one did nothing" in out.getvalue()
        with caplog.at_level("INFO", logger="syncer.tasks"):
            assert tasks.pull_all().startswith("Another pull is running")
        assert "heify pull: Another pull is running" in caplog.text
        assert heify_account.state.request_log == [] and counts() == (0, 0, 0, 0)  # nothing was done
    finally:
        finish.set()
        other.join(10)
    assert pull.pull()["participants"].created == heify_account.state.count("participants")  # free again


@pytest.mark.django_db(transaction=True)
def test_a_pull_that_died_does_not_block_the_next(heify_account):
    from datetime import timedelta

    from django.db import connections
    from django.utils import timezone

    from syncer.models import PullLock

    if connection.vendor == "postgresql":  # the dead process's session ends, and its advisory lock with it
        import threading

        def dies_holding_the_lock():
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [pull.PULL_LOCK_KEY])
            connections.close_all()

        thread = threading.Thread(target=dies_holding_the_lock)
        thread.start()
        thread.join(10)
    else:  # its lock row stays held until the lease runs out
        import uuid

        PullLock.objects.create(name="pull", holder=uuid.uuid4(), expires_at=timezone.now() + timedelta(minutes=1))
        with pytest.raises(pull.PullAlreadyRunning):
            pull.pull()
        PullLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pull.pull()["participants"].created == heify_account.state.count("participants")
