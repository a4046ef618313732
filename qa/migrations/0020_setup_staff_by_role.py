"""StaffByRole: who a role made staff (qa/roles.py). Role holders who are not staff yet (they could not sign in)
are made staff by their role now, as adding them to it does from here on."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def staff_role_holders(apps, schema_editor):
    from qa.roles import ROLES

    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    StaffByRole = apps.get_model("qa", "StaffByRole")
    holders = User.objects.filter(groups__name__in=ROLES, is_staff=False).distinct()
    StaffByRole.objects.bulk_create([StaffByRole(user_id=pk) for pk in holders.values_list("pk", flat=True)])
    User.objects.filter(pk__in=StaffByRole.objects.values("user_id")).update(is_staff=True)


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('qa', '0019_setup_cache_table'),
    ]

    operations = [
        migrations.CreateModel(
            name='StaffByRole',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('granted_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name_plural': 'staff by role',
            },
        ),
        migrations.RunPython(staff_role_holders, migrations.RunPython.noop),
    ]
