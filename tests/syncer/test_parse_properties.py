"""Property-based tests (hypothesis): qa.mirror.rules and the one way in (heify_load, mirror.parse_*, load_snapshot)
on arbitrary JSON.

Whatever comes in is accepted whole or refused with the documented error
(ValidationError from the rules, PayloadError from the mirror) naming the
place; nothing else is raised, and a refusal leaves the database as it was.
Bounded: `max_examples` per test below; no deadline (a database is involved).
"""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import limits
from qa.mirror import rules
from qa.mirror.models import Configuration, Criterion, Evaluator, ExtractionField, Participant, Transcription
from syncer import contract, mirror
from tests import builders

BOUNDED = settings(
    max_examples=120, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- arbitrary JSON, with the values that have broken things before -------------------------------------

NASTY_TEXT = st.sampled_from([
    "", " ", "x\x00y", "\ud800", "a\udfffb", "x" * 300, "x" * (limits.TEXT_MAX_LENGTH + 1), "NaN", "1e999",
    "../participant/x", "3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f", "COMPLETED", "BOOLEAN", "strict", "en", "df",
    "https://example.com/ok", "2026-03-07T10:00:00Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00",
])
TEXT = st.text(max_size=20) | NASTY_TEXT
NUMBERS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 5, 100, -1, 0.5, 33.33, 2**63, -(2**63), 10**4000])  # repr-able: under 4,300 digits
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


DEEP = st.integers(min_value=limits.JSON_MAX_DEPTH - 2, max_value=limits.JSON_MAX_DEPTH + 40).map(deep)
VALUES = JSON | DEEP


# --- qa.mirror.rules -----------------------------------------------------------------------------------------------


def field_data(keys):
    return st.fixed_dictionaries({}, optional={key: VALUES for key in keys})


@BOUNDED
@given(data=field_data(["tag", "metadata"]))
def test_clean_participant_accepts_or_refuses_by_field(data):
    try:
        cleaned = rules.clean_participant(data)
    except ValidationError as exc:
        assert set(exc.message_dict) <= {"tag", "metadata"} and exc.message_dict
        return
    assert limits.json_problem(cleaned["metadata"]) is None and isinstance(cleaned["metadata"], dict)


@BOUNDED
@given(data=field_data(["tag", "description", "language", "context", "criteria"]),
       criteria=st.lists(field_data(["name", "description", "type", "weight", "id"]), max_size=12))
def test_clean_evaluator_accepts_or_refuses_by_field(data, criteria):
    data = {**data, "criteria": criteria} if "criteria" not in data else data
    try:
        cleaned, _notices = rules.clean_evaluator(data)
    except ValidationError as exc:
        assert set(exc.message_dict) <= {"tag", "description", "language", "context", "criteria"}
        return
    assert limits.json_problem(cleaned["context"]) is None
    assert rules.CRITERIA_MIN <= len(cleaned["criteria"]) <= rules.CRITERIA_MAX


@BOUNDED
@given(data=field_data(["tag", "vocabulary", "summary", "summary_language", "analytics_language",
                        "webhook_success_url", "webhook_error_url", "extraction_fields"]))
def test_clean_configuration_accepts_or_refuses_by_field(data):
    try:
        rules.clean_configuration(data)
    except ValidationError as exc:
        assert exc.message_dict


@BOUNDED
@given(value=VALUES)
def test_clean_json_value_and_parse_json_agree(value):
    try:
        text = json.dumps(value, allow_nan=True)
    except (ValueError, RecursionError):
        return
    try:
        limits.clean_json_value(value, field="value", max_bytes=None)
        accepted = True
    except ValidationError as exc:
        assert exc.messages[0].startswith("value")
        accepted = False
    try:
        parsed = limits.parse_json(text, field="value", max_bytes=None)
    except ValidationError:
        assert not accepted or '"\\ud' in text  # an escaped surrogate pair json reads back as one character
        return
    assert accepted and parsed == value


