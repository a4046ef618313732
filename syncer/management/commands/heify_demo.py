"""python manage.py heify_demo: write a deterministic demo account as Heify JSON.

The output is in the `heify_load` format, so `heify_demo --out demo.json` then
`heify_load demo.json` fills the back office with realistic data.
"""

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syncer import demo


class Command(BaseCommand):
    help = (
        "Generate a demo Heify account (configurations, evaluators, participants, transcriptions) "
        "in the heify_load format. The same --seed and --now give the same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument(
            "--transcriptions", type=int, default=3000, help="number of transcriptions (default 3000)"
        )
        parser.add_argument("--out", help="file to write (parent folders are created); default stdout")
        parser.add_argument(
            "--now", help="ISO 8601 moment the data is dated back from (default: the current UTC time)"
        )

    def handle(self, *args, seed, transcriptions, out, now, **options):
        if transcriptions < 0:
            raise CommandError(f"--transcriptions must be 0 or more, not {transcriptions}.")
        moment = None
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now must be an ISO 8601 date-time, not {now!r}.") from None
        data = demo.generate(seed=seed, transcriptions=transcriptions, now=moment)
        text = json.dumps(data, ensure_ascii=False)
        if not out:
            self.stdout.write(text)
            return
        path = Path(out)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
        statuses = Counter(t["status"] for t in data["transcriptions"])
        self.stderr.write(
            f"Wrote {path}: {len(data['configurations'])} configurations, {len(data['evaluators'])} evaluators, "
            f"{len(data['participants'])} participants, {len(data['transcriptions'])} transcriptions ("
            + ", ".join(f"{statuses[s]} {s}" for s in ("COMPLETED", "FAILED", "IN_PROGRESS", "PENDING"))
            + f"), seed {seed}.",
            style_func=str,  # a summary, not an error: no red
        )
