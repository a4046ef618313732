"""The report tests' fixtures: one participant (`agent`) and one evaluator (`scorecard`), loaded through the
one upsert path."""

import pytest

from tests import builders


@pytest.fixture
def agent(load) -> dict:
    payload = builders.participant_payload()
    load(participants=[payload])
    return payload


@pytest.fixture
def scorecard(load) -> dict:
    payload = builders.evaluator_payload(tag="Support")
    load(evaluators=[payload])
    return payload
