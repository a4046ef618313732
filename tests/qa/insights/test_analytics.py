"""The participant analytics report (qa.insights.analytics): Heify's example reproduced, and each rule on
hand-computed data.

Data goes in as Heify payloads through the one upsert path (the `load` fixture).
"""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from qa.insights import analytics
from qa.mirror import report_rules
from qa.mirror.models import Participant
from syncer.emulator import participant_report_from_payloads
from tests import builders
from tests.qa.insights.conftest import review

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 21)
GROUPS = ("PENDING_REVIEW", "UNDER_REVIEW", "ARCHIVED")
# Heify's example (seeds/analytics-participant.txt), its `data` verbatim; raw_data there shows 2 of the 5 rows.
EXAMPLE = json.loads((Path(__file__).parent / "fixtures" / "analytics_example.json").read_text())
NO_CALLS = {"calls": 0, "avg_score": 0, "pass_rate": 0}
NO_BUCKETS = {"0-20": 0, "21-40": 0, "41-60": 0, "61-80": 0, "81-100": 0}
INSUFFICIENT = {"direction": "insufficient_data", "recent_avg": None, "previous_avg": None, "sample_size": 20}


def call(participant, *, when, score=70, evaluator=None, duration=100.0, critical=False, group=None, failed=(),
         status="COMPLETED", **overrides) -> dict:
    """A call of `participant` dated `when`, scored `score`, failing the criteria named in `failed`."""
    payload = builders.transcription_payload(
        participant=participant, evaluator=evaluator, created_at=when, duration=duration, group=group,
        status=status, **overrides,
    )
    if status == "FAILED":
        payload.update(details=None, error={"code": "audio_unreadable", "message": "The file could not be read."})
    elif "details" not in overrides:
        passed = [c["name"] for c in (evaluator or {}).get("criteria", []) if c["name"] not in failed]
        payload["details"] = {
            **payload["details"],
            "created_at": when,
            "evaluation": {
                "score": score,
                "critical_fail_triggered": critical,
                "criteria_results": [{"name": name, "passed": False} for name in failed]
                + [{"name": name, "passed": True} for name in passed],
            },
        }
    return payload


def march(day: int, clock: str = "10:00:00") -> str:
    return f"2026-03-{day:02d}T{clock}+00:00"


def as_json(data: dict) -> str:
    """Equal dicts can differ as JSON (66 == 66.0, key order): compare what Heify's clients would read."""
    return json.dumps(data, indent=1, ensure_ascii=False)


def report(participant: dict, as_of: date | None = AS_OF) -> dict:
    """participant_report without generated_at (the one figure that depends on the clock)."""
    data = analytics.participant_report(Participant.objects.get(heify_id=participant["participant_id"]), as_of=as_of)
    data["metadata"].pop("generated_at")
    return data


def criterion_id(evaluator: dict, name: str) -> str:
    return next(c["id"] for c in evaluator["criteria"] if c["name"] == name)


# --- Heify's example ----------------------------------------------------------------------------------------

