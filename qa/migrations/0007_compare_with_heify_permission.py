"""The permission to ask Heify for its own analytics report, given to the "QA manager" role (qa/roles.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from qa.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0006_criterionverdict_as_manager'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='participant',
            options={'ordering': ['tag', 'id'], 'permissions': [('compare_with_heify', 'Can ask Heify for its own analytics report (uses its monthly quota)')]},
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
