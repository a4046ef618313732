"""SQLite: an index that holds everything the dashboard's cache key reads (qa.insights.analytics._fingerprint).

PostgreSQL reads the key from tx_scored_by_participant alone (its INCLUDE columns carry the version and the score
of record). SQLite has no INCLUDE: Django leaves those columns out of that index there, so the key read the table
beside it, call by call (58 against 9 ms for an agent's 20,000 newest calls at 100,000). Here they are key columns
of a partial index of the same calls, on SQLite only (on PostgreSQL it would repeat tx_scored_by_participant).
A migration that remakes qa_transcription on SQLite drops it: tests/qa/insights/test_dashboard.py checks it is there.
"""

from django.db import migrations

NAME = "tx_dashboard_key_sqlite"
CREATE = (
    f'CREATE INDEX "{NAME}" ON "qa_transcription" ("participant_id", "occurred_at" DESC, "heify_id" DESC, '
    '"version", "reviewed_at", "reviewed_score", "reviewed_critical", "reviewed_failed_criteria") '
    "WHERE \"status\" = 'COMPLETED' AND \"score\" IS NOT NULL AND \"gone_at\" IS NULL"
)


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):

    dependencies = [
        ("qa", "0033_alerts_in_each_language"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index, elidable=False),
    ]
