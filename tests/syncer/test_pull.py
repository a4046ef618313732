"""Pull: Heify -> mirror over loopback HTTP, through the real client and the one upsert path."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from qa.db import on_postgresql
from qa.mirror import services
from qa.mirror.models import Configuration, Criterion, Evaluator, Participant, Transcription
from qa.reviews import queues
from syncer import contract, pull
from syncer.client import HeifyClient, RetryPolicy, Unavailable
from syncer.models import PullCheckpoint, PullWatermark, SeenInPull
from tests.qa.reviews.test_queues import person

pytestmark = pytest.mark.django_db


def counts():
    return tuple(m.objects.count() for m in (Configuration, Evaluator, Participant, Transcription))


def small_pages(heify, **kwargs):
    """A client whose lists come in pages of 25, so a pull crosses several pages."""
    client = HeifyClient(heify.url, heify.api_key, **kwargs)
    original = client.pages
    client.pages = lambda resource, cursor=None, limit=25, **kwargs: original(resource, cursor=cursor, limit=limit,
                                                                              **kwargs)
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
    results = pull.pull(["participants"], full=True)
    assert results["participants"].gone == 1
    assert Participant.all_objects.get(heify_id=victim).gone_at is not None
    assert Participant.objects.filter(gone_at__isnull=True).count() == heify_account.state.count("participants")


def participant_lists(state) -> list:
    return [r for r in state.request_log if r.method == "GET" and r.path == contract.PATHS["participants"]]


def test_between_whole_pulls_only_the_evaluators_and_participants_heify_changed_are_listed(heify_account):
    state = heify_account.state
    first = pull.pull()
    assert not any(r.changes_only for r in first.values())  # the first listing is whole
    victim = state.objects("participants")[0]
    state.replace("participants", victim["participant_id"], {"tag": "Renamed in Heify", "metadata": {"a": 1}})
    state.clear_request_log()
    results = pull.pull()
    assert results["participants"].changes_only and results["evaluators"].changes_only
    assert not results["transcriptions"].changes_only and not results["configurations"].changes_only
    assert results["participants"].updated == 1
    listed = results["participants"].updated + results["participants"].unchanged
    assert listed < state.count("participants")  # the others were not listed
    assert Participant.objects.get(heify_id=victim["participant_id"]).tag == "Renamed in Heify"
    asked = participant_lists(state)
    assert asked and all(contract.UPDATED_SINCE_PARAM in r.query for r in asked)


def test_a_change_made_while_the_listing_runs_is_listed_next_time(heify_account, settings):
    """A change Heify stamps during a listing, behind the position the listing has reached, is not in it: the
    next listing of changes starts early enough to hold it (here by the listing's own duration alone)."""
    settings.HEIFY_UPDATED_AT_MARGIN_SECONDS = 0
    state = heify_account.state
    client = small_pages(heify_account)
    original = client.pages

    def pages_with_a_change_behind(resource, **kwargs):
        for number, page in enumerate(original(resource, **kwargs)):
            yield page
            if resource == "participants" and number == 0:  # the first page was read: change one on it
                first = page.items[0]
                state.replace("participants", first["participant_id"], {"tag": "Changed meanwhile", "metadata": {}})

    client.pages = pages_with_a_change_behind
    pull.pull(client=client)
    assert Participant.objects.filter(tag="Changed meanwhile").count() == 0
    results = pull.pull(["participants"])
    assert results["participants"].changes_only and results["participants"].updated == 1
    assert Participant.objects.filter(tag="Changed meanwhile").count() == 1


def test_a_deletion_is_noticed_by_the_next_whole_listing(heify_account, settings):
    state = heify_account.state
    pull.pull()
    victim = state.objects("participants")[0]["participant_id"]
    state.delete("participants", victim)
    results = pull.pull()
    assert results["participants"].changes_only and results["participants"].gone == 0  # it cannot show there
    assert Participant.objects.filter(heify_id=victim).exists()
    # Once the last whole listing is HEIFY_FULL_PULL_EVERY_HOURS old, the scheduled pull lists whole again.
    PullWatermark.objects.filter(resource="participants").update(
        last_full_at=F("last_full_at") - timedelta(hours=settings.HEIFY_FULL_PULL_EVERY_HOURS))
    results = pull.pull()
    assert not results["participants"].changes_only and results["participants"].gone == 1
    assert not Participant.objects.filter(heify_id=victim).exists()
    assert pull.pull()["participants"].changes_only  # and then changes only again


def test_every_pull_is_whole_when_the_setting_says_so(heify_account, settings):
    settings.HEIFY_FULL_PULL_EVERY_HOURS = 0
    pull.pull()
    state = heify_account.state
    state.delete("participants", state.objects("participants")[0]["participant_id"])
    results = pull.pull()
    assert not results["participants"].changes_only and results["participants"].gone == 1


def test_heify_sync_full_lists_whole(heify_account):
    pull.pull()
    state = heify_account.state
    state.delete("evaluators", state.objects("evaluators")[0]["evaluator_id"])
    out = io.StringIO()
    call_command("heify_sync", "--full", "--only", "evaluators", stdout=out)
    assert "1 gone" in out.getvalue() and "changes only" not in out.getvalue()


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
    request = client.request

    def slow_down_after_first_page(method, resource, *args, **kwargs):
        # Heify slows down once it has answered the first page of calls (the second is asked for while the first
        # is written: the pull fetches a page ahead).
        answer = request(method, resource, *args, **kwargs)
        if resource == "transcriptions":
            state.latency = 0.6
        return answer

    client.request = slow_down_after_first_page
    with pytest.raises(Unavailable) as exc:
        pull.pull(client=client)
    assert "no answer" in str(exc.value)
    assert Transcription.objects.count() == 25
    state.latency = 0
    client.request = request
    pull.pull(client=client)
    assert Transcription.objects.count() == state.count("transcriptions")


def test_a_gone_object_that_comes_back_is_revived(heify_account):
    pull.pull(["participants"])
    Participant.all_objects.update(gone_at="2026-01-01T00:00:00Z")
    results = pull.pull(["participants"], full=True)  # a listing of changes shows only what Heify changed
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

    if on_postgresql():  # the dead process's session ends, and its advisory lock with it
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


# --- a page fetched before a push was answered ---------------------------------------------------------
# Each test runs fetch -> push -> write in that order: the pull (or a refresh) fetches from the emulator,
# then a person's change goes through the real actions and is pushed to the emulator and answered, then
# the pull writes what it fetched through the one upsert path. What the push stored must stand.


def acting_between_fetch_and_write(heify, act):
    """The real client, but `act` runs (once) after a page or an object is fetched, before it is written."""
    client = HeifyClient(heify.url, heify.api_key)
    fetch_pages, fetch_one, pending = client.pages, client.get, [act]

    def after_fetch():
        while pending:
            pending.pop()()

    def pages(resource, **kwargs):
        for page in fetch_pages(resource, **kwargs):
            after_fetch()
            yield page

    def get(resource, heify_id):
        payload = fetch_one(resource, heify_id)
        after_fetch()
        return payload

    client.pages, client.get = pages, get
    return client


@pytest.fixture
def move(django_capture_on_commit_callbacks):
    """A review move as a person makes it: committed, then sent to Heify by its background task."""

    def moved(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return moved


def in_heify(heify, resource, heify_id):
    return next(o for o in heify.state.objects(resource) if o[contract.ID_FIELDS[resource]] == heify_id)


def fetch_then_write(how, heify, act, resource="transcriptions", heify_id=None):
    client = acting_between_fetch_and_write(heify, act)
    if how == "refresh":  # the poll of calls in flight, and a webhook's fetch
        return pull.refresh_transcriptions([heify_id], client=client)
    return pull.pull([resource], client=client, full=True)[resource]  # whole: the page holds the object acted on


@pytest.mark.parametrize("how", ["pull", "refresh"])
def test_a_call_fetched_before_its_archive_was_pushed_stays_archived(heify_account, how, move):
    ann = person("ann", "Reviewer")
    pull.pull(["transcriptions"])
    call = Transcription.objects.filter(group="PENDING_REVIEW").first()
    move(queues.transcription_claim, transcription_id=call.pk, reviewer=ann)
    assert in_heify(heify_account, "transcriptions", call.heify_id)["group"] == "UNDER_REVIEW"

    def archive():
        move(queues.transcription_archive, transcription_id=call.pk, acting_user=ann, agree_rest=True)
        moved = Transcription.objects.get(pk=call.pk)
        assert (moved.group, moved.sync_state) == ("ARCHIVED", "synced")  # Heify took it and answered

    result = fetch_then_write(how, heify_account, archive, heify_id=call.heify_id)
    call.refresh_from_db()
    assert in_heify(heify_account, "transcriptions", call.heify_id)["group"] == "ARCHIVED"
    assert (call.group, call.sync_state) == ("ARCHIVED", "synced")
    assert result.skipped == 1 and result.updated == 0

    # What Heify changes afterwards still comes in.
    heify_account.state.patch_transcription(call.heify_id, {"name": "renamed in Heify"})
    fetch_then_write(how, heify_account, lambda: None, heify_id=call.heify_id)
    call.refresh_from_db()
    assert (call.name, call.group) == ("renamed in Heify", "ARCHIVED")


def test_a_call_fetched_before_its_claim_was_pushed_stays_claimed(heify_account, move):
    ann, bob = person("ann", "Reviewer"), person("bob", "Reviewer")
    pull.pull(["transcriptions"])
    call = Transcription.objects.filter(group="PENDING_REVIEW").first()

    def claim():
        move(queues.transcription_claim, transcription_id=call.pk, reviewer=ann)
        moved = Transcription.objects.get(pk=call.pk)
        assert (moved.group, moved.sync_state) == ("UNDER_REVIEW", "synced")

    fetch_then_write("pull", heify_account, claim)
    call.refresh_from_db()
    assert (call.group, call.assigned_to) == ("UNDER_REVIEW", ann)
    assert not queues.review_queue("PENDING_REVIEW").filter(pk=call.pk).exists()
    with pytest.raises(queues.ClaimLost):
        queues.transcription_claim(transcription_id=call.pk, reviewer=bob)


def test_metadata_fetched_before_its_edit_was_pushed_is_not_put_back(heify_account):
    pull.pull(["participants"])
    agent = Participant.objects.order_by("pk").first()

    def edit():
        services.participant_save(participant=agent, data={"tag": agent.tag, "metadata": {"team": "Night shift"}},
                                  expected_version=agent.version)
        assert agent.sync_state == "synced"

    result = fetch_then_write("pull", heify_account, edit, "participants")
    agent.refresh_from_db()
    assert in_heify(heify_account, "participants", agent.heify_id)["metadata"] == {"team": "Night shift"}
    assert (agent.metadata, agent.sync_state) == ({"team": "Night shift"}, "synced")
    assert result.skipped == 1


def test_criteria_fetched_before_their_edit_was_pushed_are_not_put_back(heify_account):
    pull.pull(["evaluators"])
    evaluator = Evaluator.objects.filter(criteria__type="boolean").distinct().order_by("pk").first()
    revisions_before = evaluator.revisions.count()
    criteria = [{"id": c.heify_id, "name": c.name, "description": c.description, "type": c.type,
                 "weight": c.weight} for c in evaluator.criteria.order_by("position")]
    scored = [c for c in criteria if c["type"] != "strict"]
    for criterion in scored:
        criterion["weight"] = 0
    scored[0]["weight"] = 100

    def edit():
        services.evaluator_save(evaluator=evaluator, data={
            "tag": evaluator.tag, "description": "Edited here", "language": evaluator.language,
            "context": evaluator.context, "criteria": criteria}, expected_version=evaluator.version)
        assert evaluator.sync_state == "synced"

    fetch_then_write("pull", heify_account, edit, "evaluators")
    evaluator.refresh_from_db()
    weights = [c.weight for c in evaluator.criteria.order_by("position")]
    assert evaluator.description == "Edited here" and weights == [c["weight"] for c in criteria]
    assert in_heify(heify_account, "evaluators", evaluator.heify_id)["description"] == "Edited here"
    assert evaluator.revisions.count() == revisions_before + 1  # the edit's, and no revision putting it back


def test_an_object_created_while_a_pull_lists_is_not_marked_gone(heify_account):
    pull.pull(["participants"])

    def create():
        services.participant_save(participant=Participant(), data={"tag": "New agent", "metadata": {}})

    result = fetch_then_write("pull", heify_account, create, "participants")
    created = Participant.objects.get(tag="New agent")
    assert created.heify_id and in_heify(heify_account, "participants", created.heify_id)
    assert created.gone_at is None and result.gone == 0
