"""The one upsert path: Heify JSON in, rows out, loading twice changes nothing."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa.db import on_postgresql
from qa.mirror.models import Configuration, Criterion, Evaluator, Participant, Transcription
from syncer import mirror
from tests import builders

pytestmark = pytest.mark.django_db


def account():
    conf, ev, part = builders.configuration_payload(), builders.evaluator_payload(), builders.participant_payload()
    calls = [builders.transcription_payload(configuration=conf, evaluator=ev, participant=part) for _ in range(3)]
    return builders.snapshot(configurations=[conf], evaluators=[ev], participants=[part], transcriptions=calls)


def test_every_field_lands_in_its_column(load):
    snap = account()
    mirror.load_snapshot(snap)
    conf = Configuration.objects.get()
    assert conf.heify_id == snap["configurations"][0]["configuration_id"]
    assert conf.vocabulary == ["CRM", "upsell"] and conf.summary is True
    assert conf.webhook_success_url == "https://example.com/ok"
    assert [f.name for f in conf.extraction_fields.all()] == ["sentiment"]
    ev = Evaluator.objects.get()
    assert ev.context == "Inbound support for a SaaS product." and ev.remote_updated_at.year == 2026
    assert list(ev.criteria.values_list("type", "weight")) == [("boolean", 20), ("strict", 0), ("boolean", 80)]
    part = Participant.objects.get()
    assert part.metadata["team"] == "Support"
    call = Transcription.objects.select_related("configuration", "evaluator", "participant").first()
    assert (call.configuration, call.evaluator, call.participant) == (conf, ev, part)
    assert call.score == 80 and call.critical_fail_triggered is False and call.duration == 185.4
    assert call.segments[0]["speaker"] == "SPEAKER_00" and call.summary.startswith("A billing")
    assert call.fields == [{"name": "sentiment", "value": "POSITIVE"}]
    assert call.occurred_at.isoformat() == "2026-03-07T10:00:00+00:00"
    assert call.completed_at is not None and call.language == "en" and call.num_speakers == 2
    assert "conversation" not in call.raw["details"]  # kept once, in its column


def test_loading_twice_writes_nothing():
    snap = account()
    mirror.load_snapshot(snap)
    before = list(Transcription.objects.values_list("version", "synced_at"))
    with CaptureQueriesContext(connection) as queries:
        results = mirror.load_snapshot(snap)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("SELECT") == 4  # one per resource: nothing to write, no roll-up to recount
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)
    assert {r: (x.created, x.updated, x.unchanged) for r, x in results.items()} == {
        "configurations": (0, 0, 1), "evaluators": (0, 0, 1), "participants": (0, 0, 1),
        "transcriptions": (0, 0, 3),
    }
    assert list(Transcription.objects.values_list("version", "synced_at")) == before


def test_a_changed_payload_updates_its_row_only():
    snap = account()
    mirror.load_snapshot(snap)
    snap["transcriptions"][0]["group"] = "PENDING_REVIEW"
    snap["evaluators"][0]["criteria"][0]["weight"] = 30
    snap["evaluators"][0]["criteria"][2]["weight"] = 70
    results = mirror.load_snapshot(snap)
    assert results["transcriptions"].updated == 1 and results["transcriptions"].unchanged == 2
    assert Transcription.objects.get(heify_id=snap["transcriptions"][0]["transcription_id"]).group == "PENDING_REVIEW"
    assert Criterion.objects.get(name="Greeting").weight == 30
    assert Evaluator.objects.get().version == 2


def test_removed_criterion_is_removed_and_kept_ones_keep_their_rows():
    snap = account()
    mirror.load_snapshot(snap)
    greeting_pk = Criterion.objects.get(name="Greeting").pk
    criteria = snap["evaluators"][0]["criteria"]
    criteria[2]["weight"] = 80
    del criteria[1]
    mirror.load_snapshot(snap)
    assert list(Criterion.objects.values_list("name", flat=True)) == ["Greeting", "Issue resolved"]
    assert Criterion.objects.get(name="Greeting").pk == greeting_pk


def test_a_row_waiting_to_be_pushed_is_not_overwritten():
    snap = account()
    mirror.load_snapshot(snap)
    Participant.objects.update(sync_state="waiting", tag="Local edit")
    snap["participants"][0]["tag"] = "Remote edit"
    results = mirror.load_snapshot(snap)
    assert results["participants"].skipped == 1
    assert Participant.objects.get().tag == "Local edit"


def test_duplicates_in_one_batch_keep_the_last():
    part = builders.participant_payload(tag="First")
    again = {**part, "tag": "Second"}
    results = mirror.load_snapshot(builders.snapshot(participants=[part, again]))
    assert results["participants"].created == 1 and Participant.objects.get().tag == "Second"


def test_call_whose_evaluator_is_unknown_is_kept_with_its_id():
    gone = builders.new_id()
    call = builders.transcription_payload(evaluator={"evaluator_id": gone})
    mirror.load_snapshot(builders.snapshot(transcriptions=[call]))
    stored = Transcription.objects.select_related("evaluator").get()
    assert stored.evaluator_id == gone and stored.evaluator is None


def test_date_falls_back_to_details_created_at():
    call = builders.transcription_payload()
    del call["created_at"]
    mirror.load_snapshot(builders.snapshot(transcriptions=[call]))
    assert Transcription.objects.get().occurred_at.isoformat() == "2026-03-07T10:00:00.123000+00:00"


def test_pending_call_without_details():
    call = builders.transcription_payload(status="PENDING", details=None, duration=None)
    del call["details"]
    mirror.load_snapshot(builders.snapshot(transcriptions=[call]))
    stored = Transcription.objects.get()
    assert stored.status == "PENDING" and stored.score is None and stored.segments == []


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["evaluators"][0]["criteria"][0].update(type="percent"), "evaluators[0]"),
    (lambda s: s["evaluators"][0].pop("evaluator_id"), "evaluator_id is missing"),
    (lambda s: s["participants"][0].update(metadata=[1]), "Metadata must be a JSON object"),
    (lambda s: s["transcriptions"][2].update(status="DONE"), "transcriptions[2]"),
    (lambda s: s["transcriptions"][1].update(group="LATER"), "group must be one of"),
    (lambda s: s["transcriptions"][0].update(duration="long"), "duration must be a number"),
    (lambda s: s["transcriptions"][0].update(duration=float("nan")), "duration must be a number"),
    (lambda s: s["transcriptions"][0]["details"]["evaluation"].update(score=float("inf")), "score must be a number"),
    (lambda s: s["transcriptions"][0].update(created_at="yesterday"), "not an ISO 8601 timestamp"),
    (lambda s: s.update(agents=[]), "unknown key(s) agents"),
    (lambda s: s.update(participants={}), "participants must be a list"),
])
def test_bad_payload_is_named_and_nothing_is_loaded(mutate, message):
    snap = account()
    mutate(snap)
    with pytest.raises(mirror.PayloadError) as exc:
        mirror.load_snapshot(snap)
    assert message in str(exc.value)
    assert not Configuration.objects.exists() and not Transcription.objects.exists()


def test_heify_load_command_is_idempotent(tmp_path, capsys):
    path = tmp_path / "account.json"
    path.write_text(json.dumps(account()))
    call_command("heify_load", str(path))
    assert "transcriptions: 3 created, 0 updated, 0 unchanged, 0 skipped" in capsys.readouterr().out
    call_command("heify_load", str(path))
    assert "transcriptions: 0 created, 0 updated, 3 unchanged, 0 skipped" in capsys.readouterr().out
    assert Transcription.objects.count() == 3


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    ("{broken", "is not valid JSON"),
    ('{"participants": [{"tag": "x"}]}', "participants[0]: participant_id is missing"),
    ("[]", "must hold a JSON object"),
])
def test_heify_load_command_errors_are_clear(tmp_path, content, message):
    path = tmp_path / "account.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError) as exc:
        call_command("heify_load", str(path))
    assert message in str(exc.value)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not on_postgresql(), reason="real concurrent transactions need PostgreSQL")
def test_a_pull_never_overwrites_an_edit_committed_between_its_read_and_its_write():
    """The edit holds the row while the pull reads it as in sync and then tries to write Heify's version."""
    import threading

    from django.db import connections, transaction

    payload = builders.participant_payload()
    mirror.load_snapshot(builders.snapshot(participants=[payload]))
    pk = Participant.objects.get().pk
    edit_holds_the_row, edit_may_commit = threading.Event(), threading.Event()
    results = {}

    def person_edits():
        try:
            with transaction.atomic():
                Participant.objects.filter(pk=pk, version=1).update(
                    metadata={"team": "edited here"}, sync_state="waiting", version=2)
                edit_holds_the_row.set()
                edit_may_commit.wait(10)
        finally:
            connections.close_all()

    def pull_writes():
        try:
            theirs = {**payload, "metadata": {"team": "changed in Heify"}}
            results["pull"] = mirror.upsert("participants", mirror.parse_batch("participants", [theirs]))
        finally:
            connections.close_all()

    editor, puller = threading.Thread(target=person_edits), threading.Thread(target=pull_writes)
    editor.start()
    assert edit_holds_the_row.wait(10)
    puller.start()  # reads the committed row (in sync, version 1), then waits on the edit's lock to write
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the pull never waited for the edit's lock")
    edit_may_commit.set()
    editor.join(10), puller.join(10)

    participant = Participant.objects.get()
    assert (participant.metadata, participant.sync_state, participant.version) == (
        {"team": "edited here"}, "waiting", 2)
    assert (results["pull"].updated, results["pull"].skipped) == (0, 1)


