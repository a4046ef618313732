"""An emulator of the Heify API: a real HTTP server that tests and the demo talk to.

No development or CI machine reaches api.heify.com, so the production client
(syncer.client) is pointed at this instead. It follows the API as the notes
describe it (shared/heify-api-notes.md, sections 1, 2 and 4) and as
syncer.contract assumes it, validates with qa.mirror.rules, and can inject faults.

    with running_emulator(EmulatorState(processing_seconds=0)) as heify:
        httpx.get(heify.url + "/configuration", headers={"x-api-key": heify.api_key})
        heify.state.burst_429(2, retry_after=1)
        heify.state.set_faults(Faults(error_rate=0.1, rate_429=0.05, latency=0.02))

`python manage.py heify_emulator` serves one in the foreground. Nothing here
touches the database.
"""

from syncer.emulator.app import EmulatorApp
from syncer.emulator.errors import ApiError
from syncer.emulator.faults import Faults, RequestRecord
from syncer.emulator.reports import participant_report_from_payloads
from syncer.emulator.server import RunningEmulator, running_emulator, serve_forever
from syncer.emulator.state import EmulatorState, FixtureError
from syncer.emulator.transcriptions import WebhookDelivery

__all__ = [
    "ApiError",
    "EmulatorApp",
    "EmulatorState",
    "Faults",
    "FixtureError",
    "RequestRecord",
    "RunningEmulator",
    "WebhookDelivery",
    "participant_report_from_payloads",
    "running_emulator",
    "serve_forever",
]
