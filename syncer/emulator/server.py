"""Serving the emulator over real HTTP: in a background thread for tests, in the foreground for the command.

Both run Werkzeug's threaded server and a ticker thread that advances the
transcription lifecycle and delivers webhooks even when nobody reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from syncer.emulator.app import EmulatorApp
from syncer.emulator.state import EmulatorState

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05
POLL_SECONDS = 0.05  # how soon the server notices a shutdown


class _QuietRequestHandler(WSGIRequestHandler):
    """Request lines go to this module's logger at DEBUG, not to stderr."""

    def log_request(self, code="-", size="-"):
        log.debug("%s %s", self.requestline, code)


@dataclass(frozen=True)
class RunningEmulator:
    url: str  # e.g. http://127.0.0.1:54321, no trailing slash
    state: EmulatorState
    server: BaseWSGIServer

    @property
    def api_key(self) -> str:
        return self.state.api_key


class Ticker:
    """A daemon thread calling `state.tick()` every `interval` seconds until stopped."""

    def __init__(self, state: EmulatorState, interval: float = TICK_SECONDS):
        self.state, self.interval = state, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heify-emulator-ticker", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.state.tick()
            except Exception:  # keep ticking: one bad call must not stop the lifecycle
                log.exception("emulator ticker failed")

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _url(server: BaseWSGIServer, host: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{server.server_port}"


def _server(state: EmulatorState, host: str, port: int, *, quiet: bool) -> BaseWSGIServer:
    return make_server(
        host, port, EmulatorApp(state), threaded=True, request_handler=_QuietRequestHandler if quiet else None
    )


@contextmanager
def running_emulator(
    state: EmulatorState | None = None, *, host: str = "127.0.0.1", port: int = 0, tick_seconds: float = TICK_SECONDS,
) -> Iterator[RunningEmulator]:
    """Serve `state` (default: a fresh, empty account) in a daemon thread; stop on exit.

    Port 0 picks a free port; the yielded object has `.url`, `.state` and `.api_key`.
    """
    state = state if state is not None else EmulatorState()
    server = _server(state, host, port, quiet=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="heify-emulator", daemon=True
    )
    ticker = Ticker(state, tick_seconds).start()
    thread.start()
    try:
        yield RunningEmulator(url=_url(server, host), state=state, server=server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        ticker.stop()


def serve_forever(
    state: EmulatorState, *, host: str = "127.0.0.1", port: int = 8765,
    ready: Callable[[RunningEmulator], None] | None = None, quiet: bool = False,
) -> None:
    """Serve in the calling thread until Ctrl-C; `ready` is called once the port is open."""
    server = _server(state, host, port, quiet=quiet)
    ticker = Ticker(state).start()
    try:
        if ready is not None:
            ready(RunningEmulator(url=_url(server, host), state=state, server=server))
        server.serve_forever(poll_interval=POLL_SECONDS)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        ticker.stop()
