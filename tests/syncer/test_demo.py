"""The demo-data generator (syncer.demo) and its `heify_demo` command."""

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qa.mirror import rules
from syncer import contract, demo, mirror
from syncer.demo import account, generator

NOW = datetime(2026, 3, 14, 15, 30, 12, 345678, tzinfo=UTC)
COUNT = 600

CONFIGURATION_KEYS = {
    "configuration_id", "client_id", "tag", "vocabulary", "extraction_fields", "summary",
    "summary_language", "analytics_language", "webhooks", "created_at",
}
EVALUATOR_KEYS = {
    "evaluator_id", "client_id", "tag", "description", "language", "context", "criteria", "created_at",
    "updated_at",
}
PARTICIPANT_KEYS = {"participant_id", "client_id", "tag", "metadata", "created_at", "updated_at"}
TRANSCRIPTION_KEYS = {
    "transcription_id", "client_id", "status", "configuration_id", "configuration_tag", "evaluator_id",
    "participant_id", "name", "group", "duration", "created_at",
}
FIELD_TYPES = {"string": str, "number": (int, float), "boolean": bool, "array": list}


@pytest.fixture(scope="module")
def data():
    return demo.generate(seed=7, transcriptions=COUNT, now=NOW)


def when(value: str) -> datetime:
    return contract.parse_timestamp(value)


def by_id(items, key):
    return {item[key]: item for item in items}


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_and_now_give_identical_output(data):
    again = demo.generate(seed=7, transcriptions=COUNT, now=NOW)
    assert json.dumps(again) == json.dumps(data)


def test_another_seed_or_another_now_gives_other_data(data):
    assert json.dumps(demo.generate(seed=8, transcriptions=COUNT, now=NOW)) != json.dumps(data)
    later = demo.generate(seed=7, transcriptions=COUNT, now=NOW + timedelta(days=1))
    assert json.dumps(later) != json.dumps(data)


def test_now_defaults_to_the_current_time():
    before = datetime.now(UTC)
    generated = demo.generate(transcriptions=50)
    after = datetime.now(UTC)
    dates = [when(t["created_at"]) for t in generated["transcriptions"]]
    assert max(dates) <= after
    assert min(dates) >= before - timedelta(days=account.SPAN_DAYS + 1)


def test_a_naive_now_is_utc():
    naive = demo.generate(transcriptions=30, now=NOW.replace(tzinfo=None))
    assert naive == demo.generate(transcriptions=30, now=NOW)


def test_editing_the_output_does_not_change_the_next_one():
    first = demo.generate(transcriptions=5, now=NOW)
    pristine = json.dumps(first)
    for participant in first["participants"]:
        for value in participant["metadata"].values():
            if isinstance(value, (list, dict)):
                value.clear()
    for evaluator in first["evaluators"]:
        if isinstance(evaluator["context"], dict):
            evaluator["context"].clear()
        evaluator["criteria"].clear()
    assert json.dumps(demo.generate(transcriptions=5, now=NOW)) == pristine


@pytest.mark.parametrize("count", [-1, 2.5, True])
def test_a_bad_count_is_refused(count):
    with pytest.raises(ValueError, match="transcriptions"):
        demo.generate(transcriptions=count)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_tiny_accounts_work(count):
    generated = demo.generate(transcriptions=count, now=NOW)
    assert len(generated["transcriptions"]) == count
    assert len(generated["evaluators"]) == 4


# --- shapes -------------------------------------------------------------------------------------


def test_every_object_has_exactly_heifys_shape(data):
    assert list(data) == list(contract.RESOURCES)
    assert all(set(c) == CONFIGURATION_KEYS for c in data["configurations"])
    assert all(set(e) == EVALUATOR_KEYS for e in data["evaluators"])
    assert all(set(p) == PARTICIPANT_KEYS for p in data["participants"])
    for t in data["transcriptions"]:
        extra = {"details"} if t["status"] == "COMPLETED" else {"error"} if t["status"] == "FAILED" else set()
        assert set(t) == TRANSCRIPTION_KEYS | extra, t["status"]
    assert len({item["client_id"] for items in data.values() for item in items}) == 1
    ids = [item[contract.ID_FIELDS[r]] for r in contract.RESOURCES for item in data[r]]
    assert len(ids) == len(set(ids))


def test_configurations_are_valid_and_varied(data):
    configurations = data["configurations"]
    assert 2 <= len(configurations) <= 3
    for c in configurations:
        rules.clean_tag(c["tag"])
        assert rules.clean_vocabulary(c["vocabulary"])
        assert 2 <= len(rules.clean_extraction_fields(c["extraction_fields"])) <= 5
        for key in ("summary_language", "analytics_language"):
            assert rules.clean_language(c[key], field=key) == c[key]
        assert set(c["webhooks"]) == {"success_url", "error_url"}
        for url in c["webhooks"].values():
            rules.clean_webhook_url(url, field="webhook")
    assert {c["summary"] for c in configurations} == {True, False}
    assert {f["type"] for c in configurations for f in c["extraction_fields"]} == set(FIELD_TYPES)


