"""Each call keeps a digest of its results as Heify gave them (Transcription.results_key, the upsert's
criterion_results.results_key), so that what-if counts calls by their results without reading their rows. The calls
already mirrored get theirs from their results, by the upsert's own rule."""

from django.db import migrations, models

from qa.mirror.criterion_results import parse_criteria_results, results_key

BATCH = 2000


def fill_results_key(apps, schema_editor):
    Transcription = apps.get_model("qa", "Transcription")
    calls = Transcription.objects.using(schema_editor.connection.alias)
    batch = []
    for call in calls.only("pk", "criteria_results").order_by("pk").iterator(chunk_size=BATCH):
        call.results_key = results_key(parse_criteria_results(call.criteria_results))
        batch.append(call)
        if len(batch) >= BATCH:
            calls.bulk_update(batch, ["results_key"])
            batch = []
    calls.bulk_update(batch, ["results_key"])


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0039_report_index_sqlite'),
    ]

    operations = [
        migrations.AddField(
            model_name='transcription',
            name='results_key',
            field=models.UUIDField(blank=True, editable=False, help_text="A digest of the call's results as Heify gave them: the same results, the same key.", null=True, verbose_name='results key'),
        ),
        migrations.RunPython(fill_results_key, migrations.RunPython.noop, elidable=True),
    ]
