from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from qa import limits
from qa.mirror import rules


def crit(name, type_="boolean", weight=50, **extra):
    return {"name": name, "description": f"{name}?", "type": type_, "weight": weight, **extra}


def messages_of(exc_info, field):
    return " ".join(exc_info.value.message_dict[field])


# --- criteria ---------------------------------------------------------------------


def test_valid_criteria_are_cleaned_and_types_lowered():
    cleaned, notices = rules.clean_criteria(
        [crit("Greeting", "BOOLEAN", 20), crit("Polite", "Strict", 0), crit("Resolved", "scale", 80)]
    )
    assert [c["type"] for c in cleaned] == ["boolean", "strict", "scale"]
    assert [c["weight"] for c in cleaned] == [Decimal("20"), Decimal("0"), Decimal("80")]
    assert notices == []


@pytest.mark.parametrize("count", [0, 11])
def test_criteria_count_outside_1_to_10_is_refused(count):
    items = [crit(f"c{i}", weight=Decimal(100) / count) for i in range(count)] if count else []
    with pytest.raises(ValidationError) as exc:
        rules.clean_criteria(items)
    assert f"1 to 10 criteria; it has {count}" in messages_of(exc, "criteria")


def test_ten_criteria_are_allowed():
    cleaned, _ = rules.clean_criteria([crit(f"c{i}", weight=10) for i in range(10)])
    assert len(cleaned) == 10


def test_weights_must_sum_to_100_and_the_error_gives_the_sum():
    with pytest.raises(ValidationError) as exc:
        rules.clean_criteria([crit("a", weight=30), crit("b", "scale", 45.5)])
    assert "they sum to 75.5" in messages_of(exc, "criteria")


def test_strict_weight_is_forced_to_zero_and_the_user_is_told():
    cleaned, notices = rules.clean_criteria([crit("a", weight=100), crit("No insults", "STRICT", 40)])
    assert cleaned[1]["weight"] == 0
    assert len(notices) == 1 and "No insults" in notices[0] and "set to 0" in notices[0]


def test_strict_weight_does_not_count_towards_the_sum():
    with pytest.raises(ValidationError) as exc:
        rules.clean_criteria([crit("a", weight=60), crit("b", "strict", 40)])
    assert "they sum to 60" in messages_of(exc, "criteria")


@pytest.mark.parametrize(
    "bad, message",
    [
        (crit("", weight=100), "name is required"),
        (crit("a", "percent", 100), "type must be one of boolean, scale, strict, not 'percent'"),
        (crit("a", weight=101), "weight must be a number from 0 to 100"),
        (crit("a", weight=-1), "weight must be a number from 0 to 100"),
        (crit("a", weight="lots"), "weight must be a number from 0 to 100"),
        (crit("a", weight=True), "weight must be a number from 0 to 100"),
        (crit("a", weight=None), "weight must be a number from 0 to 100"),
        (crit("a", weight=33.333), "at most 2 decimals"),
        ("not an object", "must be an object"),
    ],
)
def test_bad_criterion_is_named_in_the_error(bad, message):
    with pytest.raises(ValidationError) as exc:
        rules.clean_criteria([bad])
    text = messages_of(exc, "criteria")
    assert message in text and "Criterion 1" in text


def test_criterion_names_are_unique_ignoring_case():
    with pytest.raises(ValidationError) as exc:
        rules.clean_criteria([crit("Greeting"), crit("greeting ")])
    assert "already used by criterion 1" in messages_of(exc, "criteria")


def test_fractional_weights_summing_to_100_are_exact():
    cleaned, _ = rules.clean_criteria([crit("a", weight=33.33), crit("b", weight=33.33), crit("c", weight=33.34)])
    assert sum(c["weight"] for c in cleaned) == 100


# --- evaluators ---------------------------------------------------------------------


def evaluator(**overrides):
    return {"tag": "Support", "language": "EN", "criteria": [crit("a", weight=100)], **overrides}


def test_evaluator_is_cleaned():
    cleaned, _ = rules.clean_evaluator(evaluator(context={"team": "L1"}))
    assert cleaned["language"] == "en" and cleaned["context"] == {"team": "L1"}


@pytest.mark.parametrize("tag, message", [("", "Tag is required"), ("  ", "Tag is required"),
                                          (None, "Tag is required"), ("x" * 256, "at most 255 characters")])
def test_evaluator_tag_is_required_and_bounded(tag, message):
    with pytest.raises(ValidationError) as exc:
        rules.clean_evaluator(evaluator(tag=tag))
    assert message in messages_of(exc, "tag")


def test_evaluator_tag_255_is_fine():
    cleaned, _ = rules.clean_evaluator(evaluator(tag="x" * 255))
    assert len(cleaned["tag"]) == 255


