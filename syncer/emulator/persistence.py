"""Keeping an emulated account between runs: its objects in one JSON file (the heify_load format).

The demo (`make run`) starts the emulator with `--state-file var/heify-emulator.json`:
the account is read back from the file when there is one, so an archive or a
metadata edit made in the back office survives a restart, as it would in a
real Heify account. A `StateSaver` writes the file at most once a `interval`
after any change (and once more when it stops), atomically, so a killed
emulator leaves the last whole account behind, never half a file.

Only the objects are kept: faults, webhook deliveries, analytics counts and
uploads still being processed are the running emulator's business.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from syncer import contract
from syncer.emulator.state import EmulatorState

log = logging.getLogger(__name__)

SAVE_INTERVAL_SECONDS = 1.0


def state_save(state: EmulatorState, path: Path) -> None:
    """Write the account's objects to `path` (via a temporary file in the same folder, then a rename)."""
    snapshot = {resource: state.objects(resource) for resource in contract.RESOURCES}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(snapshot, out, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def state_load(state: EmulatorState, path: Path) -> bool:
    """Load the account kept in `path` into `state`; False when there is no such file.

    A file that is not an account raises FixtureError (or a JSON/OS error): the
    caller says so rather than silently starting afresh over the user's work.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            snapshot = json.load(handle)
    except FileNotFoundError:
        return False
    state.load(snapshot)
    return True


class StateSaver:
    """A daemon thread that saves `state` to `path` whenever it changed (its `revision` moved)."""

    def __init__(self, state: EmulatorState, path: Path, interval: float = SAVE_INTERVAL_SECONDS):
        self.state, self.path, self.interval = state, path, interval
        self._saved_revision = state.revision
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heify-emulator-saver", daemon=True)

    def save_if_changed(self) -> bool:
        revision = self.state.revision
        if revision == self._saved_revision:
            return False
        state_save(self.state, self.path)
        self._saved_revision = revision
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.save_if_changed()
            except Exception:  # keep trying: a full disk now may be free at the next change
                log.exception("could not save the emulator's account to %s", self.path)

    def start(self) -> StateSaver:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop, and save the last changes."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.save_if_changed()