# The five calls the example's figures imply. Durations: raw_data shows 542 for the 66 and the 52.8 calls and
# both are short, yet p25 is 543; with five calls p25 is exactly the second-shortest duration, so it lies in
# [542.5, 543): Heify truncates the durations it shows and rounds the thresholds. The 65 call is medium, the
# 60 and 35 calls long (p75 = the 60 call's 609); pitch's mean duration 2349.7 / 4 = 587.425 shows as 587.
EXAMPLE_PARTICIPANT = "580cc0e1-3a60-49d9-8e20-1745252f0aae"
TEMPORAL = builders.evaluator_payload(
    evaluator_id="a848aaa5-28d6-43eb-bd7c-247f7535aa3a", tag="evaluador temporal",
    criteria=[
        {"id": "881fa6dd-12b2-45e8-9705-0c3485421afe", "name": "Saludo Corporativo",
         "description": "¿Saluda con el nombre de la empresa?", "type": "BOOLEAN", "weight": 34},
        {"id": "3e0b7d55-0c47-4c53-9f7e-0d9a3d0f6a11", "name": "Cierre", "description": "¿Cierra la venta?",
         "type": "BOOLEAN", "weight": 66},
    ],
)
PITCH = builders.evaluator_payload(
    evaluator_id="2abb5563-dd64-47bb-bb17-94252e168b06", tag="pitch temporal",
    criteria=[
        {"id": "2faa4a20-7445-4beb-a09e-2af26872dba3", "name": "Saludo Corporativo inicial2",
         "description": "¿Saludo inicial corporativo?", "type": "BOOLEAN", "weight": 30},
        {"id": "6c1d2a8e-5b7f-4e0a-9c3d-8f1e2b4a6d77", "name": "Pitch", "description": "¿Presenta la oferta?",
         "type": "BOOLEAN", "weight": 70},
    ],
)
EXAMPLE_CALLS = [  # newest first: id, created_at, score, evaluator, group, duration, failed criterion
    ("e927a34c-8f2f-4045-8a15-c0f7a182bab2", "2026-03-12T20:33:14.145386+00:00", 52.8, PITCH, None, 542.7,
     "Saludo Corporativo inicial2"),
    ("7b7f4c52-9f7d-4a57-a4c9-5f0e6a1d2c03", "2026-03-07T17:20:41.018244+00:00", 35, PITCH, None, 618.0,
     "Saludo Corporativo inicial2"),
    ("1d9a0b3e-64c2-4f3a-8a6e-2b5c7d9e0f12", "2026-03-07T15:47:09.502113+00:00", 60, PITCH, None, 609.0,
     "Saludo Corporativo inicial2"),
    ("c0f3e2d1-8b4a-4e6f-9d2c-3a1b5e7f9a20", "2026-03-07T11:02:55.730019+00:00", 65, PITCH, None, 580.0,
     "Saludo Corporativo inicial2"),
    ("caa75e99-53d5-4a8e-8cb2-0521e2fd59ba", "2026-03-03T20:19:16.427616+00:00", 66, TEMPORAL, "PENDING_REVIEW",
     542.2, "Saludo Corporativo"),
]


def example_payloads() -> dict:
    participant = builders.participant_payload(participant_id=EXAMPLE_PARTICIPANT, tag="Agente de ventas")
    calls = [
        call(participant, transcription_id=ident, when=when, score=score, evaluator=evaluator, group=group,
             duration=duration, failed=[failed])
        for ident, when, score, evaluator, group, duration, failed in EXAMPLE_CALLS
    ]
    return {"evaluators": [TEMPORAL, PITCH], "participants": [participant], "transcriptions": calls}


def example_expected() -> dict:
    """The example's data with its raw_data completed by the three calls of 2026-03-07 it leaves out."""
    rows = [
        {"id": ident, "date": when, "score": score, "critical": False, "duration": int(duration),
         "evaluator_tag": evaluator["tag"], "evaluator_id": evaluator["evaluator_id"], "group": group,
         "status": "COMPLETED", "failed_criteria": [failed]}
        for ident, when, score, evaluator, group, duration, failed in EXAMPLE_CALLS
    ]
    expected = json.loads(json.dumps(EXAMPLE))
    del expected["metadata"]["generated_at"]
    expected["raw_data"] = rows
    return expected


def test_the_example_is_reproduced_figure_for_figure(load):
    snapshot = example_payloads()
    load(**snapshot)
    data = report({"participant_id": EXAMPLE_PARTICIPANT})
    assert as_json(data) == as_json(example_expected())  # every figure, its type (66, not 66.0), the key order
    # The two rows the example shows (the newest call and the oldest), exactly.
    assert [data["raw_data"][0], data["raw_data"][-1]] == EXAMPLE["raw_data"]
    # The emulator's variant says the same from the same JSON.
    now = datetime(2026, 3, 21, 14, 7, 43, 791756, tzinfo=UTC)
    from_payloads = participant_report_from_payloads(
        EXAMPLE_PARTICIPANT, snapshot["transcriptions"], snapshot["evaluators"], now,
    )
    assert from_payloads["metadata"].pop("generated_at") == EXAMPLE["metadata"]["generated_at"]
    assert from_payloads == data