def test_evaluators_pass_the_criteria_rules(data):
    evaluators = data["evaluators"]
    assert len(evaluators) == 4
    kinds = set()
    for e in evaluators:
        cleaned, notices = rules.clean_criteria(e["criteria"])
        assert notices == []
        assert 3 <= len(cleaned) <= 8
        assert sum(c["weight"] for c in cleaned if c["type"] != rules.STRICT) == 100
        for criterion in e["criteria"]:
            assert criterion["type"] == criterion["type"].upper()
            assert criterion["id"]
            if criterion["type"] == "STRICT":
                assert criterion["weight"] == 0
            kinds.add(criterion["type"])
        rules.clean_evaluator(e)
        assert when(e["created_at"]) <= when(e["updated_at"]) <= NOW
    assert kinds == {"BOOLEAN", "SCALE", "STRICT"}


def test_participants_have_realistic_metadata(data):
    participants = data["participants"]
    assert len(participants) == 12
    for p in participants:
        rules.clean_participant(p)
        assert {"email", "role", "department", "employee_id", "hire_date", "shift"} <= set(p["metadata"])
        assert "@" in p["metadata"]["email"]
        assert when(p["created_at"]) <= when(p["updated_at"]) <= NOW
    assert len({p["metadata"]["employee_id"] for p in participants}) == 12


# --- transcriptions ----------------------------------------------------------------------------


def test_every_status_and_group_is_present(data):
    transcriptions = data["transcriptions"]
    statuses = Counter(t["status"] for t in transcriptions)
    assert set(statuses) == set(rules.STATUSES)
    assert 0.8 <= statuses["COMPLETED"] / len(transcriptions) <= 0.92
    assert {t["group"] for t in transcriptions} == {*rules.GROUPS, None}


def test_dates_span_four_months_with_the_current_and_previous_month(data):
    dates = [when(t["created_at"]) for t in data["transcriptions"]]
    assert max(dates) <= NOW
    assert min(dates) >= NOW - timedelta(days=account.SPAN_DAYS)
    months = {d.strftime("%Y-%m") for d in dates}
    assert {"2026-03", "2026-02", "2026-01", "2025-12"} <= months
    assert dates == sorted(dates, reverse=True)  # newest first
    for t in data["transcriptions"]:
        assert t["created_at"].endswith("+00:00")


def test_the_current_month_has_calls_even_on_its_first_hour():
    month_start = datetime(2026, 4, 1, 0, 20, tzinfo=UTC)
    generated = demo.generate(transcriptions=200, now=month_start)
    months = Counter(t["created_at"][:7] for t in generated["transcriptions"])
    assert months["2026-04"] >= 1 and months["2026-03"] >= 1


def test_details_only_when_completed_and_error_only_when_failed(data):
    for t in data["transcriptions"]:
        assert ("details" in t) == (t["status"] == "COMPLETED")
        assert ("error" in t) == (t["status"] == "FAILED")
        if t["status"] == "FAILED":
            assert set(t["error"]) == {"code", "message"} and t["error"]["code"] and t["error"]["message"]
        assert isinstance(t["duration"], float) and 60 <= t["duration"] <= 1200


def test_transcriptions_point_at_existing_objects(data):
    configurations = by_id(data["configurations"], "configuration_id")
    evaluators = by_id(data["evaluators"], "evaluator_id")
    participants = by_id(data["participants"], "participant_id")
    for t in data["transcriptions"]:
        assert configurations[t["configuration_id"]]["tag"] == t["configuration_tag"]
        assert t["evaluator_id"] is None or t["evaluator_id"] in evaluators
        assert t["participant_id"] is None or t["participant_id"] in participants
        for parent in (t["evaluator_id"] and evaluators[t["evaluator_id"]],
                       t["participant_id"] and participants[t["participant_id"]]):
            if parent:
                assert when(parent["created_at"]) <= when(t["created_at"])
    assert any(t["evaluator_id"] is None for t in data["transcriptions"])
    assert any(t["participant_id"] is None for t in data["transcriptions"])


def test_completed_details_are_consistent(data):
    configurations = by_id(data["configurations"], "configuration_id")
    for t in data["transcriptions"]:
        if t["status"] != "COMPLETED":
            continue
        details, configuration = t["details"], configurations[t["configuration_id"]]
        assert when(t["created_at"]) <= when(details["created_at"]) <= when(details["completed_at"]) <= NOW
        segments = details["conversation"]["segments"]
        assert 6 <= len(segments) <= 20
        assert segments[0]["speaker"] == "SPEAKER_00" and all(s["text"] for s in segments)
        assert "{" not in "".join(s["text"] for s in segments)
        assert details["num_speakers"] == len({s["speaker"] for s in segments})
        assert ("summary" in details) == configuration["summary"]
        if configuration["summary"]:
            assert details["summary"]["summary"]
        fields = details["fields"]["fields"]
        assert [f["name"] for f in fields] == [f["name"] for f in configuration["extraction_fields"]]
        for value, spec in zip((f["value"] for f in fields), configuration["extraction_fields"], strict=True):
            assert value is None or isinstance(value, FIELD_TYPES[spec["type"]]), (spec, value)
            if spec["type"] == "number":
                assert not isinstance(value, bool)
        assert ("evaluation" in details) == (t["evaluator_id"] is not None)


