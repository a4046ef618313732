"""How much a review move's push to Heify costs the worker (issue 24): CPU and wall time per push.

    .venv/bin/python benchmarks/push.py                  # 2,000 demo calls, 200 pushes, SQLite
    .venv/bin/python benchmarks/push.py --pushes 100 --profile 25

One process, a throw-away SQLite file, the emulator on loopback in a thread (its CPU is counted: it is on the same
machine in the load test too). The demo account is pulled, then calls of the pending queue are moved one by one
the way a review move leaves them (group changed, version raised, waiting) and pushed with `syncer.push.push_one`,
as the `push_change` job does. Baseline, same run: the push's two requests alone (GET and PATCH of the same
calls through one client), which no push can do without.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="show the N costliest functions of the pushes")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/push.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "heifyadmin.settings_test"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import F

    from qa.mirror.models import SyncState, Transcription
    from syncer import demo, pull, push
    from syncer.client import get_client
    from syncer.emulator import EmulatorState, running_emulator

    call_command("migrate", verbosity=0)
    with running_emulator(EmulatorState(api_key="bench", processing_seconds=0)) as heify:
        settings.HEIFY_API_URL, settings.HEIFY_API_KEY = heify.url, heify.api_key
        heify.state.load(demo.generate(seed=3, transcriptions=args.calls, now=datetime(2026, 3, 21, 12, tzinfo=UTC)))
        pull.pull()
        pks = list(Transcription.objects.filter(group="PENDING_REVIEW").values_list("pk", "heify_id")[:args.pushes])
        profile = cProfile.Profile()
        times, cpus = [], []
        for pk, _ in pks:
            Transcription.objects.filter(pk=pk).update(
                group="UNDER_REVIEW", sync_state=SyncState.WAITING, version=F("version") + 1)
            wall, cpu = time.perf_counter(), time.process_time()
            profile.enable()
            outcome = push.push_one(Transcription, pk)
            profile.disable()
            times.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert outcome == "pushed", outcome
        base_times, base_cpus = [], []
        with get_client() as client:
            for _, heify_id in pks:
                wall, cpu = time.perf_counter(), time.process_time()
                client.get("transcriptions", heify_id)
                client.patch_transcription(heify_id, name=None, group="ARCHIVED")
                base_times.append(time.perf_counter() - wall)
                base_cpus.append(time.process_time() - cpu)
    n = len(pks)
    print(f"{n} pushes of {args.calls} calls (load average {os.getloadavg()[0]:.2f})")
    print("| what | median ms | cpu ms (median) |\n|---|---|---|")
    print(f"| push_one | {statistics.median(times) * 1000:.1f} | {statistics.median(cpus) * 1000:.1f} |")
    print(f"| its two requests alone (baseline) | {statistics.median(base_times) * 1000:.1f} | "
          f"{statistics.median(base_cpus) * 1000:.1f} |")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