def test_generated_at_is_utc_written_as_in_the_example(agent):
    data = analytics.participant_report(Participant.objects.get(heify_id=agent["participant_id"]))
    generated = datetime.fromisoformat(data["metadata"]["generated_at"])
    assert generated.tzinfo is None and datetime.fromisoformat(EXAMPLE["metadata"]["generated_at"]).tzinfo is None
    assert abs(generated.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds() < 60


# --- edge cases, whole reports --------------------------------------------------------------------------------


def test_a_participant_without_calls_gets_an_empty_report(agent):
    assert as_json(report(agent)) == as_json({
        "metadata": {"total_records_analyzed": 0, "query_limit_reached": False},
        "kpis": {"total_calls": 0, "avg_score": 0, "pass_rate": 0, "total_critical_fails": 0,
                 "pending_critical_reviews": 0},
        "charts": {"timeline": []},
        "evaluators": [],
        "criteria_breakdown": [],
        "score_distribution": NO_BUCKETS,
        "comparison": {"current_period": NO_CALLS, "previous_period": NO_CALLS, "delta": {}},
        "duration_insights": {
            "thresholds": {"p25": 0, "p75": 0},
            "short": {"count": 0, "avg_score": 0}, "medium": {"count": 0, "avg_score": 0},
            "long": {"count": 0, "avg_score": 0},
        },
        "trend": INSUFFICIENT,
        "degradation_alert": False,
        "raw_data": [],
    })


def test_one_call(load, agent, scorecard):
    payload = call(agent, when="2026-03-10T09:30:00.5+00:00", score=72.5, evaluator=scorecard, duration=185.4,
                   failed=["Greeting"])
    load(transcriptions=[payload])
    assert as_json(report(agent)) == as_json({
        "metadata": {"total_records_analyzed": 1, "query_limit_reached": False},
        "kpis": {"total_calls": 1, "avg_score": 72.5, "pass_rate": 100, "total_critical_fails": 0,
                 "pending_critical_reviews": 0},
        "charts": {"timeline": [{"date": "2026-03-10", "avg_score": 72.5, "volume": 1, "critical_fails": 0}]},
        "evaluators": [{
            "id": scorecard["evaluator_id"], "tag": "Support", "calls": 1, "avg_score": 72.5, "critical_fails": 0,
            "critical_fail_rate": 0, "consistency": 0, "avg_duration": 185,
        }],
        "criteria_breakdown": [
            {"id": criterion_id(scorecard, "Greeting"), "name": "Greeting", "fail_count": 1, "fail_rate": 100},
        ],
        "score_distribution": {**NO_BUCKETS, "61-80": 1},
        "comparison": {
            "current_period": {"calls": 1, "avg_score": 72.5, "pass_rate": 100}, "previous_period": NO_CALLS,
            "delta": {},
        },
        "duration_insights": {  # one duration is both percentiles; a call on both thresholds is short
            "thresholds": {"p25": 185, "p75": 185},
            "short": {"count": 1, "avg_score": 72.5}, "medium": {"count": 0, "avg_score": 0},
            "long": {"count": 0, "avg_score": 0},
        },
        "trend": INSUFFICIENT,
        "degradation_alert": False,
        "raw_data": [{
            "id": payload["transcription_id"], "date": "2026-03-10T09:30:00.500000+00:00", "score": 72.5,
            "critical": False, "duration": 185, "evaluator_tag": "Support", "evaluator_id": scorecard["evaluator_id"],
            "group": None, "status": "COMPLETED", "failed_criteria": ["Greeting"],
        }],
    })


def test_calls_only_in_the_previous_month(load, agent):
    load(transcriptions=[
        call(agent, when="2026-01-31T23:59:59.999999+00:00", score=10),  # in no period, still in the kpis
        call(agent, when="2026-02-01T00:00:00+00:00", score=80),
        call(agent, when="2026-02-28T23:59:59.999999+00:00", score=45),
    ])
    data = report(agent)
    assert data["kpis"] | {"total_calls": 3, "avg_score": 45, "pass_rate": 33.3} == data["kpis"]
    assert data["comparison"] == {
        "current_period": NO_CALLS,
        "previous_period": {"calls": 2, "avg_score": 62.5, "pass_rate": 50},
        "delta": {"calls": -2, "avg_score": -62.5, "pass_rate": -50},
    }


def test_periods_are_the_month_of_as_of_and_the_month_before(load, agent):
    load(transcriptions=[
        call(agent, when="2025-11-30T23:59:59+00:00", score=99),
        call(agent, when="2025-12-01T00:00:00+00:00", score=60),
        call(agent, when="2025-12-31T23:59:59.999999+00:00", score=40),
        call(agent, when="2026-01-01T00:00:00+00:00", score=90),
        call(agent, when="2026-01-15T23:59:59.999999+00:00", score=70),
        call(agent, when="2026-01-16T00:00:00+00:00", score=1),  # after as_of
    ])
    data = report(agent, as_of=date(2026, 1, 15))
    assert data["kpis"]["total_calls"] == 5
    assert data["comparison"] == {
        "current_period": {"calls": 2, "avg_score": 80, "pass_rate": 100},
        "previous_period": {"calls": 2, "avg_score": 50, "pass_rate": 50},
        "delta": {"calls": 0, "avg_score": 30, "pass_rate": 50},
    }


def test_critical_fails_and_the_reviews_they_wait_for(load, agent, scorecard, settings):
    load(transcriptions=[
        call(agent, when=march(2), score=90, evaluator=scorecard, critical=True, group="PENDING_REVIEW"),
        call(agent, when=march(2, "15:00:00"), score=85, evaluator=scorecard, critical=True, group="UNDER_REVIEW"),
        call(agent, when=march(3), score=40, evaluator=scorecard, critical=True, group="PENDING_REVIEW"),
        call(agent, when=march(4), score=70, evaluator=scorecard, group="PENDING_REVIEW"),  # not critical
        call(agent, when=march(5), score=50, evaluator=scorecard),  # exactly the pass mark: passes
        call(agent, when=march(6), score=49.99, evaluator=scorecard),
    ])
    data = report(agent)
    assert data["kpis"] == {"total_calls": 6, "avg_score": 64.2, "pass_rate": 33.3, "total_critical_fails": 3,
                            "pending_critical_reviews": 2}
    assert [(d["date"], d["volume"], d["critical_fails"]) for d in data["charts"]["timeline"]] == [
        ("2026-03-02", 2, 2), ("2026-03-03", 1, 1), ("2026-03-04", 1, 0), ("2026-03-05", 1, 0), ("2026-03-06", 1, 0),
    ]
    assert data["charts"]["timeline"][0]["avg_score"] == 87.5
    (row,) = data["evaluators"]
    assert (row["critical_fails"], row["critical_fail_rate"]) == (3, 50)
    assert [r["critical"] for r in data["raw_data"]] == [False, False, False, True, True, True]
    settings.ANALYTICS_PASS_MARK = 60  # a setting: now only the 70 passes (90 and 85 are critical)
    assert report(agent)["kpis"]["pass_rate"] == 16.7


def test_the_query_limit_caps_every_section(load, agent, scorecard, settings):
    settings.ANALYTICS_QUERY_LIMIT = 5
    calls = [
        call(agent, when=march(day), score=10 * day, evaluator=scorecard, duration=100.0 * day, failed=["Greeting"])
        for day in range(1, 8)
    ]
    load(transcriptions=calls)
    data = report(agent)  # the newest five: March 3-7, scores 30-70, durations 300-700
    assert data["metadata"] == {"total_records_analyzed": 5, "query_limit_reached": True}
    assert [r["id"] for r in data["raw_data"]] == [c["transcription_id"] for c in reversed(calls[2:])]
    assert data["kpis"]["total_calls"] == 5 and data["kpis"]["avg_score"] == 50
    assert [d["date"] for d in data["charts"]["timeline"]] == [f"2026-03-0{day}" for day in range(3, 8)]
    assert data["evaluators"][0]["calls"] == 5 and data["evaluators"][0]["avg_duration"] == 500
    assert data["criteria_breakdown"][0] | {"fail_count": 5, "fail_rate": 100} == data["criteria_breakdown"][0]
    assert data["score_distribution"] == {"0-20": 0, "21-40": 2, "41-60": 2, "61-80": 1, "81-100": 0}
    assert data["comparison"]["current_period"]["calls"] == 5
    assert data["duration_insights"] == {
        "thresholds": {"p25": 400, "p75": 600},
        "short": {"count": 2, "avg_score": 35}, "medium": {"count": 1, "avg_score": 50},
        "long": {"count": 2, "avg_score": 65},
    }
    settings.ANALYTICS_QUERY_LIMIT = 7
    assert report(agent)["metadata"] == {"total_records_analyzed": 7, "query_limit_reached": False}


def test_the_cap_is_told_apart_from_calls_at_the_same_instant(load, agent, scorecard, settings):
    same = march(5)
    calls = [call(agent, when=same, score=60, evaluator=scorecard) for _ in range(3)]
    calls.append(call(agent, when=march(4), score=60, evaluator=scorecard, status="FAILED"))  # never included
    load(transcriptions=calls)
    newest_first = sorted((c["transcription_id"] for c in calls[:3]), reverse=True)
    for limit, reached in ((2, True), (3, False), (4, False)):
        settings.ANALYTICS_QUERY_LIMIT = limit
        data = report(agent)
        assert data["metadata"] == {"total_records_analyzed": min(limit, 3), "query_limit_reached": reached}
        assert [r["id"] for r in data["raw_data"]] == newest_first[:limit]


def test_heifys_own_cap_of_20000_calls(load, agent, scorecard):
    assert report_rules.ReportSettings.current().query_limit == 20_000  # the setting's default is Heify's cap
    start = datetime(2026, 1, 1, tzinfo=UTC)
    calls = [
        call(agent, when=(start + timedelta(minutes=i)).isoformat(), score=i % 101, evaluator=scorecard)
        for i in range(20_001)
    ]
    load(transcriptions=calls)
    data = report(agent)
    assert data["metadata"] == {"total_records_analyzed": 20_000, "query_limit_reached": True}
    assert data["kpis"]["total_calls"] == len(data["raw_data"]) == 20_000
    assert data["raw_data"][-1]["id"] == calls[1]["transcription_id"]  # the oldest call is the one left out
    assert sum(data["score_distribution"].values()) == sum(d["volume"] for d in data["charts"]["timeline"]) == 20_000


def test_calls_that_do_not_count(load, agent):
    other = builders.participant_payload()
    load(participants=[other])
    counted = [
        call(agent, when=march(5), score=80),
        call(agent, when="2026-03-21T23:59:59.999999+00:00", score=60),  # the last moment of as_of
    ]
    no_score = call(agent, when=march(5), score=None)
    load(transcriptions=counted + [
        call(agent, when=march(5), status="FAILED"),
        call(agent, when=march(5), status="IN_PROGRESS", details=None),
        no_score,
        call(agent, when="2026-03-22T00:00:00+00:00", score=10),  # after as_of
        call(other, when=march(5), score=10),
        call(None, when=march(5), score=10),  # no participant
    ])
    data = report(agent)
    assert [r["id"] for r in data["raw_data"]] == [c["transcription_id"] for c in reversed(counted)]
    assert data["kpis"]["total_calls"] == 2 and data["kpis"]["avg_score"] == 70
    assert report(agent, as_of=date(2026, 3, 22))["kpis"]["total_calls"] == 3


def test_a_participant_heify_has_not_accepted_has_no_calls(load):
    load(transcriptions=[call(None, when=march(5), score=10)])  # a call with no participant
    local = Participant.objects.create(tag="Not in Heify yet")
    assert analytics.participant_report(local, as_of=AS_OF)["kpis"]["total_calls"] == 0


# --- one rule at a time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("recent", "previous", "direction", "alert"), [
    (60, 55, "improving", False),  # +5: the threshold itself
    (59.9, 55, "stable", False),
    (55, 59.9, "stable", False),
    (55, 60, "declining", False),  # -5
    (50.1, 60, "declining", False),  # -9.9: not yet an alert
    (50, 60, "declining", True),  # -10: the degradation threshold itself
    (20, 80, "declining", True),
])
def test_trend_directions_and_the_degradation_alert(load, agent, recent, previous, direction, alert):
    # Newest first: 10 calls around `recent`, 10 around `previous`, then an older one outside the sample.
    scores = [recent + (1 if i % 2 else -1) for i in range(10)] + [previous + (2 if i % 2 else -2) for i in range(10)]
    scores.append(0)
    dates = [march(20 - i) for i in range(20)] + [march(1, "08:00:00")]
    load(transcriptions=[call(agent, when=when, score=score) for when, score in zip(dates, scores, strict=True)])
    data = report(agent)
    assert data["trend"] == {"direction": direction, "recent_avg": recent, "previous_avg": previous,
                             "sample_size": 20}
    assert data["degradation_alert"] is alert


