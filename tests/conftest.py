import pytest

from syncer import mirror
from tests import builders


@pytest.fixture
def load():
    """Load Heify-shaped payloads through the one upsert path."""

    def _load(**resources):
        return mirror.load_snapshot(builders.snapshot(**resources))

    return _load
