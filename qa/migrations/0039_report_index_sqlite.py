"""SQLite: the dashboard key's index (0034, tx_dashboard_key_sqlite) also holds every column the participant report
reads, so that the report (qa.insights.report_query._inputs_from_sqlite) reads its calls from the index alone.

SQLite has no INCLUDE: on PostgreSQL tx_scored_by_participant carries these columns, on SQLite Django leaves them
out of it, and the report read each call's row from the table beside the index (about 40 of the report's ms for an
agent's 20,000 newest calls at 100,000, against 4 from the index). Remade under the same name, wider: the same
calls (the partial WHERE is the report's), the same order, the key's columns first; one index to keep up, as
before. On PostgreSQL nothing happens. tests/qa/insights/test_dashboard.py checks it is there and that the report
reads no row beside it.
"""

from django.db import migrations

NAME = "tx_dashboard_key_sqlite"
WHERE = "WHERE \"status\" = 'COMPLETED' AND \"score\" IS NOT NULL AND \"gone_at\" IS NULL"
KEY = ('"participant_id", "occurred_at" DESC, "heify_id" DESC, "version", "reviewed_at", "reviewed_score", '
       '"reviewed_critical", "reviewed_failed_criteria"')
# The report's columns, then those of its WHERE that the partial index implies but does not hold: without them
# SQLite would still read each call's row to test them.
REPORT = ('"score", "critical_fail_triggered", "duration", "evaluator_id", "group", "failed_criteria", "status", '
          '"gone_at"')


def _remake(schema_editor, columns: str) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')
        schema_editor.execute(f'CREATE INDEX "{NAME}" ON "qa_transcription" ({columns}) {WHERE}')


def widen(apps, schema_editor):
    _remake(schema_editor, f"{KEY}, {REPORT}")


def narrow(apps, schema_editor):  # 0034's
    _remake(schema_editor, KEY)


class Migration(migrations.Migration):

    dependencies = [
        ("qa", "0038_transcription_polled_at"),
    ]

    operations = [
        migrations.RunPython(widen, narrow, elidable=False),
    ]