def test_fewer_calls_than_the_sample_give_no_trend(load, agent):
    load(transcriptions=[call(agent, when=march(1 + i), score=90 if i < 10 else 10) for i in range(19)])
    data = report(agent)
    assert data["trend"] == INSUFFICIENT and data["degradation_alert"] is False


def test_trend_sample_and_thresholds_are_settings(load, agent, settings):
    settings.ANALYTICS_TREND_SAMPLE = 4
    settings.ANALYTICS_TREND_THRESHOLD = 2
    settings.ANALYTICS_DEGRADATION_THRESHOLD = 3
    newest_first = [(4, 57), (3, 57), (2, 60), (1, 60)]
    load(transcriptions=[call(agent, when=march(day), score=score) for day, score in newest_first])
    data = report(agent)
    assert data["trend"] == {"direction": "declining", "recent_avg": 57, "previous_avg": 60, "sample_size": 4}
    assert data["degradation_alert"] is True


def test_score_buckets_at_their_boundaries(load, agent):
    scores = [0, 20, 20.5, 40, 40.01, 60, 60.5, 80, 80.01, 100]
    load(transcriptions=[call(agent, when=march(1 + i), score=score) for i, score in enumerate(scores)])
    assert report(agent)["score_distribution"] == {"0-20": 2, "21-40": 2, "41-60": 2, "61-80": 2, "81-100": 2}
    assert [report_rules.score_bucket(s) for s in (20, 20.5, 40, 100)] == ["0-20", "21-40", "21-40", "81-100"]


