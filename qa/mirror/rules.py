"""Heify's rules, as pure functions: the one place each rule lives.

Admin forms, the REST API, the sync and the emulator all call these; none of
them re-states a rule. Functions take plain Python data (the back office's
field names, not Heify's JSON), return it cleaned, and raise Django's
ValidationError with messages that name the problem, keyed by field name so
forms can show each message beside its field. Nothing here touches the
database or the network.
"""

from __future__ import annotations

import functools
import gettext
import itertools
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from qa.limits import TEXT_MAX_LENGTH, clean_json_value, clean_text, text_problem

TAG_MAX_LENGTH = 255

CRITERIA_MIN = 1
CRITERIA_MAX = 10
BOOLEAN, SCALE, STRICT = "boolean", "scale", "strict"
CRITERION_TYPES = (BOOLEAN, SCALE, STRICT)
WEIGHT_MIN = Decimal(0)
WEIGHT_MAX = Decimal(100)
WEIGHT_TOTAL = Decimal(100)
SCALE_MIN, SCALE_MAX = 1, 5
SCALE_PASS_MARK = 3  # a scale criterion fails below this value
# The values a scale criterion's pass/fail allows (Heify's result often says only passed or failed).
SCALE_RANGE = {True: (SCALE_PASS_MARK, SCALE_MAX), False: (SCALE_MIN, SCALE_PASS_MARK - 1)}
# evaluation_score rounds to 2 decimals: a value reproduces a score when it lands within that rounding.
SCORE_TOLERANCE = 0.005 + 1e-9

EXTRACTION_FIELDS_MAX = 10
EXTRACTION_FIELD_TYPES = ("string", "number", "boolean", "array")
EXTRACTION_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

AUTO_DETECT_LANGUAGE = "df"
# ISO 639-1: every language that has a two-letter code.
LANGUAGES: dict[str, str] = {
    lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")
}


@functools.cache
def _language_names(language: str) -> gettext.NullTranslations:
    """pycountry's own translations of ISO 639's names (its catalogue, iso639-3), for the active language."""
    return gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def language_name(code: str) -> str:
    """An ISO 639-1 language's name in the active language ("Spanish (es)", "Español (es)")."""
    if code == AUTO_DETECT_LANGUAGE:
        return _("Auto-detect (df)")
    active = (get_language() or "en").split("-")[0]
    name = LANGUAGES[code] if active == "en" else _language_names(active).gettext(LANGUAGES[code])
    return f"{name} ({code})"


# The labels are lazy: each screen shows them in its own language; sorted by the English names here (what the
# model field and its migrations hold), by the screen's own through language_choices().
LANGUAGE_CHOICES = [(AUTO_DETECT_LANGUAGE, lazy(language_name, str)(AUTO_DETECT_LANGUAGE))] + [
    (code, lazy(language_name, str)(code)) for code in sorted(LANGUAGES, key=lambda c: f"{LANGUAGES[c]} ({c})")
]


def language_choices() -> list[tuple[str, str]]:
    """LANGUAGE_CHOICES in the active language, auto-detect first and the languages in that language's order."""
    auto, *languages = ((code, str(label)) for code, label in LANGUAGE_CHOICES)
    return [auto, *sorted(languages, key=lambda choice: choice[1].casefold())]


class Status(models.TextChoices):
    """A transcription's status in Heify."""

    PENDING = "PENDING", pgettext_lazy("call status", "Pending")
    IN_PROGRESS = "IN_PROGRESS", pgettext_lazy("call status", "In Progress")
    COMPLETED = "COMPLETED", pgettext_lazy("call status", "Completed")
    FAILED = "FAILED", pgettext_lazy("call status", "Failed")


class Group(models.TextChoices):
    """A transcription's review group in Heify (or None: no group)."""

    PENDING_REVIEW = "PENDING_REVIEW", gettext_lazy("Pending Review")
    UNDER_REVIEW = "UNDER_REVIEW", gettext_lazy("Under Review")
    ARCHIVED = "ARCHIVED", gettext_lazy("Archived")


STATUSES = tuple(Status.values)
GROUPS = tuple(Group.values)

_http_url = URLValidator(schemes=["http", "https"])


# --- shared pieces -------------------------------------------------------------


