"""Calls gone from Heify leave every figure (issue 20): the indexes the lists and the report walk hold live
calls only (what qa.mirror.models.LiveManager reads), and the roll-ups are recounted without gone calls.

The three index rebuilds and the recount block writes to the calls while they run.
"""

from django.db import migrations, models

from qa.mirror import rollups


def recount_rollups(apps, schema_editor):
    rollups.rebuild(calls=apps.get_model("qa", "Transcription"), rollup=apps.get_model("qa", "DailyCalls"),
                    using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0021_race_heify_as_of'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='transcription',
            name='tx_date',
        ),
        migrations.RemoveIndex(
            model_name='transcription',
            name='tx_critical_date',
        ),
        migrations.RemoveIndex(
            model_name='transcription',
            name='tx_scored_by_participant',
        ),
        migrations.AddIndex(
            model_name='transcription',
            index=models.Index(condition=models.Q(('gone_at__isnull', True)), fields=['-occurred_at', '-id'], include=('status', 'group', 'evaluator', 'participant', 'critical_fail_triggered'), name='tx_date'),
        ),
        migrations.AddIndex(
            model_name='transcription',
            index=models.Index(condition=models.Q(('critical_fail_triggered', True), ('gone_at__isnull', True)), fields=['-occurred_at', '-id'], include=('status', 'group', 'evaluator', 'participant', 'critical_fail_triggered'), name='tx_critical_date'),
        ),
        migrations.AddIndex(
            model_name='transcription',
            index=models.Index(condition=models.Q(('gone_at__isnull', True), ('score__isnull', False), ('status', 'COMPLETED')), fields=['participant', '-occurred_at', '-heify_id'], include=('score', 'critical_fail_triggered', 'duration', 'evaluator', 'group', 'failed_criteria', 'version'), name='tx_scored_by_participant'),
        ),
        migrations.RunPython(recount_rollups, migrations.RunPython.noop, elidable=True),
    ]