def test_durations_exactly_on_the_percentiles(load, agent):
    calls = [call(agent, when=march(day), score=10 * day, duration=100.0 * day) for day in range(1, 6)]
    calls.append(call(agent, when=march(6), score=99, duration=None))  # no duration: left out of this section
    load(transcriptions=calls)
    data = report(agent)
    assert data["duration_insights"] == {  # p25 and p75 are the 2nd and 4th durations: short and long take them
        "thresholds": {"p25": 200, "p75": 400},
        "short": {"count": 2, "avg_score": 15}, "medium": {"count": 1, "avg_score": 30},
        "long": {"count": 2, "avg_score": 45},
    }
    assert data["kpis"]["total_calls"] == 6 and data["raw_data"][0]["duration"] is None


def test_percentiles_interpolate_between_durations(load, agent):
    load(transcriptions=[call(agent, when=march(day), score=day, duration=10.0 * day) for day in range(1, 5)])
    # p25 = 10 + 0.75 * 10 = 17.5, p75 = 30 + 0.25 * 10 = 32.5: both round half up.
    assert report(agent)["duration_insights"] == {
        "thresholds": {"p25": 18, "p75": 33},
        "short": {"count": 1, "avg_score": 1}, "medium": {"count": 2, "avg_score": 2.5},
        "long": {"count": 1, "avg_score": 4},
    }


