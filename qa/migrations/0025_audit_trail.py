"""The audit trail (qa/audit.py): its table, the author of an evaluator revision, and the permission to read
the trail, given to the "QA manager" role (qa/roles.py)."""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grant(apps, schema_editor):
    from qa.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0024_criterion_results'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='evaluatorrevision',
            name='author',
            field=models.ForeignKey(blank=True, help_text='Who saved the criteria here; empty for a change seen in Heify (or a former user).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('actor_label', models.CharField(verbose_name='who', help_text='Who, as they were called then: the username, or the job (job: claim expiry).', max_length=150)),
                ('action', models.CharField(choices=[('create', 'created'), ('update', 'changed'), ('delete', 'deleted'), ('upload', 'uploaded to Heify'), ('claim', 'started review'), ('release', 'released'), ('archive', 'archived'), ('reopen', 'reopened'), ('reassign', 'reassigned'), ('move', 'moved'), ('expire', 'claim expired'), ('note', 'wrote a note'), ('verdict', 'recorded a criterion verdict'), ('session_create', 'set up a calibration session'), ('session_close', 'closed a calibration session'), ('answers_save', 'saved calibration answers'), ('answers_submit', 'submitted calibration answers')], max_length=20)),
                ('object_type', models.CharField(choices=[('qa.configuration', 'configuration'), ('qa.evaluator', 'evaluator'), ('qa.participant', 'participant'), ('qa.transcription', 'call'), ('qa.calibrationsession', 'calibration session')], max_length=40)),
                ('object_id', models.PositiveBigIntegerField(help_text="The object's id here (kept after it is deleted).")),
                ('heify_id', models.CharField(blank=True, max_length=64, verbose_name='Heify ID')),
                ('object_repr', models.CharField(blank=True, max_length=200, verbose_name='object')),
                ('request_id', models.CharField(blank=True, help_text="The X-Request-ID of the request (or the job's id) that made the change: the same as its log lines.", max_length=128, verbose_name='request ID')),
                ('before', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, help_text='The changed fields as they were.')),
                ('after', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, help_text='The changed fields as they became.')),
                ('actor', models.ForeignKey(blank=True, help_text='Empty for a job or the system (see the label).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'audit event',
                'verbose_name_plural': 'audit log',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['-created_at', '-id'], name='audit_newest'), models.Index(fields=['object_type', 'object_id', '-created_at'], name='audit_object'), models.Index(fields=['heify_id'], name='audit_heify_id'), models.Index(fields=['request_id'], name='audit_request_id')],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