def clean_tag(value: Any, *, what: str | None = None) -> str:
    """A tag (`what`, in messages, if it names something else: a translated word)."""
    if value is None or not isinstance(value, str) or not value.strip():
        raise ValidationError({"tag": _("%(what)s is required.") % {"what": what} if what else _("Tag is required.")})
    tag = value.strip()
    if len(tag) > TAG_MAX_LENGTH:
        params = {"what": what, "max": TAG_MAX_LENGTH, "length": len(tag)}
        raise ValidationError({"tag": (
            _("%(what)s must be at most %(max)d characters (it has %(length)d).") if what
            else _("Tag must be at most %(max)d characters (it has %(length)d).")) % params})
    return tag


def clean_language(value: Any, *, field: str) -> str:
    """An ISO 639-1 code or "df" (auto-detect); empty means not set."""
    if value is None or value == "":
        return ""
    code = value.strip().lower() if isinstance(value, str) else None
    if code != AUTO_DETECT_LANGUAGE and code not in LANGUAGES:
        raise ValidationError(
            {field: _("%(field)s must be an ISO 639-1 language code or 'df' (auto-detect), not %(value)r.")
                    % {"field": field, "value": value}}
        )
    return code


def _collect(errors: dict[str, list[str]], key: str, func, /, *args, **kwargs):
    """Run one cleaner, filing its messages under `key` instead of raising."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        messages = exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]
        for group in messages:
            errors.setdefault(key, []).extend(group)
        return None


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- shared pieces, continued ----------------------------------------------------


def _text(value: Any, *, field: str, max_length: int | None = TEXT_MAX_LENGTH) -> str:
    """Text from outside, stripped, within `clean_text`'s limits: what the pull refuses is refused here first,
    before it is sent to Heify (which would take it, leaving a change whose answer cannot be stored)."""
    return clean_text(value, field=field, max_length=max_length).strip()


# --- evaluators ------------------------------------------------------------------


def clean_criterion_type(value: Any) -> str:
    """Heify writes types in either case (BOOLEAN, boolean); we store lower case."""
    kind = value.strip().lower() if isinstance(value, str) else None
    if kind not in CRITERION_TYPES:
        raise ValidationError(_("type must be one of %(types)s, not %(value)r.")
                              % {"types": ", ".join(CRITERION_TYPES), "value": value})
    return kind


def clean_weight(value: Any) -> Decimal:
    def not_a_weight():
        return ValidationError(_("weight must be a number from 0 to 100, not %(value)r.") % {"value": value})

    if isinstance(value, bool) or value is None or value == "":
        raise not_a_weight()
    try:
        weight = Decimal(str(value))
    except InvalidOperation:
        raise not_a_weight() from None
    if not weight.is_finite() or not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise not_a_weight()
    if weight != weight.quantize(Decimal("0.01")):
        raise ValidationError(_("weight may have at most 2 decimals, not %(value)r.") % {"value": value})
    return weight.quantize(Decimal("0.01"))


def clean_criteria(criteria: Iterable[dict]) -> tuple[list[dict], list[str]]:
    """Check an evaluator's criteria; return them cleaned, plus notices for the user.

    Each criterion is a dict with name, description, type, weight (and, for a
    criterion Heify already knows, its id). Strict criteria have their weight
    forced to 0, and a notice says so.
    """
    if isinstance(criteria, (str, bytes, dict)) or not isinstance(criteria, Iterable):
        raise ValidationError({"criteria": _("criteria must be a list of criteria, not %(type)s.")
                                           % {"type": type(criteria).__name__}})
    criteria = list(criteria)
    problems: list[str] = []
    notices: list[str] = []
    if not CRITERIA_MIN <= len(criteria) <= CRITERIA_MAX:
        problems.append(_("An evaluator needs %(min)d to %(max)d criteria; it has %(count)d.")
                        % {"min": CRITERIA_MIN, "max": CRITERIA_MAX, "count": len(criteria)})
    cleaned: list[dict] = []
    seen_names: dict[str, int] = {}
    for number, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict):
            problems.append(_("Criterion %(number)d must be an object.") % {"number": number})
            continue
        raw_name = criterion.get("name")
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        label = (_("Criterion %(number)d (%(name)r)") if name else _("Criterion %(number)d")) % {
            "number": number, "name": name}
        if not name:
            problems.append(_("%(label)s: name is required.") % {"label": label})
        elif len(name) > TAG_MAX_LENGTH:
            problems.append(_("%(label)s: name must be at most %(max)d characters.")
                            % {"label": label, "max": TAG_MAX_LENGTH})
        elif name.casefold() in seen_names:
            problems.append(
                _("%(label)s: name is already used by criterion %(other)d; names must be unique within an "
                  "evaluator.") % {"label": label, "other": seen_names[name.casefold()]}
            )
        else:
            seen_names[name.casefold()] = number
        try:
            description = _text(criterion.get("description"), field="description")
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            description = ""
        try:
            kind = clean_criterion_type(criterion.get("type"))
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            kind = None
        try:
            raw_weight = criterion.get("weight")
            weight = Decimal(0) if kind == STRICT and raw_weight in (None, "") else clean_weight(raw_weight)
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            weight = None
        if kind == STRICT and weight:
            notices.append(_("%(label)s is strict, so its weight was set to 0 (it was %(weight)s).")
                           % {"label": label, "weight": formats.number_format(weight.normalize())})
        if kind == STRICT:
            weight = Decimal("0.00")
        item = {"name": name, "description": description, "type": kind, "weight": weight}
        if criterion.get("id"):
            item["id"] = criterion["id"]
        cleaned.append(item)
    if not problems:
        total = sum(c["weight"] for c in cleaned if c["type"] != STRICT)
        if total != WEIGHT_TOTAL:
            problems.append(
                _("The weights of the non-strict criteria must sum to %(total)s; they sum to %(sum)s.")
                % {"total": WEIGHT_TOTAL, "sum": formats.number_format(total.normalize())}
            )
    if problems:
        raise ValidationError({"criteria": problems})
    return cleaned, notices


def clean_evaluator(data: dict, *, current_tag: str | None = None) -> tuple[dict, list[str]]:
    """Check a whole evaluator. `current_tag` is the stored tag of an existing one:
    Heify does not let a tag change after creation."""
    errors: dict[str, list[str]] = {}
    tag = _collect(errors, "tag", clean_tag, data.get("tag"))
    if current_tag is not None and tag is not None and tag != current_tag:
        errors.setdefault("tag", []).append(
            _("The tag cannot be changed after creation (it is %(tag)r).") % {"tag": current_tag}
        )
    cleaned = {
        "tag": tag,
        "description": _collect(errors, "description", _text, data.get("description"), field="description"),
        "language": _collect(errors, "language", clean_language, data.get("language"), field="language"),
        "context": _collect(errors, "context", clean_json_value, data.get("context"), field="context"),
    }
    result = _collect(errors, "criteria", clean_criteria, data.get("criteria") or [])
    _raise_if(errors)
    cleaned["criteria"], notices = result
    return cleaned, notices


def criterion_points(kind: str, weight: Decimal | float, verdict: bool | int) -> float:
    """What one criterion adds to the score (notes, section 4): boolean, its weight when passed;
    scale, value / 5 x weight; strict, nothing (its fail only triggers the critical fail)."""
    kind = clean_criterion_type(kind)
    if kind == SCALE:
        return verdict / SCALE_MAX * float(weight)
    if kind == BOOLEAN and verdict is True:
        return float(weight)
    return 0.0


def criterion_points_range(kind: str, weight: Decimal | float, *, passed: bool,
                           value: int | None = None) -> tuple[float, float]:
    """The least and most a criterion can have added, given Heify's result for it.

    Heify's result of a scale criterion says only passed (value 3-5) or failed
    (1-2), unless it carries the value: then the range is that one figure.
    """
    if clean_criterion_type(kind) != SCALE:
        points = criterion_points(kind, weight, passed)
        return points, points
    if value is not None:
        points = criterion_points(kind, weight, value)
        return points, points
    low, high = (SCALE_PASS_MARK, SCALE_MAX) if passed else (SCALE_MIN, SCALE_PASS_MARK - 1)
    return criterion_points(kind, weight, low), criterion_points(kind, weight, high)


def evaluation_score(criteria: Iterable[dict], verdicts: dict[str, Any]) -> dict:
    """Score one call (notes, section 4).

    `criteria`: dicts with name, type, weight. `verdicts`: criterion name ->
    True/False for boolean and strict criteria, 1-5 for scale criteria.
    Returns Heify's evaluation object: score, critical_fail_triggered,
    criteria_results [{name, passed}].
    """
    score = 0.0
    critical = False
    results = []
    for criterion in criteria:
        kind = clean_criterion_type(criterion["type"])
        name = criterion["name"]
        if name not in verdicts:
            raise ValidationError(_("%(name)s: no verdict was given.") % {"name": name})
        verdict = verdicts[name]
        if kind == SCALE:
            if type(verdict) is not int or not SCALE_MIN <= verdict <= SCALE_MAX:
                raise ValidationError(_("%(name)s: a scale value is a whole number from 1 to 5, not %(value)r.")
                                      % {"name": name, "value": verdict})
            passed = verdict >= SCALE_PASS_MARK
        else:
            if not isinstance(verdict, bool):
                raise ValidationError(_("%(name)s: a %(type)s verdict is true or false, not %(value)r.")
                                      % {"name": name, "type": kind, "value": verdict})
            passed = verdict
            if kind == STRICT and not passed:
                critical = True
        score += criterion_points(kind, criterion["weight"], verdict)
        results.append({"name": criterion["name"], "passed": passed})
    return {"score": round(score, 2), "critical_fail_triggered": critical, "criteria_results": results}


# Unknown scale values tried against a score; past this many combinations none is tried (nothing is settled).
SCALE_COMBINATIONS_MAX = 3 ** 7


def scale_value_combinations(criteria: list[dict], results: dict[str, tuple[bool | None, int | None]],
                             score: float | None) -> tuple[list[dict[str, int]], bool]:
    """The scale values a call's results leave unknown, each with the values its pass/fail allows (passed 3-5,
    failed 1-2): the combinations of them ({name: value}) that reproduce `score` under `criteria` (those that
    scored the call: name, type, weight), and True; or, where there is no score, none reproduces it or there are
    more than SCALE_COMBINATIONS_MAX, every combination (or only the lowest and the highest), and False.

    `results`: criterion name -> (passed, value) as Heify gave them; a result that does not say pass or fail is
    not scored, a value its pass/fail contradicts counts as not given. The one enumeration: the score of record
    (qa.reviews.record) and what-if (qa.scorecards.whatif) both ask it."""
    scored = [c for c in criteria if results.get(c["name"], (None,))[0] is not None]
    known, unknown, choices = {}, [], []
    for c in scored:
        passed, value = results[c["name"]]
        low, high = SCALE_RANGE[passed]
        if c["type"] != SCALE:
            known[c["name"]] = passed
        elif value is not None and low <= value <= high:
            known[c["name"]] = value
        else:
            unknown.append(c["name"])
            choices.append(range(low, high + 1))
    count = 1
    for choice in choices:
        count *= len(choice)
    if count > SCALE_COMBINATIONS_MAX:
        return [{name: r.start for name, r in zip(unknown, choices, strict=True)},
                {name: r[-1] for name, r in zip(unknown, choices, strict=True)}], False
    combinations = [dict(zip(unknown, values, strict=True)) for values in itertools.product(*choices)]
    if score is not None:
        fitting = [combo for combo in combinations
                   if abs(evaluation_score(scored, {**known, **combo})["score"] - score) <= SCORE_TOLERANCE]
        if fitting:  # a score no combination reproduces settles nothing
            return fitting, True
    return combinations, False


def known_scale_values(criteria: list[dict], results: dict[str, tuple[bool | None, int | None]],
                       score: float | None) -> dict[str, int]:
    """Criterion name -> a call's scale value where it is known: given with its result (and not contradicted by
    its pass/fail), or settled by the call's score (every combination of the unknown values that reproduces the
    score gives that criterion the same value; scale_value_combinations)."""
    values = {name: value for name, (passed, value) in results.items()
              if value is not None and (passed is None or SCALE_RANGE[passed][0] <= value <= SCALE_RANGE[passed][1])}
    combinations, settled = scale_value_combinations(criteria, results, score)
    if settled:
        for name in combinations[0]:
            if len({combo[name] for combo in combinations}) == 1:
                values[name] = combinations[0][name]
    return values


def clean_group(value: Any) -> str | None:
    """A review group, or None for no group."""
    if value is None or value == "":
        return None
    if value not in GROUPS:
        raise ValidationError({"group": _("group must be one of %(groups)s or null, not %(value)r.")
                                        % {"groups": ", ".join(GROUPS), "value": value}})
    return value


# Review transitions: action -> (groups it may start from, group it leads to).
# None is "no group". Who may do what is decided in qa/reviews/queues.py.
REVIEW_TRANSITIONS: dict[str, tuple[frozenset, str | None]] = {
    "claim": (frozenset({None, Group.PENDING_REVIEW, Group.UNDER_REVIEW}), Group.UNDER_REVIEW),
    "release": (frozenset({Group.UNDER_REVIEW}), Group.PENDING_REVIEW),
    "archive": (frozenset({None, Group.PENDING_REVIEW, Group.UNDER_REVIEW}), Group.ARCHIVED),
    "reopen": (frozenset({Group.ARCHIVED}), Group.PENDING_REVIEW),
    "reassign": (frozenset({Group.UNDER_REVIEW}), Group.UNDER_REVIEW),
    "expire": (frozenset({Group.UNDER_REVIEW}), Group.PENDING_REVIEW),
}
# The moves that start from UNDER_REVIEW only where nobody holds the call (moved there in Heify, or its holder's
# claim lapsed): a claim takes such a call over; a call someone holds is theirs until they release it, a manager
# reassigns it or the expiry job returns it.
UNHELD_ONLY = frozenset({"claim"})


GROUP_LABELS = {
    Group.PENDING_REVIEW: gettext_lazy("pending review"),
    Group.UNDER_REVIEW: gettext_lazy("under review"),
    Group.ARCHIVED: gettext_lazy("archived"),
    None: gettext_lazy("no group"),
}
# The review moves, as the messages name them.
ACTION_VERBS = {
    "claim": pgettext_lazy("review move", "claim"),
    "release": pgettext_lazy("review move", "release"),
    "archive": pgettext_lazy("review move", "archive"),
    "reopen": pgettext_lazy("review move", "reopen"),
    "reassign": pgettext_lazy("review move", "reassign"),
    "expire": pgettext_lazy("review move", "expire"),
}


def group_label(group: str | None) -> str:
    """A group as a sentence names it, in the active language ("pending review", "no group")."""
    label = GROUP_LABELS.get(group or None)
    return str(label) if label is not None else group.replace("_", " ").lower()


def review_transition(action: str, from_group: str | None, *, held: bool = False) -> str | None:
    """The group `action` leads to from `from_group`; a ValidationError if it cannot start there.

    `held`: someone holds the call (a live claim on a call under review), which
    the moves of UNHELD_ONLY refuse (code "claim_lost": the caller names who).
    """
    sources, target = REVIEW_TRANSITIONS[action]
    if from_group not in sources:
        allowed = _(" or ").join(sorted(group_label(g) for g in sources))
        raise ValidationError(
            _("Cannot %(action)s a call that is in %(group)s; it must be in %(allowed)s.")
            % {"action": ACTION_VERBS[action], "group": group_label(from_group), "allowed": allowed},
            code="invalid_transition",
        )
    if held and action in UNHELD_ONLY and from_group == Group.UNDER_REVIEW:
        raise ValidationError(_("Cannot %(action)s a call someone is reviewing: only one nobody holds.")
                              % {"action": ACTION_VERBS[action]}, code="claim_lost")
    return target


# --- configurations ----------------------------------------------------------------


def clean_vocabulary(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError({"vocabulary": _("Vocabulary must be a list of terms.")})
    terms = []
    for number, term in enumerate(value, start=1):
        if not isinstance(term, str) or not term.strip():
            raise ValidationError({"vocabulary": _("Vocabulary term %(number)d must be non-empty text.")
                                                 % {"number": number}})
        if problem := text_problem(term):
            raise ValidationError({"vocabulary": _("Vocabulary term %(number)d %(problem)s.")
                                                 % {"number": number, "problem": problem}})
        terms.append(term.strip())
    return terms


def clean_extraction_fields(fields: Iterable[dict]) -> list[dict]:
    if isinstance(fields, (str, bytes, dict)) or not isinstance(fields or [], Iterable):
        raise ValidationError(
            {"extraction_fields": _("extraction_fields must be a list of fields, not %(type)s.")
                                  % {"type": type(fields).__name__}}
        )
    fields = list(fields or [])
    problems: list[str] = []
    if len(fields) > EXTRACTION_FIELDS_MAX:
        problems.append(_("A configuration has at most %(max)d extraction fields; it has %(count)d.")
                        % {"max": EXTRACTION_FIELDS_MAX, "count": len(fields)})
    cleaned, seen = [], set()
    for number, field in enumerate(fields, start=1):
        if not isinstance(field, dict):
            problems.append(_("Extraction field %(number)d must be an object.") % {"number": number})
            continue
        name = field.get("name").strip() if isinstance(field.get("name"), str) else ""
        label = (_("Extraction field %(number)d (%(name)r)") if name else _("Extraction field %(number)d")) % {
            "number": number, "name": name}
        if not name:
            problems.append(_("%(label)s: name is required.") % {"label": label})
        elif not EXTRACTION_FIELD_NAME.match(name) or len(name) > 64:
            problems.append(
                _("%(label)s: name must be an identifier (letters, digits and _, not starting with a digit, at "
                  "most 64 characters).") % {"label": label}
            )
        elif name in seen:
            problems.append(_("%(label)s: name is used twice; names must be unique.") % {"label": label})
        seen.add(name)
        kind = field.get("type").strip().lower() if isinstance(field.get("type"), str) else None
        if kind not in EXTRACTION_FIELD_TYPES:
            problems.append(
                _("%(label)s: type must be one of %(types)s, not %(value)r.")
                % {"label": label, "types": ", ".join(EXTRACTION_FIELD_TYPES), "value": field.get("type")}
            )
        description = field.get("description")
        if not isinstance(description, str) or not description.strip():
            problems.append(_("%(label)s: description is required.") % {"label": label})
            description = ""
        elif problem := text_problem(description):
            problems.append(_("%(label)s: description %(problem)s.") % {"label": label, "problem": problem})
            description = ""
        cleaned.append({"name": name, "type": kind, "description": description.strip()})
    if problems:
        raise ValidationError({"extraction_fields": problems})
    return cleaned


def clean_webhook_url(value: Any, *, field: str) -> str:
    if value is None or value == "":
        return ""
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        _http_url(value)
    except (ValidationError, TypeError):
        raise ValidationError({field: _("%(field)s must be a valid http(s) URL, not %(value)r.")
                                      % {"field": field, "value": value}}) from None
    return value


def clean_configuration(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    summary = data.get("summary", False)
    if not isinstance(summary, bool):
        errors["summary"] = [_("summary must be true or false, not %(value)r.") % {"value": summary}]
    cleaned = {
        "tag": _collect(errors, "tag", clean_tag, data.get("tag")),
        "vocabulary": _collect(errors, "vocabulary", clean_vocabulary, data.get("vocabulary")),
        "summary": summary,
        "summary_language": _collect(
            errors, "summary_language", clean_language, data.get("summary_language"), field="summary_language"
        ),
        "analytics_language": _collect(
            errors, "analytics_language", clean_language, data.get("analytics_language"),
            field="analytics_language",
        ),
        "webhook_success_url": _collect(
            errors, "webhook_success_url", clean_webhook_url, data.get("webhook_success_url"),
            field="webhook_success_url",
        ),
        "webhook_error_url": _collect(
            errors, "webhook_error_url", clean_webhook_url, data.get("webhook_error_url"),
            field="webhook_error_url",
        ),
        "extraction_fields": _collect(
            errors, "extraction_fields", clean_extraction_fields, data.get("extraction_fields") or []
        ),
    }
    _raise_if(errors)
    return cleaned


# --- participants ------------------------------------------------------------------


def clean_metadata(value: Any) -> dict:
    """Participant metadata is a JSON object, replaced whole on every update."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = {list: _("a list"), str: _("text"), bool: _("true/false")}.get(
            type(value), _("a %(type)s") % {"type": type(value).__name__})
        raise ValidationError({"metadata": _("Metadata must be a JSON object ({...}), not %(kind)s.") % {"kind": kind}})
    return clean_json_value(value, field="metadata")


def clean_participant(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {
        "tag": _collect(errors, "tag", clean_tag, data.get("tag")),
        "metadata": _collect(errors, "metadata", clean_metadata, data.get("metadata")),
    }
    _raise_if(errors)
    return cleaned


# --- review notes and reasons ------------------------------------------------------

REVIEW_TEXT_MAX_LENGTH = 5000


def clean_review_text(value: Any, *, field: str, what: str = "", required: bool = False) -> str:
    """A review note, a verdict's reason, a move's note or a calibration note (`what`, in messages; `field` by default):
    text of at most REVIEW_TEXT_MAX_LENGTH characters, with no NUL (PostgreSQL cannot store one). A caller's
    `what` is best a translated word (gettext)."""
    text, what = _text(value, field=field, max_length=None), what or field
    if required and not text:
        raise ValidationError({field: _("The %(what)s cannot be empty.") % {"what": what}})
    if len(text) > REVIEW_TEXT_MAX_LENGTH:
        raise ValidationError({field: _("The %(what)s is too long: %(length)d characters, at most %(max)d characters.")
                                      % {"what": what, "length": len(text), "max": REVIEW_TEXT_MAX_LENGTH}})
    return clean_json_value(text, field=field)
