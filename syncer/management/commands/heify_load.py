"""python manage.py heify_load FILE.json: load Heify JSON through the one upsert path."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qa import limits
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
                text = sys.stdin.buffer.read()
            else:
                with open(file, "rb") as handle:
                    text = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:  # nesting and numbers bounded; each object's values are checked, by place, as it is parsed
            snapshot = limits.load_json(text, field="the file", max_bytes=None)
        except ValidationError as exc:
            raise CommandError(f"{file}: nothing was loaded: {' '.join(exc.messages)}") from None
        try:
            results = mirror.load_snapshot(snapshot)
        except mirror.PayloadError as exc:
            raise CommandError(f"{file}: nothing was loaded: {exc}") from None
        for resource, result in results.items():
            self.stdout.write(f"{resource}: {result}")