def test_evaluator_tag_cannot_change_after_creation():
    rules.clean_evaluator(evaluator(tag="Support"), current_tag="Support")
    with pytest.raises(ValidationError) as exc:
        rules.clean_evaluator(evaluator(tag="Sales"), current_tag="Support")
    assert "cannot be changed after creation" in messages_of(exc, "tag")


def test_evaluator_reports_every_field_at_once():
    with pytest.raises(ValidationError) as exc:
        rules.clean_evaluator({"tag": "", "language": "xx", "criteria": []})
    assert set(exc.value.message_dict) == {"tag", "language", "criteria"}


# --- languages ------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("en", "en"), ("ES", "es"), ("df", "df"), ("", ""), (None, "")])
def test_languages_accepted(value, expected):
    assert rules.clean_language(value, field="language") == expected


@pytest.mark.parametrize("value", ["eng", "english", "zz", 12])
def test_languages_refused(value):
    with pytest.raises(ValidationError) as exc:
        rules.clean_language(value, field="summary_language")
    assert "ISO 639-1" in messages_of(exc, "summary_language")


# --- configurations ----------------------------------------------------------------------


def configuration(**overrides):
    return {
        "tag": "Sales", "vocabulary": ["CRM", " upsell "], "summary": True, "summary_language": "df",
        "analytics_language": "en", "webhook_success_url": "https://example.com/ok", "webhook_error_url": "",
        "extraction_fields": [{"name": "ticket_id", "type": "STRING", "description": "The ticket."}],
        **overrides,
    }


def test_configuration_is_cleaned():
    cleaned = rules.clean_configuration(configuration())
    assert cleaned["vocabulary"] == ["CRM", "upsell"]
    assert cleaned["extraction_fields"] == [{"name": "ticket_id", "type": "string", "description": "The ticket."}]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"tag": ""}, "tag", "Tag is required"),
        ({"vocabulary": "CRM"}, "vocabulary", "must be a list"),
        ({"vocabulary": ["CRM", " "]}, "vocabulary", "term 2 must be non-empty"),
        ({"vocabulary": [3]}, "vocabulary", "term 1 must be non-empty text"),
        ({"summary": "yes"}, "summary", "true or false"),
        ({"analytics_language": "klingon"}, "analytics_language", "ISO 639-1"),
        ({"webhook_success_url": "ftp://example.com/x"}, "webhook_success_url", "valid http(s) URL"),
        ({"webhook_error_url": "not a url"}, "webhook_error_url", "valid http(s) URL"),
        ({"extraction_fields": [{"name": "1st", "type": "string", "description": "d"}]},
         "extraction_fields", "must be an identifier"),
        ({"extraction_fields": [{"name": "a b", "type": "string", "description": "d"}]},
         "extraction_fields", "must be an identifier"),
        ({"extraction_fields": [{"name": "a", "type": "date", "description": "d"}]},
         "extraction_fields", "type must be one of string, number, boolean, array"),
        ({"extraction_fields": [{"name": "a", "type": "string", "description": " "}]},
         "extraction_fields", "description is required"),
        ({"extraction_fields": [{"name": "a", "type": "string", "description": "d"}] * 2},
         "extraction_fields", "used twice"),
        ({"extraction_fields": [{"name": f"f{i}", "type": "number", "description": "d"} for i in range(11)]},
         "extraction_fields", "at most 10 extraction fields; it has 11"),
    ],
)
def test_configuration_errors_name_the_problem(overrides, field, message):
    with pytest.raises(ValidationError) as exc:
        rules.clean_configuration(configuration(**overrides))
    assert message in messages_of(exc, field)


def test_ten_extraction_fields_are_allowed():
    fields = [{"name": f"f{i}", "type": "array", "description": "d"} for i in range(10)]
    assert len(rules.clean_configuration(configuration(extraction_fields=fields))["extraction_fields"]) == 10


# --- participants ---------------------------------------------------------------------------


def test_participant_metadata_object_is_kept_whole():
    cleaned = rules.clean_participant({"tag": "Sarah", "metadata": {"role": "Senior", "nested": {"a": [1]}}})
    assert cleaned == {"tag": "Sarah", "metadata": {"role": "Senior", "nested": {"a": [1]}}}


@pytest.mark.parametrize("metadata, kind", [([1, 2], "a list"), ("role", "text"), (3, "a int"), (True, "true/false")])
def test_participant_metadata_must_be_an_object(metadata, kind):
    with pytest.raises(ValidationError) as exc:
        rules.clean_participant({"tag": "Sarah", "metadata": metadata})
    assert f"must be a JSON object ({{...}}), not {kind}" in messages_of(exc, "metadata")


# --- the score ----------------------------------------------------------------------------


SCORECARD = [
    {"name": "Greeting", "type": "BOOLEAN", "weight": 20},
    {"name": "Empathy", "type": "scale", "weight": 50},
    {"name": "Resolved", "type": "boolean", "weight": 30},
    {"name": "No insults", "type": "strict", "weight": 0},
]