def test_evaluations_are_what_the_scoring_rule_gives(data):
    """Each evaluation is evaluation_score's output for some verdicts: its score
    lies within what the passed/failed flags allow, criterion by criterion."""
    evaluators = by_id(data["evaluators"], "evaluator_id")
    scored = 0
    for t in data["transcriptions"]:
        evaluation = t.get("details", {}).get("evaluation")
        if evaluation is None:
            continue
        scored += 1
        criteria = evaluators[t["evaluator_id"]]["criteria"]
        results = evaluation["criteria_results"]
        assert [r["name"] for r in results] == [c["name"] for c in criteria]
        low = high = 0.0
        critical = False
        for criterion, result in zip(criteria, results, strict=True):
            weight = float(criterion["weight"])
            if criterion["type"] == "BOOLEAN" and result["passed"]:
                low, high = low + weight, high + weight
            elif criterion["type"] == "SCALE":
                low += weight * (3 if result["passed"] else 1) / 5
                high += weight * (5 if result["passed"] else 2) / 5
            elif criterion["type"] == "STRICT" and not result["passed"]:
                critical = True
        assert 0 <= evaluation["score"] <= 100
        assert low - 0.01 <= evaluation["score"] <= high + 0.01
        assert evaluation["critical_fail_triggered"] is critical
        # Boolean and strict verdicts alone: the rule gives exactly this.
        if all(c["type"] != "SCALE" for c in criteria):
            verdicts = {r["name"]: r["passed"] for r in results}
            assert rules.evaluation_score(criteria, verdicts) == evaluation
    assert scored > COUNT / 2


def test_agents_differ_and_one_degrades(data):
    tags = {p["participant_id"]: p["tag"] for p in data["participants"]}
    scores = defaultdict(list)  # newest first
    for t in data["transcriptions"]:
        evaluation = t.get("details", {}).get("evaluation")
        if evaluation and t["participant_id"]:
            scores[tags[t["participant_id"]]].append(evaluation["score"])

    def mean(values):
        return sum(values) / len(values)

    assert mean(scores["Sarah Johnson"]) > mean(scores["Daniel Kim"]) + 20
    emma = scores["Emma Wilson"]
    assert mean(emma[:10]) <= mean(emma[10:20]) - 10  # the analytics' degradation alert fires
    assert mean(emma[40:]) > 70  # she used to be good


def test_critical_fails_wait_for_review_more_often(data):
    completed = [t for t in data["transcriptions"] if t.get("details", {}).get("evaluation")]
    critical = [t for t in completed if t["details"]["evaluation"]["critical_fail_triggered"]]
    others = [t for t in completed if not t["details"]["evaluation"]["critical_fail_triggered"]]
    assert critical

    def pending_share(items):
        return sum(t["group"] == "PENDING_REVIEW" for t in items) / len(items)

    assert pending_share(critical) > 2 * pending_share(others)


def test_open_calls_are_recent(data):
    for t in data["transcriptions"]:
        if t["status"] in ("PENDING", "IN_PROGRESS"):
            assert when(t["created_at"]) >= NOW - generator.OPEN_WINDOW


# --- loading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mirror_loads_it_and_a_second_load_changes_nothing(data):
    first = mirror.load_snapshot(data)
    for resource in contract.RESOURCES:
        assert first[resource].created == len(data[resource]), resource
    second = mirror.load_snapshot(data)
    for resource in contract.RESOURCES:
        result = second[resource]
        assert (result.unchanged, result.created, result.updated) == (len(data[resource]), 0, 0), resource


# --- the command -------------------------------------------------------------------------------


def test_the_command_writes_a_file(tmp_path):
    out = tmp_path / "deep" / "folder" / "demo.json"
    stderr = StringIO()
    call_command("heify_demo", "--transcriptions", "40", "--seed", "3", "--out", str(out),
                 "--now", NOW.isoformat(), stderr=stderr)
    with out.open(encoding="utf-8") as handle:
        written = json.load(handle)
    assert written == json.loads(json.dumps(demo.generate(seed=3, transcriptions=40, now=NOW)))
    summary = stderr.getvalue()
    assert summary.count("\n") == 1 and "40 transcriptions" in summary and "12 participants" in summary


def test_the_command_writes_to_stdout_without_out():
    stdout = StringIO()
    call_command("heify_demo", "--transcriptions", "10", stdout=stdout)
    assert len(json.loads(stdout.getvalue())["transcriptions"]) == 10


def test_the_command_is_byte_identical_with_the_same_seed_and_now(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        call_command("heify_demo", "--transcriptions", "30", "--out", str(path), "--now", "2026-03-14T10:00:00",
                     stderr=StringIO())
    assert paths[0].read_bytes() == paths[1].read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transcriptions", "-5"], "--transcriptions must be 0 or more"),
        (["--now", "yesterday"], "--now must be an ISO 8601"),
    ],
)
def test_the_command_names_a_bad_argument(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("heify_demo", *args, stdout=StringIO())
