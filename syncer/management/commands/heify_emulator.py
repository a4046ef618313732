"""python manage.py heify_emulator: serve the Heify API emulator in the foreground until Ctrl-C.

Point the back office at it with HEIFY_API_URL=<the printed URL> and
HEIFY_API_KEY=<the printed key>. It touches no database. With --state-file the
account is kept in that file between runs (`make run` keeps it in
var/heify-emulator.json; `make reset` deletes it).
"""

import json
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syncer import contract, demo
from syncer.emulator import EmulatorState, Faults, FixtureError, serve_forever
from syncer.emulator.persistence import StateSaver, state_load, state_save
from syncer.emulator.state import DEFAULT_API_KEY
from syncer.emulator.transcriptions import DEFAULT_PROCESSING_SECONDS


class Command(BaseCommand):
    help = (
        "Serve an emulator of the Heify API over HTTP (an empty account, a fixture file in the heify_load "
        "format, and/or the deterministic demo account). Ctrl-C stops it."
    )
    requires_system_checks = []  # it serves no Django view and uses no database

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
        parser.add_argument("--fixture", help="a JSON file in the heify_load format to preload")
        parser.add_argument("--demo", action="store_true", help="preload the deterministic demo account")
        parser.add_argument(
            "--demo-transcriptions", type=int, default=3000, help="transcriptions in the demo account (default 3000)"
        )
        parser.add_argument("--seed", type=int, default=7, help="seed of the demo account and the emulator (default 7)")
        parser.add_argument(
            "--state-file", type=Path,
            help="keep the account in this JSON file between runs: read it when it exists (then --demo and "
                 "--fixture are not loaded), and write every change to it",
        )
        parser.add_argument("--api-key", help="the x-api-key to require (default: HEIFY_API_KEY or 'emulator-key')")
        parser.add_argument(
            "--processing-seconds", type=float, default=DEFAULT_PROCESSING_SECONDS,
            help=f"how long an upload takes to finish (default {DEFAULT_PROCESSING_SECONDS:g}; 0: at the next read)",
        )
        faults = parser.add_argument_group("faults (all off by default; drawn from an rng seeded with --seed)")
        faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
        faults.add_argument(
            "--slow-rate", type=float, default=0.0, help="fraction of requests that wait --slow-seconds more"
        )
        faults.add_argument("--slow-seconds", type=float, default=0.0)
        faults.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered with a 5xx")
        faults.add_argument(
            "--error-statuses", default="500", help="comma-separated 5xx statuses to draw the errors from (default 500)"
        )
        faults.add_argument("--rate-429", type=float, default=0.0, help="fraction of requests answered 429")
        faults.add_argument("--retry-after", type=float, default=1.0, help="the Retry-After of those 429s (seconds)")

    def handle(self, *args, host, port, fixture, demo_transcriptions, seed, api_key, processing_seconds, state_file,
               **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be from 0 to 65535, not {port}.")
        if demo_transcriptions < 0:
            raise CommandError(f"--demo-transcriptions must be 0 or more, not {demo_transcriptions}.")
        if processing_seconds < 0:
            raise CommandError(f"--processing-seconds must be 0 or more, not {processing_seconds:g}.")
        try:
            faults = Faults(
                latency=options["latency"], slow_rate=options["slow_rate"], slow_seconds=options["slow_seconds"],
                error_rate=options["error_rate"], rate_429=options["rate_429"], retry_after=options["retry_after"],
                error_statuses=tuple(int(code) for code in options["error_statuses"].split(",") if code.strip()),
            )
        except ValueError as exc:
            raise CommandError(f"faults: {exc}") from None
        state = EmulatorState(
            api_key=api_key or getattr(settings, "HEIFY_API_KEY", "") or DEFAULT_API_KEY,
            processing_seconds=processing_seconds,
            seed=seed,
        )
        state.set_faults(faults)
        if state_file and self.load_kept(state, state_file):
            self.stdout.write(f"The account kept in {state_file} (delete it, or `make reset`, to start afresh).")
        else:
            if fixture:
                self.load_fixture(state, fixture)
            if options["demo"]:
                state.load(demo.generate(seed=seed, transcriptions=demo_transcriptions))
            if state_file:
                state_save(state, state_file)
        saver = StateSaver(state, state_file).start() if state_file else None
        # `kill` (run.sh's clean-up) stops it as Ctrl-C does, so the last changes are saved. Ctrl-C is set too:
        # a process started in the background by a shell inherits SIGINT ignored, and Python then leaves it so.
        signal.signal(signal.SIGTERM, _stop_serving)
        signal.signal(signal.SIGINT, _stop_serving)
        try:
            serve_forever(state, host=host, port=port, ready=self.announce)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        finally:
            if saver is not None:
                saver.stop()
        self.stdout.write("Heify emulator stopped.")

    def load_kept(self, state: EmulatorState, path: Path) -> bool:
        try:
            return state_load(state, path)
        except (OSError, ValueError) as exc:  # FixtureError and JSONDecodeError are ValueErrors
            raise CommandError(
                f"the account kept in {path} cannot be read ({exc}); delete the file (or `make reset`) "
                "to start afresh"
            ) from None

    def load_fixture(self, state: EmulatorState, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                snapshot = json.load(handle)
        except OSError as exc:
            raise CommandError(f"cannot read the fixture {path}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"the fixture {path} is not valid JSON: {exc}") from None
        try:
            state.load(snapshot)
        except FixtureError as exc:
            raise CommandError(f"the fixture {path} was not loaded: {exc}") from None

    def announce(self, emulator) -> None:
        state = emulator.state
        counts = ", ".join(f"{state.count(resource)} {resource}" for resource in contract.RESOURCES)
        self.stdout.write(f"Heify emulator on {emulator.url} (x-api-key: {emulator.api_key}); {counts}.")
        self.stdout.write("Ctrl-C stops it.")
        self.stdout.flush()


def _stop_serving(signum, frame):
    raise KeyboardInterrupt