def test_a_call_whose_results_stay_keeps_its_result_rows_when_its_group_changes(load):
    """A call Heify moved to another group (a review move's answer, or a pull) keeps its result rows, their pins
    and its score of record as they are; a change of its results writes them again."""
    from qa.mirror.criterion_results import CriterionResult

    snap = account()
    mirror.load_snapshot(snap)
    call_payload = snap["transcriptions"][0]
    call = Transcription.objects.get(heify_id=call_payload["transcription_id"])
    rows = dict(CriterionResult.objects.filter(transcription=call).values_list("pk", "name"))
    assert len(rows) == 3

    def upsert(payload):
        return mirror.upsert("transcriptions", mirror.parse_batch("transcriptions", [payload]))

    assert upsert({**call_payload, "group": "UNDER_REVIEW"}).updated == 1
    call.refresh_from_db()
    assert call.group == "UNDER_REVIEW" and call.raw["group"] == "UNDER_REVIEW"
    assert dict(CriterionResult.objects.filter(transcription=call).values_list("pk", "name")) == rows

    evaluation = call_payload["details"]["evaluation"]
    changed = {**call_payload, "group": "UNDER_REVIEW", "details": {**call_payload["details"], "evaluation": {
        **evaluation, "criteria_results": [{**evaluation["criteria_results"][0], "passed": True},
                                           *evaluation["criteria_results"][1:]]}}}
    assert upsert(changed).updated == 1
    rewritten = CriterionResult.objects.filter(transcription=call)
    assert set(rewritten.values_list("pk", flat=True)).isdisjoint(rows)
    assert rewritten.get(name="Greeting").passed is True
