"""The roles "QA manager" and "Reviewer" (see qa/roles.py)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from qa.roles import ensure_roles

    ensure_roles(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["QA manager", "Reviewer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("qa", "0002_review"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
