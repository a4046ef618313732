"""The database cache's table (settings.CACHES without REDIS_URL), so that `migrate` alone makes a database the
site can serve from: sign-in answered 500 ("no such table: heifyadmin_cache") until `createcachetable` ran.

It is `createcachetable` itself, so either may run first or again: a table that exists is left as it is, and no
table is made when no cache is a database cache (Redis, the tests' in-process cache).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ('qa', '0018_replace_sent'),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
