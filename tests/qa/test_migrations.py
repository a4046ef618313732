"""Data migrations, run forwards over rows written under the schema before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from qa.db import on_postgresql

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = ("qa", "0004_participant_list_index"), ("qa", "0005_transcription_failed_criteria")


def migrate(*targets):
    """Migrate to `targets` (default: the latest of every app); the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = list(targets) or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_calls_mirrored_before_get_their_failed_criteria():
    apps = migrate(BEFORE)
    try:
        Transcription = apps.get_model("qa", "Transcription")
        results = {
            "t-1": [{"name": "Greeting", "passed": False}, {"name": "Closing", "passed": True},
                    {"name": "Empathy", "passed": False}],
            "t-2": [{"name": "Greeting", "passed": True}],
            "t-3": {"not": "a list"},
            "t-4": [{"name": 7, "passed": False}, "Greeting", {"name": "Hold", "passed": None},
                    {"name": "Hold", "passed": 0}],
        }
        for heify_id, criteria_results in results.items():
            Transcription.objects.create(heify_id=heify_id, status="COMPLETED", criteria_results=criteria_results)
        Transcription = migrate(AFTER).get_model("qa", "Transcription")
        assert dict(Transcription.objects.values_list("heify_id", "failed_criteria")) == {
            "t-1": ["Greeting", "Empathy"], "t-2": [], "t-3": [], "t-4": [],
        }
    finally:
        migrate()


def test_calls_mirrored_before_get_the_key_of_their_results_in_batches(monkeypatch):
    import importlib

    from qa.mirror.criterion_results import parse_criteria_results, results_key

    monkeypatch.setattr(importlib.import_module("qa.migrations.0040_transcription_results_key"), "BATCH", 2)
    apps = migrate(("qa", "0039_report_index_sqlite"))
    try:
        Transcription = apps.get_model("qa", "Transcription")
        results = {
            "t-1": [{"name": "Greeting", "passed": False}, {"name": "Empathy", "passed": True, "value": 4}],
            "t-2": [{"name": "Greeting", "passed": False}, "not a result", {"name": "Empathy", "passed": True,
                                                                            "value": 4}],
            "t-3": [{"name": "Greeting", "passed": True}],
            "t-4": {"not": "a list"},
            "t-5": [],
        }
        for heify_id, criteria_results in results.items():
            Transcription.objects.create(heify_id=heify_id, status="COMPLETED", criteria_results=criteria_results)
        Transcription = migrate(("qa", "0040_transcription_results_key")).get_model("qa", "Transcription")
        keys = dict(Transcription.objects.values_list("heify_id", "results_key"))
        assert keys == {heify_id: results_key(parse_criteria_results(raw)) for heify_id, raw in results.items()}
        assert keys["t-1"] == keys["t-2"] != keys["t-3"] != keys["t-4"] == keys["t-5"]
    finally:
        migrate()


def test_the_sqlite_search_index_is_kept_by_triggers():
    """A later migration that remakes qa_transcription on SQLite would drop them silently."""
    if on_postgresql():
        pytest.skip("PostgreSQL searches with trigram indexes on the columns")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'qa_transcription'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert triggers == {f"qa_transcription_search_{t}" for t in ("insert", "delete", "update")}


def test_role_holders_who_could_not_sign_in_are_made_staff_by_their_role():
    apps = migrate(("qa", "0019_setup_cache_table"))
    try:
        User, Group = apps.get_model("auth", "User"), apps.get_model("auth", "Group")
        stuck, by_hand, nobody = (User.objects.create(username=name, is_staff=name == "by_hand")
                                  for name in ("stuck", "by_hand", "nobody"))
        for user in (stuck, by_hand):
            user.groups.add(Group.objects.get(name="Reviewer"))
        apps = migrate(("qa", "0020_setup_staff_by_role"))
        User = apps.get_model("auth", "User")
        assert dict(User.objects.values_list("username", "is_staff")) == {"stuck": True, "by_hand": True,
                                                                          "nobody": False}
        # Only the one the role made staff loses it with the role.
        assert list(apps.get_model("qa", "StaffByRole").objects.values_list("user__username", flat=True)) == ["stuck"]
    finally:
        migrate()


def test_verdicts_recorded_before_the_score_of_record_get_their_result_and_score():
    apps = migrate(("qa", "0025_audit_trail"))
    try:
        User = apps.get_model("auth", "User")
        Call, Result, Verdict = (apps.get_model("qa", name) for name in
                                 ("Transcription", "CriterionResult", "CriterionVerdict"))
        ann = User.objects.create(username="ann")
        call = Call.objects.create(heify_id="t-1", status="COMPLETED", score=90.0)
        for position, (name, kind, weight) in enumerate(
                [("Greeting", "boolean", 20), ("Empathy", "scale", 50), ("Resolved", "boolean", 30)]):
            Result.objects.create(transcription=call, position=position, name=name, passed=True, revision=1,
                                  type=kind, weight=weight)
        Verdict.objects.create(transcription=call, criterion_name="Resolved", agrees=False, reason="no", reviewer=ann)
        Verdict.objects.create(transcription=call, criterion_name="Greeting", agrees=True, reviewer=ann)
        apps = migrate(("qa", "0026_score_of_record"))
        Call, Verdict = apps.get_model("qa", "Transcription"), apps.get_model("qa", "CriterionVerdict")
        assert dict(Verdict.objects.values_list("criterion_name", "passed")) == {"Resolved": False, "Greeting": True}
        call = Call.objects.get()
        # Empathy's value is the one the AI's 90 allows (4): 20 + 40 + 0 = 60.
        assert (call.reviewed_score, call.reviewed_critical, call.reviewed_failed_criteria, call.reviewed_by_id) == (
            60.0, False, ["Resolved"], ann.pk)
        assert call.reviewed_at is not None
    finally:
        migrate()
