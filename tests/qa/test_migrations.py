"""Data migrations, run forwards over rows written under the schema before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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


def test_the_sqlite_search_index_is_kept_by_triggers():
    """A later migration that remakes qa_transcription on SQLite would drop them silently."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL searches with trigram indexes on the columns")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'qa_transcription'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert triggers == {f"qa_transcription_search_{t}" for t in ("insert", "delete", "update")}