def test_score_adds_boolean_weights_and_scaled_values():
    result = rules.evaluation_score(
        SCORECARD, {"Greeting": True, "Empathy": 4, "Resolved": False, "No insults": True}
    )
    assert result["score"] == 20 + 4 / 5 * 50
    assert result["critical_fail_triggered"] is False
    assert result["criteria_results"] == [
        {"name": "Greeting", "passed": True}, {"name": "Empathy", "passed": True},
        {"name": "Resolved", "passed": False}, {"name": "No insults", "passed": True},
    ]


def test_scale_below_3_fails_but_still_adds_its_part():
    result = rules.evaluation_score(SCORECARD, {"Greeting": False, "Empathy": 2, "Resolved": True, "No insults": True})
    assert result["score"] == 50.0  # 2/5*50 + 30
    assert result["criteria_results"][1] == {"name": "Empathy", "passed": False}


def test_failed_strict_criterion_triggers_critical_fail_whatever_the_score():
    result = rules.evaluation_score(SCORECARD, {"Greeting": True, "Empathy": 5, "Resolved": True, "No insults": False})
    assert result["score"] == 100
    assert result["critical_fail_triggered"] is True


def test_points_of_each_criterion_add_up_to_the_score():
    verdicts = {"Greeting": True, "Empathy": 4, "Resolved": False, "No insults": False}
    points = [rules.criterion_points(c["type"], c["weight"], verdicts[c["name"]]) for c in SCORECARD]
    assert points == [20, 40, 0, 0]
    assert sum(points) == rules.evaluation_score(SCORECARD, verdicts)["score"]


@pytest.mark.parametrize("kind, weight, passed, value, expected", [
    ("boolean", 20, True, None, (20, 20)),
    ("boolean", 20, False, None, (0, 0)),
    ("strict", 0, False, None, (0, 0)),
    ("scale", 50, True, None, (30, 50)),   # passed: a value of 3, 4 or 5
    ("scale", 50, False, None, (10, 20)),  # failed: 1 or 2
    ("scale", 50, True, 4, (40, 40)),      # Heify gave the value
])
def test_points_range_from_heifys_result(kind, weight, passed, value, expected):
    assert rules.criterion_points_range(kind, weight, passed=passed, value=value) == expected


def test_score_refuses_a_scale_value_outside_1_to_5():
    with pytest.raises(ValidationError):
        rules.evaluation_score(SCORECARD, {"Greeting": True, "Empathy": 6, "Resolved": True, "No insults": True})


@pytest.mark.parametrize("verdicts, message", [
    ({"Greeting": "false", "Empathy": 4, "Resolved": True, "No insults": True}, "true or false"),
    ({"Greeting": True, "Empathy": 2.5, "Resolved": True, "No insults": True}, "whole number from 1 to 5"),
    ({"Greeting": True, "Empathy": 4, "Resolved": True}, "No insults: no verdict"),
])
def test_score_refuses_bad_verdicts_naming_the_criterion(verdicts, message):
    with pytest.raises(ValidationError) as exc:
        rules.evaluation_score(SCORECARD, verdicts)
    assert message in exc.value.messages[0]


def test_language_that_is_not_text_is_refused():
    with pytest.raises(ValidationError):
        rules.clean_language(["en"], field="language")


def test_strict_criterion_without_weight_is_fine():
    cleaned, notices = rules.clean_criteria([crit("a", weight=100), crit("b", "strict", None)])
    assert cleaned[1]["weight"] == 0 and notices == []


@pytest.mark.parametrize("value, message", [
    ({"a": "x\x00y"}, "null characters"), ({"k\x00": 1}, "null characters"), (["\ud800"], "lone surrogate"),
])
def test_json_that_cannot_be_stored_or_sent_is_refused(value, message):
    with pytest.raises(ValidationError) as exc:
        limits.clean_json_value(value, field="context")
    assert message in messages_of(exc, "context")
    with pytest.raises(ValidationError):
        rules.clean_participant({"tag": "x", "metadata": {"v": value}})


# --- review notes and reasons ----------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("a\x00b", "may not contain null characters"),
    ("x" * 5001, "at most 5000 characters"),
    ("x" * 2_000_000, "at most 5000 characters"),
    ("\ud800", "lone surrogate"),
    (12, "must be text"),
])
def test_review_text_refuses_nul_overlong_and_non_text(text, message):
    with pytest.raises(ValidationError) as refused:
        rules.clean_review_text(text, field="note")
    assert message in messages_of(refused, "note")


def test_review_text_is_stripped_and_may_be_required():
    assert rules.clean_review_text("  fine  ", field="note") == "fine"
    assert rules.clean_review_text(None, field="note") == ""
    assert rules.clean_review_text("y" * 5000, field="note") == "y" * 5000
    with pytest.raises(ValidationError) as refused:
        rules.clean_review_text("   ", field="text", what="note", required=True)
    assert messages_of(refused, "text") == "The note cannot be empty."