@BOUNDED
@given(text=st.text(alphabet="[]{}\":,0123456789.eE-+ aNInfinityrulsx\\u\x00", max_size=60) | st.text(max_size=40))
def test_parse_json_on_arbitrary_text_answers_a_value_or_a_validation_error(text):
    try:
        value = limits.parse_json(text, field="body")
    except ValidationError as exc:
        assert exc.messages[0].startswith("body")
        return
    assert limits.json_problem(value) is None


# --- the mirror: parse_* and load_snapshot ------------------------------------------------------------------


def payloads() -> dict[str, dict]:
    configuration = builders.configuration_payload()
    evaluator = builders.evaluator_payload()
    participant = builders.participant_payload()
    return {
        "configurations": configuration,
        "evaluators": evaluator,
        "participants": participant,
        "transcriptions": builders.transcription_payload(
            configuration=configuration, evaluator=evaluator, participant=participant),
    }


def paths(value, prefix=()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutated(resource: str):
    """A valid payload of `resource` with a few of its values (at any depth) replaced or removed."""
    base = payloads()[resource]
    where = st.sampled_from(paths(base))
    change = st.tuples(where, st.none() | VALUES, st.booleans())
    return st.lists(change, min_size=1, max_size=3).map(lambda changes: apply(base, changes))


def apply(base: dict, changes) -> dict:
    payload = copy.deepcopy(base)
    for path, value, remove in changes:
        parent = payload
        for key in path[:-1]:  # an earlier change may have replaced part of the path
            if not has(parent, key):
                break
            parent = parent[key]
        else:
            last = path[-1]
            if isinstance(parent, dict) and isinstance(last, str):
                if remove:
                    parent.pop(last, None)
                else:
                    parent[last] = value
            elif has(parent, last) and isinstance(parent, list):
                parent[last] = value
    return payload


def has(parent, key) -> bool:
    if isinstance(parent, dict):
        return isinstance(key, str) and key in parent
    return isinstance(parent, list) and isinstance(key, int) and key < len(parent)


def database_state() -> list:
    """Everything the mirror writes, to compare before and after a refused load."""
    return [
        sorted(map(repr, model.objects.values_list()))
        for model in (Configuration, ExtractionField, Evaluator, Criterion, Participant, Transcription)
    ]


RESOURCE_PAYLOADS = st.sampled_from(contract.RESOURCES).flatmap(lambda r: st.tuples(st.just(r), mutated(r)))


@pytest.mark.django_db
@BOUNDED
@given(case=RESOURCE_PAYLOADS, index=st.integers(min_value=0, max_value=3))
def test_parse_names_the_place_or_gives_rows_the_database_takes(case, index):
    resource, payload = case
    try:
        parsed = mirror.parse_batch(resource, [payload], start=index)
    except mirror.PayloadError as exc:
        ident = payload.get(contract.ID_FIELDS[resource]) if isinstance(payload, dict) else None
        where = f"{resource}[{index}]" + (f" ({ident})" if contract.is_heify_id(ident) else "")
        assert str(exc).startswith(where + ": "), (str(exc), where)
        return
    assert len(parsed) == 1
    mirror.load_snapshot({resource: [payload]})  # accepted whole: the database takes every value


@pytest.mark.django_db
@BOUNDED
@given(snapshot=st.fixed_dictionaries({}, optional={
    resource: st.lists(mutated(resource) | st.just(payloads()[resource]), max_size=3) | VALUES
    for resource in contract.RESOURCES
}) | VALUES)
def test_load_snapshot_is_all_or_nothing(snapshot):
    before = database_state()
    try:
        mirror.load_snapshot(snapshot)
    except mirror.PayloadError as exc:
        assert str(exc)
        assert database_state() == before  # nothing half-written
        return


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=RESOURCE_PAYLOADS)
def test_heify_load_on_arbitrary_files_answers_loaded_or_a_clear_error(tmp_path_factory, case):
    resource, payload = case
    try:
        text = json.dumps({resource: [payload]}, allow_nan=True)
    except (ValueError, RecursionError):
        return
    file = tmp_path_factory.mktemp("load") / "account.json"
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = database_state()
    try:
        call_command("heify_load", str(file), stdout=io.StringIO())
    except CommandError as exc:
        assert "nothing was loaded" in str(exc)
        assert database_state() == before
