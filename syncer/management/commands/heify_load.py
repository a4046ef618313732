"""python manage.py heify_load FILE.json: load Heify JSON through the one upsert path."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from syncer import mirror


class Command(BaseCommand):
    help = (
        "Load a file holding {configurations, evaluators, participants, transcriptions} in Heify's "
        "own JSON shapes. All or nothing; loading the same file twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file, or - for standard input")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                snapshot = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    snapshot = json.load(handle)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc}") from None
        try:
            results = mirror.load_snapshot(snapshot)
        except mirror.PayloadError as exc:
            raise CommandError(f"{file}: nothing was loaded: {exc}") from None
        for resource, result in results.items():
            self.stdout.write(f"{resource}: {result}")
