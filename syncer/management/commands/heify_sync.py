"""python manage.py heify_sync [--only RESOURCE] [--full] [--quiet]: pull Heify into the mirror."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from qa.alerts import services as alerts
from syncer import contract
from syncer.client import HeifyError
from syncer.pull import PullAlreadyRunning, pull


def resource_name(value: str) -> str:
    name = value.strip().lower()
    name = name if name.endswith("s") else name + "s"
    if name not in contract.RESOURCES:
        raise CommandError(f"unknown resource {value!r}; choose from {', '.join(contract.RESOURCES)}")
    return name


class Command(BaseCommand):
    help = "Pull configurations, evaluators, participants and transcriptions from Heify. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", metavar="RESOURCE", help=", ".join(contract.RESOURCES))
        parser.add_argument("--full", action="store_true",
                            help="list evaluators and participants whole, not only what changed (notices deletions)")
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")

    def handle(self, *args, only=None, full=False, quiet=False, **options):
        resources = [resource_name(value) for value in only] if only else None
        show_bar = not quiet and sys.stderr.isatty()
        bars = {}

        def on_page(resource, count):
            if show_bar:
                if resource not in bars:
                    bars[resource] = tqdm(desc=resource, unit=" objects", file=sys.stderr, leave=True)
                bars[resource].update(count)

        started = timezone.now()
        try:
            results = pull(resources, on_page=on_page, full=full)
        except PullAlreadyRunning as running:
            self.stdout.write(str(running))
            return
        except HeifyError as exc:
            raise CommandError(f"{exc.message}. What was pulled is kept; the next run resumes from there.") from None
        finally:
            for bar in bars.values():
                bar.close()
            alerts.calls_stored(since=started)
        if not quiet:
            for resource, result in results.items():
                self.stdout.write(f"{resource}: {result}")