def test_equal_durations_are_all_short(load, agent):
    load(transcriptions=[call(agent, when=march(day), score=60, duration=300.0) for day in range(1, 4)])
    insights = report(agent)["duration_insights"]
    assert insights["thresholds"] == {"p25": 300, "p75": 300}
    assert [insights[name]["count"] for name in ("short", "medium", "long")] == [3, 0, 0]


def test_rounding(load, agent, scorecard):
    load(transcriptions=[
        call(agent, when=march(2), score=53.25, evaluator=scorecard, duration=587.5),
        call(agent, when=march(3), score=53.25, evaluator=scorecard, duration=588.2, failed=["Greeting"]),
        call(agent, when=march(4), score=60, duration=542.9),  # no evaluator: not in the evaluators section
    ])
    data = report(agent)
    assert data["kpis"]["avg_score"] == 55.5 and data["kpis"]["pass_rate"] == 100
    assert isinstance(data["kpis"]["pass_rate"], int)
    (row,) = data["evaluators"]
    assert row["avg_score"] == 53.3  # half up (Python's round() would say 53.2)
    assert row["avg_duration"] == 587  # 587.85, truncated
    assert row["consistency"] == 0
    assert data["charts"]["timeline"][0]["avg_score"] == 53.3
    assert [r["duration"] for r in data["raw_data"]] == [542, 588, 587]  # truncated
    assert data["duration_insights"]["thresholds"] == {"p25": 565, "p75": 588}  # 565.2 and 587.85, rounded
    assert data["criteria_breakdown"][0]["fail_rate"] == 33.3
    load(transcriptions=[call(agent, when=march(5), score=60, evaluator=scorecard)])
    assert report(agent)["evaluators"][0]["consistency"] == 3.9  # sample std of 53.25, 53.25, 60 = 3.897


def test_an_evaluator_missing_from_the_mirror_keeps_its_row(load, agent, scorecard):
    gone = builders.evaluator_payload()  # never loaded: deleted in Heify before we saw it
    load(transcriptions=[
        call(agent, when=march(2), score=40, evaluator=gone, duration=200.0, failed=["Greeting"]),
        call(agent, when=march(3), score=80, evaluator=scorecard, duration=300.0),
        call(agent, when=march(4), score=90, duration=400.0),  # no evaluator: counted, but in no evaluator row
    ])
    data = report(agent)
    assert [(r["id"], r["tag"], r["calls"], r["avg_score"]) for r in data["evaluators"]] == [
        (scorecard["evaluator_id"], "Support", 1, 80), (gone["evaluator_id"], None, 1, 40),
    ]
    assert data["criteria_breakdown"] == [{"id": None, "name": "Greeting", "fail_count": 1, "fail_rate": 33.3}]
    assert [(r["evaluator_id"], r["evaluator_tag"]) for r in data["raw_data"]] == [
        (None, None), (scorecard["evaluator_id"], "Support"), (gone["evaluator_id"], None),
    ]
    assert data["kpis"]["total_calls"] == 3


