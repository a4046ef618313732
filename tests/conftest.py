import pytest

from syncer import mirror
from tests import builders


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production settings redirect to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def load():
    """Load Heify-shaped payloads through the one upsert path."""

    def _load(**resources):
        return mirror.load_snapshot(builders.snapshot(**resources))

    return _load
