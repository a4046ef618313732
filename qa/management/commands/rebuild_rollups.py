"""manage.py rebuild_rollups: recount the roll-ups of the calls (qa.mirror.rollups) from the calls themselves.

Needed after ANALYTICS_PASS_MARK changes (until then the team overview counts
the calls itself) or after calls were written outside the app.
"""

from django.core.management.base import BaseCommand

from qa.mirror import rollups


class Command(BaseCommand):
    help = "Recount the per-participant, per-day roll-ups of the calls from the calls."

    def handle(self, *args, **options):
        rows = rollups.rebuild()
        if options["verbosity"]:
            self.stdout.write(f"{rows} roll-up rows counted.")
