import os

import psycopg
import pytest

from syncer import mirror
from tests import builders


def pytest_sessionstart(session):
    """The suite reads the screens in Spanish too: compile our catalogues (locale/*.po) as `make run` does."""
    import shutil

    from django.core.management import call_command

    if shutil.which("msgfmt") is None:
        raise pytest.UsageError("gettext's msgfmt is needed to compile the catalogues: apt-get install gettext")
    call_command("compilemessages", ignore_patterns=[".venv", "staticfiles", "var"], verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """DRF's throttles count in the cache, which outlives a test: every test starts uncounted."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _site_language():
    """A request read in Spanish leaves Spanish active in the thread (LocaleMiddleware activates, nothing resets):
    every test starts, and ends, in the site's language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def fresh_database(tmp_path):
    """A DATABASE_URL of a fresh, empty database of the same kind as the test database (an SQLite file, or a
    PostgreSQL database beside it), for processes started by a test; dropped afterwards."""
    from django.db import connection

    from qa.db import on_postgresql

    settings = connection.settings_dict
    if not on_postgresql():
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"{settings['NAME'] or 'heify'}_fresh_{os.getpid()}"[:63]
    server = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def load():
    """Load Heify-shaped payloads through the one upsert path."""

    def _load(**resources):
        return mirror.load_snapshot(builders.snapshot(**resources))

    return _load


@pytest.fixture
def pending_calls(load):
    """`pending_calls(n)`: n pending calls of one agent on one day ("call 0", "call 1", ...), as stored, by name."""

    def _pending_calls(count: int):
        from qa.mirror.models import Transcription

        agent = builders.participant_payload()
        load(participants=[agent], transcriptions=[
            builders.transcription_payload(group="PENDING_REVIEW", participant=agent, name=f"call {n}",
                                           created_at="2026-03-02T10:00:00Z") for n in range(count)])
        return list(Transcription.objects.order_by("name"))

    return _pending_calls


@pytest.fixture
def heify(settings):
    """A Heify emulator on loopback, with the back office's settings pointing at it."""
    from syncer.emulator import EmulatorState, running_emulator

    with running_emulator(EmulatorState(api_key="test-key", processing_seconds=0)) as server:
        settings.HEIFY_API_URL = server.url
        settings.HEIFY_API_KEY = server.api_key
        yield server


@pytest.fixture
def heify_account(heify):
    """The emulator preloaded with a small deterministic demo account."""
    from datetime import UTC, datetime

    from syncer import demo

    heify.state.load(demo.generate(seed=3, transcriptions=120, now=datetime(2026, 3, 21, 12, tzinfo=UTC)))
    return heify


@pytest.fixture(scope="session", autouse=True)
def _no_sqlite_side_files_left():
    """The SQLite test database is a file (settings_test); Django removes it, not always its WAL files."""
    yield
    from pathlib import Path

    from django.conf import settings

    name = str(settings.DATABASES["default"].get("TEST", {}).get("NAME") or "")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