def test_only_results_that_failed_a_named_criterion_count(load, agent, scorecard):
    payload = call(agent, when=march(2), score=30, evaluator=scorecard)
    payload["details"]["evaluation"]["criteria_results"] = [
        {"name": "Greeting", "passed": False}, "Greeting", 5, None, ["Greeting"], {"name": 7, "passed": False},
        {"name": "Issue resolved", "passed": 0}, {"name": "Issue resolved"}, {"passed": False},
        {"name": "Greeting", "passed": False},  # the same criterion twice: two fails, as Heify sent them
    ]
    load(transcriptions=[payload, call(agent, when=march(3), score=30, evaluator=scorecard,
                                       details={"evaluation": {"score": 30, "criteria_results": {"oops": 1}}})])
    data = report(agent)
    assert [r["failed_criteria"] for r in data["raw_data"]] == [[], ["Greeting", "Greeting"]]
    assert [(r["name"], r["fail_count"], r["fail_rate"]) for r in data["criteria_breakdown"]] == [("Greeting", 2, 100)]


def test_evaluators_are_listed_by_tag_and_criteria_most_failed_first(load, agent):
    zeta = builders.evaluator_payload(tag="zeta")
    alpha = builders.evaluator_payload(tag="alpha")
    load(evaluators=[zeta, alpha])
    load(transcriptions=[
        call(agent, when=march(2), score=52.8, evaluator=zeta, failed=["Issue resolved"]),
        call(agent, when=march(3), score=65, evaluator=zeta, failed=["Greeting", "Issue resolved"]),
        call(agent, when=march(4), score=60, evaluator=zeta, failed=["Issue resolved"]),
        call(agent, when=march(5), score=35, evaluator=zeta),
        call(agent, when=march(6), score=70, evaluator=alpha, failed=["Greeting"]),
        call(agent, when=march(7), score=70, evaluator=alpha, failed=["Unknown to the evaluator"]),
    ])
    data = report(agent)
    assert [(r["tag"], r["calls"], r["consistency"]) for r in data["evaluators"]] == [
        ("alpha", 2, 0), ("zeta", 4, 13.13),  # sample std of 52.8, 65, 60, 35 = 13.126
    ]
    # One row per criterion (two evaluators' "Greeting" are two rows, in id order); a name its evaluator does
    # not know has no id.
    greetings = sorted((criterion_id(e, "Greeting"), "Greeting", 1, 16.7) for e in (alpha, zeta))
    assert [(r["id"], r["name"], r["fail_count"], r["fail_rate"]) for r in data["criteria_breakdown"]] == [
        (criterion_id(zeta, "Issue resolved"), "Issue resolved", 3, 50), *greetings,
        (None, "Unknown to the evaluator", 1, 16.7),
    ]


# --- the two ways in, and the cost --------------------------------------------------------------------------




# --- on the reviewed score (the score of record) --------------------------------------------------------------


def reviewed_report(participant: dict, as_of: date | None = AS_OF) -> dict:
    data = analytics.participant_report(Participant.objects.get(heify_id=participant["participant_id"]),
                                        as_of=as_of, score="reviewed")
    data["metadata"].pop("generated_at")
    return data


