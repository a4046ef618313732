"""python manage.py reset_demo (what `make reset` runs): start the demo afresh.

Empties the database and forgets the emulator's kept account (HEIFY_VAR_DIR/heify-emulator.json), both or
neither as far as the next `make run` can tell: the database first, in one transaction (`flush`), then the
file. Were the file gone and the database full, the next run would mark every call gone and make a new one
for each; an empty database and the old account is a clean start from that account, and a rerun finishes.

It refuses while `make run` (scripts/run.sh) serves from the same HEIFY_VAR_DIR: both take the lock on
HEIFY_VAR_DIR/run.lock (flock), which run.sh holds for as long as anything it started runs, and in which the
holder writes who it is.
"""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LOCK = "run.lock"
KEPT_ACCOUNT = "heify-emulator.json"


@contextmanager
def demo_lock(var_dir: Path, holder: str):
    """Hold HEIFY_VAR_DIR's demo lock (the one scripts/run.sh holds), or say who holds it. `holder` says what
    this process is doing, for one that is refused meanwhile."""
    path = var_dir / LOCK
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(
                f"Refused: {path.read_text().strip() or f'make run is serving from {var_dir}'} ({path} is held by it "
                "or a process it started). Stop it first (Ctrl-C where it runs); nothing was reset."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode())
        yield
    finally:
        os.close(fd)


class Command(BaseCommand):
    help = "Empty the database and forget the emulator's kept account, unless make run is serving."

    def handle(self, *args, **options):
        var_dir = settings.VAR_DIR
        var_dir.mkdir(parents=True, exist_ok=True)
        kept_account = var_dir / KEPT_ACCOUNT
        with demo_lock(var_dir, holder=f"make reset (pid {os.getpid()}) is resetting {var_dir}"):
            try:
                call_command("migrate", interactive=False, verbosity=0)
                call_command("flush", interactive=False, verbosity=0)
            except Exception as error:
                # flush empties it in one transaction, then ensures the roles: the database is as it was, or empty.
                # Either goes with the kept account: the next make run pulls it in without marking anything gone.
                raise CommandError(
                    f"Reset stopped: the database could not be emptied ({error}). The emulator's kept account is "
                    "left as it was. Run 'make reset' again."
                ) from error
            try:
                kept_account.unlink(missing_ok=True)
            except OSError as error:
                raise CommandError(
                    f"The database was emptied, but the emulator's kept account {kept_account} could not be removed "
                    f"({error}): the next 'make run' would start from that account again. Run 'make reset' again "
                    "once it can be removed."
                ) from error
        self.stdout.write("Reset: the next 'make run' starts from a new demo account (and a new admin password).")
