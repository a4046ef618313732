"""python manage.py review_sample [--rule ID] [--dry-run]: apply the sampling rules now (qa/reviews/sampling.py)."""

from django.core.management.base import BaseCommand, CommandError

from qa.reviews import sampling
from qa.reviews.models import SamplingRule


class Command(BaseCommand):
    help = "Move the calls the sampling rules choose to the review queue; --dry-run only shows them."

    def add_arguments(self, parser):
        parser.add_argument("--rule", type=int, help="Only this rule (its id), active or not.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would move; move nothing.")

    def handle(self, *args, rule=None, dry_run=False, **options):
        if rule is not None and not SamplingRule.objects.filter(pk=rule).exists():
            raise CommandError(f"There is no sampling rule {rule}.")
        runs = sampling.sampling_rules_apply(rule_id=rule, dry_run=dry_run)
        if not runs:
            self.stdout.write("No active sampling rule.")
        for run in runs:
            verb = "would move" if dry_run else "chose"
            self.stdout.write(f"Rule #{run.rule.pk} {run.rule.name!r} ({run.period_label()}): "
                              f"{verb} {len(run.chosen)} call(s)")
            for call in run.chosen:
                self.stdout.write(f"  {call.heify_id}  participant {call.participant_id or '-'}  score "
                                  f"{call.score:g}{'  critical' if call.critical else ''}")
            if run.error:
                self.stderr.write(f"  stopped: {run.error}")
            elif not dry_run:
                self.stdout.write(f"  moved {run.moved}" + (f", {run.skipped} changed meanwhile (left alone)"
                                                            if run.skipped else ""))