def test_a_review_changes_the_report_on_the_reviewed_score_and_never_heifys(load):
    """Heify's example, two of its calls reviewed: `score=ai` still matches the seed figure for figure; the
    report on the reviewed score takes the reviewer's results on those two, the AI's on the other three."""
    load(**example_payloads())
    participant = {"participant_id": EXAMPLE_PARTICIPANT}
    # The 66 call (evaluador temporal: Saludo Corporativo 34, Cierre 66) failed the greeting: the reviewer heard
    # it, so both pass: 100. The 35 call (pitch temporal: Saludo Corporativo inicial2 30, Pitch 70): no pitch
    # either, so both fail: 0.
    assert review("caa75e99-53d5-4a8e-8cb2-0521e2fd59ba", {"Saludo Corporativo": True}).reviewed_score == 100
    assert review("7b7f4c52-9f7d-4a57-a4c9-5f0e6a1d2c03", {"Pitch": False}).reviewed_score == 0

    assert as_json(report(participant)) == as_json(example_expected())  # Heify's, untouched

    data = reviewed_report(participant)
    assert data["metadata"] == {"total_records_analyzed": 5, "query_limit_reached": False, "score": "reviewed"}
    # 52.8, 0, 60, 65, 100: avg 55.56; the 0 fails, the others pass.
    assert data["kpis"] == {"total_calls": 5, "avg_score": 55.6, "pass_rate": 80, "total_critical_fails": 0,
                            "pending_critical_reviews": 0}
    assert [(row["id"][:8], row["score"], row["failed_criteria"]) for row in data["raw_data"]] == [
        ("e927a34c", 52.8, ["Saludo Corporativo inicial2"]),
        ("7b7f4c52", 0, ["Saludo Corporativo inicial2", "Pitch"]),
        ("1d9a0b3e", 60, ["Saludo Corporativo inicial2"]),
        ("c0f3e2d1", 65, ["Saludo Corporativo inicial2"]),
        ("caa75e99", 100, []),
    ]
    assert [(d["date"], d["avg_score"]) for d in data["charts"]["timeline"]] == [
        ("2026-03-03", 100), ("2026-03-07", 41.7), ("2026-03-12", 52.8)]  # (0 + 60 + 65) / 3
    assert [(e["tag"], e["avg_score"], e["consistency"]) for e in data["evaluators"]] == [
        ("evaluador temporal", 100, 0), ("pitch temporal", 44.5, 30.05)]  # sample sd of 52.8, 0, 60, 65: 30.054
    assert [(c["name"], c["fail_count"], c["fail_rate"]) for c in data["criteria_breakdown"]] == [
        ("Saludo Corporativo inicial2", 4, 80), ("Pitch", 1, 20)]
    assert data["score_distribution"] == {"0-20": 1, "21-40": 0, "41-60": 2, "61-80": 1, "81-100": 1}
    assert data["comparison"]["current_period"] == {"calls": 5, "avg_score": 55.6, "pass_rate": 80}
    assert data["duration_insights"]["short"] == {"count": 2, "avg_score": 76.4}  # the 52.8 and the 100 calls


def test_a_critical_fail_of_record_counts_on_the_reviewed_score_only(load, agent, scorecard):
    calls = [call(agent, when=march(2 + n), score=80, evaluator=scorecard, failed=["Greeting"],
                  group="PENDING_REVIEW") for n in range(2)]
    load(transcriptions=calls)
    reviewed = review(calls[0]["transcription_id"], {"No offensive language": False})
    assert reviewed.reviewed_critical and not reviewed.critical_fail_triggered
    assert report(agent)["kpis"] | {"total_critical_fails": 0, "pass_rate": 100} == report(agent)["kpis"]
    data = reviewed_report(agent)
    assert (data["kpis"]["total_critical_fails"], data["kpis"]["pending_critical_reviews"]) == (1, 1)
    assert data["kpis"]["pass_rate"] == 50 and data["evaluators"][0]["critical_fails"] == 1
    assert [row["critical"] for row in data["raw_data"]] == [False, True]
    assert data["raw_data"][1]["failed_criteria"] == ["Greeting", "No offensive language"]


def test_nothing_reviewed_gives_the_same_figures_on_both_scores(load, agent, scorecard):
    load(transcriptions=[call(agent, when=march(day), score=10 * day, evaluator=scorecard) for day in range(1, 9)])
    ai, reviewed = report(agent), reviewed_report(agent)
    assert reviewed.pop("metadata") == {**ai.pop("metadata"), "score": "reviewed"}
    assert as_json(reviewed) == as_json(ai)


def test_the_api_answers_either_score_and_names_a_bad_one(load, admin_client):
    load(**example_payloads())
    review("caa75e99-53d5-4a8e-8cb2-0521e2fd59ba", {"Saludo Corporativo": True})
    url = f"/api/v1/participants/{EXAMPLE_PARTICIPANT}/analytics/"

    def data(query: str) -> dict:
        answer = admin_client.get(url + query)
        assert answer.status_code == 200, answer.content
        body = answer.json()["data"]
        body["metadata"].pop("generated_at")
        return body

    heifys = data("?as_of=2026-03-21")
    assert heifys == data("?as_of=2026-03-21&score=ai") == data("?as_of=2026-03-21&score=")
    assert as_json(heifys) == as_json(example_expected())
    on_record = data("?as_of=2026-03-21&score=reviewed")
    assert on_record == reviewed_report({"participant_id": EXAMPLE_PARTICIPANT})
    assert on_record["kpis"]["avg_score"] == 62.6 != heifys["kpis"]["avg_score"]  # (52.8+35+60+65+100) / 5
    for bad in ("record", "AI_SCORE", "1"):
        answer = admin_client.get(url, {"score": bad})
        assert answer.status_code == 400
        assert answer.json()["error"]["fields"]["score"] == [f"score must be 'ai' or 'reviewed', not '{bad}'."]
