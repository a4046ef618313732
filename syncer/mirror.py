"""Heify JSON -> models: the one upsert path.

`heify_load`, the pull and the emulator's fixtures all come through here. The
upsert never calls the API: relations are stored as Heify ids (see
qa.mirror.models._heify_reference), so resources only need loading in dependency
order. Writes are batched (`INSERT ... ON CONFLICT`), and a row is written only
when Heify's payload changed, which is what makes loading twice a no-op.
A row with a local change still waiting to be pushed is left alone, so a pull
never reverts what a user did: the write itself is conditional (the stored row
is still in sync and at the version that was read), so neither is a change
committed while the pull runs. Nor is a change Heify took while the pull ran:
every row records the moment its Heify data holds from (`heify_as_of`: when the
fetch that brought it began, or when Heify answered our push), and a payload
fetched before that moment is not written over it. A pull's page of 500 calls
fetched before a reviewer's archive reached Heify, and written after Heify's
answer was stored, would otherwise put the call back under review.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, connections, models, router, transaction
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.utils import timezone

from qa import limits
from qa.db import on_postgresql
from qa.mirror import criterion_results, revisions, rollups, rules
from qa.mirror.models import Configuration, Criterion, Evaluator, ExtractionField, Participant, SyncState, Transcription
from syncer import contract


class PayloadError(ValueError):
    """A Heify payload that does not have the documented shape."""


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # a local change waits for Heify: Heify's version was not applied over it

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        for field in fields(UpsertResult):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self

    def __str__(self):
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(UpsertResult))


def payload_digest(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


# --- parsing: one Heify object -> column values ----------------------------------
# Every value is checked before it is kept: the whole object within qa.mirror.rules'
# limits (depth, numbers, NUL, size), each column of the type and length it
# has. So a parse either returns rows the database takes, or raises
# PayloadError naming the field; nothing in between.

_SINGULAR = {"configurations": "configuration", "evaluators": "evaluator", "participants": "participant",
             "transcriptions": "transcription"}


def _require_id(payload: Any, resource: str) -> str:
    if not isinstance(payload, dict):
        raise PayloadError(f"must be a JSON object, not {type(payload).__name__}")
    name = contract.ID_FIELDS[resource]
    value = payload.get(name)
    if value is None or value == "":
        raise PayloadError(f"{name} is missing")
    if not contract.is_heify_id(value):
        raise PayloadError(f"{name} must be {contract.HEIFY_ID_SHAPE}, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _rule(func, *args, **kwargs):
    """Apply a rule from qa.mirror.rules, turning its message into a PayloadError."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise PayloadError("; ".join(exc.messages)) from None


def _timestamp(value, name):
    try:
        return contract.parse_timestamp(value)
    except ValueError as exc:
        raise PayloadError(f"{name}: {exc}") from None


def _text(value: Any, name: str, *, max_length: int | None = None, null: bool = False) -> str | None:
    """Text for a column: None (or absent) is "" (None with `null`); anything else but text is refused."""
    if value is None:
        return None if null else ""
    if not isinstance(value, str):
        raise PayloadError(f"{name} must be text, not {type(value).__name__}")
    if max_length is not None and len(value) > max_length:
        raise PayloadError(f"{name} must be at most {max_length} characters (it has {len(value)})")
    return value


def _object(value: Any, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be an object, not {type(value).__name__}")
    return value


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _reference(payload: dict, name: str) -> str | None:
    """Another object's id (it may be missing here: relations are resolved by id, not enforced)."""
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not contract.is_heify_id(value):
        raise PayloadError(f"{name} must be {contract.HEIFY_ID_SHAPE} or null, not {_shown(value)}")
    return value


def _within_limits(payload: dict, resource: str) -> str:
    """The whole object within qa.limits' limits (checked last, so a field's own message comes first); returns
    its digest, which only such an object has.

    The canonical JSON the digest is taken of answers most of the check, in C: NaN and Infinity and what is
    not JSON cannot be written, a lone surrogate cannot be encoded, the size is its length, a NUL shows as an
    escape. What is left (the nesting, whole numbers' range) is one pass over the containers. Only where a doubt
    remains (a NUL's escape, text long enough to hold a string over the limit, the encoding failed) is the object
    walked value by value (`limits.clean_json_value`), which names the place.
    """
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        encoded = text.encode()
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        encoded = None
    if (encoded is None or len(encoded) > limits.HEIFY_OBJECT_MAX_BYTES or len(text) > limits.TEXT_MAX_LENGTH
            or "\\u0000" in text or _doubtful(payload, limits.JSON_MAX_DEPTH)):
        _rule(limits.clean_json_value, payload, field=_SINGULAR[resource], max_bytes=limits.HEIFY_OBJECT_MAX_BYTES)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest() if encoded is not None else payload_digest(payload)


def _doubtful(value: dict | list, depth: int) -> bool:
    """Whether arrays and objects nest inside `value` more than `depth` deep (`limits.json_problem`'s count), or
    it holds a whole number out of limits.JSON_INTEGER_MAX's range."""
    if depth < 1:
        return True
    for child in value.values() if isinstance(value, dict) else value:
        if isinstance(child, (dict, list)):
            if _doubtful(child, depth - 1):
                return True
        elif type(child) is int and not -limits.JSON_INTEGER_MAX <= child <= limits.JSON_INTEGER_MAX:
            return True
    return False


def _common(payload: dict, resource: str) -> dict:
    return {
        "heify_id": _require_id(payload, resource),
        "client_id": _text(payload.get("client_id"), "client_id", max_length=255),
        "created_at": _timestamp(payload.get("created_at"), "created_at"),
    }


def parse_configuration(payload: dict) -> tuple[dict, list[dict]]:
    row = _common(payload, "configurations")
    webhooks = _object(payload.get("webhooks"), "webhooks")
    summary = payload.get("summary")
    if summary is not None and not isinstance(summary, bool):
        raise PayloadError(f"summary must be true or false, not {_shown(summary)}")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        vocabulary=_rule(rules.clean_vocabulary, payload.get("vocabulary")),
        summary=bool(summary),
        summary_language=_rule(rules.clean_language, payload.get("summary_language"), field="summary_language"),
        analytics_language=_rule(
            rules.clean_language, payload.get("analytics_language"), field="analytics_language"
        ),
        webhook_success_url=_rule(rules.clean_webhook_url, webhooks.get("success_url"), field="webhooks.success_url"),
        webhook_error_url=_rule(rules.clean_webhook_url, webhooks.get("error_url"), field="webhooks.error_url"),
    )
    children = _rule(rules.clean_extraction_fields, _list(payload.get("extraction_fields"), "extraction_fields"))
    row["payload_hash"] = _within_limits(payload, "configurations")
    return row, [dict(field, position=i) for i, field in enumerate(children)]


def parse_evaluator(payload: dict) -> tuple[dict, list[dict]]:
    row = _common(payload, "evaluators")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        description=_text(payload.get("description"), "description"),
        language=_rule(rules.clean_language, payload.get("language"), field="language"),
        context=_rule(limits.clean_json_value, payload.get("context"), field="context"),
        remote_updated_at=_timestamp(payload.get("updated_at"), "updated_at"),
    )
    criteria = _list(payload.get("criteria"), "criteria")
    children, seen_ids = [], set()
    for position, criterion in enumerate(criteria):
        where = f"criteria[{position}]"
        if not isinstance(criterion, dict):
            raise PayloadError(f"{where} must be an object, not {type(criterion).__name__}")
        kind = _rule(rules.clean_criterion_type, criterion.get("type"))
        criterion_id = _text(criterion.get("id"), f"{where}.id", max_length=64) or None
        if criterion_id is not None:
            if criterion_id in seen_ids:  # one row per id: a second would overwrite the first
                raise PayloadError(f"{where}.id {criterion_id!r} is used twice")
            seen_ids.add(criterion_id)
        children.append({
            "heify_id": criterion_id,
            "position": position,
            "name": _text(criterion.get("name"), f"{where}.name", max_length=rules.TAG_MAX_LENGTH),
            "description": _text(criterion.get("description"), f"{where}.description"),
            "type": kind,
            "weight": 0 if kind == rules.STRICT else _rule(rules.clean_weight, criterion.get("weight")),
        })
    row["payload_hash"] = _within_limits(payload, "evaluators")
    return row, children


def parse_participant(payload: dict) -> tuple[dict, list]:
    row = _common(payload, "participants")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        metadata=_rule(rules.clean_metadata, payload.get("metadata")),
        remote_updated_at=_timestamp(payload.get("updated_at"), "updated_at"),
    )
    row["payload_hash"] = _within_limits(payload, "participants")
    return row, []


# Parts of a transcription's details kept in their own columns; `raw` keeps
# everything else, so the conversation is not stored twice.
_DETAIL_COLUMNS = ("conversation", "summary", "fields", "evaluation")
NUM_SPEAKERS_MAX = 32767  # the column is a small integer


def _is_number(value: Any) -> bool:
    """A JSON number. Python's json module also reads NaN and Infinity, which no report can average."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_transcription(payload: dict) -> tuple[dict, list[criterion_results.ParsedResult]]:
    row = _common(payload, "transcriptions")
    status = payload.get("status")
    if status not in rules.STATUSES:
        raise PayloadError(f"status must be one of {', '.join(rules.STATUSES)}, not {_shown(status)}")
    group = payload.get("group")
    if group is not None and group not in rules.GROUPS:
        raise PayloadError(f"group must be one of {', '.join(rules.GROUPS)} or null, not {_shown(group)}")
    duration = payload.get("duration")
    if duration is not None and not _is_number(duration):
        raise PayloadError(f"duration must be a number of seconds, not {_shown(duration)}")
    details = _object(payload.get("details"), "details")
    evaluation = _object(details.get("evaluation"), "details.evaluation")
    score = evaluation.get("score")
    if score is not None and not _is_number(score):
        raise PayloadError(f"details.evaluation.score must be a number, not {_shown(score)}")
    num_speakers = details.get("num_speakers")
    if num_speakers is not None and (type(num_speakers) is not int or not 0 <= num_speakers <= NUM_SPEAKERS_MAX):
        raise PayloadError(f"details.num_speakers must be a whole number from 0, not {_shown(num_speakers)}")
    # Tolerated in any shape: kept as Heify sent it when it is a list, typed by its one parser (its children).
    results = evaluation.get("criteria_results")
    parsed_results = criterion_results.parse_criteria_results(results)
    try:
        occurred_at = contract.transcription_date(payload)
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    row.update(
        raw={**payload, "details": {k: v for k, v in details.items() if k not in _DETAIL_COLUMNS}}
        if details else payload,
        status=status,
        group=group,
        name=_text(payload.get("name"), "name", max_length=500, null=True),
        duration=duration,
        configuration_id=_reference(payload, "configuration_id"),
        configuration_tag=_text(payload.get("configuration_tag"), "configuration_tag", max_length=rules.TAG_MAX_LENGTH),
        evaluator_id=_reference(payload, "evaluator_id"),
        participant_id=_reference(payload, "participant_id"),
        occurred_at=occurred_at,
        language=_text(details.get("language"), "details.language", max_length=8),
        num_speakers=num_speakers,
        processing_started_at=_timestamp(details.get("created_at"), "details.created_at"),
        completed_at=_timestamp(details.get("completed_at"), "details.completed_at"),
        score=score,
        critical_fail_triggered=evaluation.get("critical_fail_triggered") is True,
        segments=_list(_object(details.get("conversation"), "details.conversation").get("segments"),
                       "details.conversation.segments"),
        summary=_text(_object(details.get("summary"), "details.summary").get("summary"), "details.summary.summary"),
        fields=_list(_object(details.get("fields"), "details.fields").get("fields"), "details.fields.fields"),
        criteria_results=results if isinstance(results, list) else [],
        failed_criteria=criterion_results.failed_names(parsed_results),
        results_key=criterion_results.results_key(parsed_results),
        error=payload.get("error"),
    )
    row["payload_hash"] = _within_limits(payload, "transcriptions")
    return row, parsed_results


# --- writing: a batch of parsed rows -> the database -------------------------------------


def insert_rows(
    model, rows: list[dict], *, update_fields: Iterable[str] = (), unique_fields: Iterable[str] = ("heify_id",),
    update_if: str = "",
) -> None:
    """What `model.objects.bulk_create()` does with `update_conflicts=True` (or, with no `update_fields`,
    `ignore_conflicts=True`), for rows given as dicts of field attname -> value, all with the same keys.
    `update_if` is SQL that a stored row must meet to be updated (`ON CONFLICT ... DO UPDATE ... WHERE`);
    it names the stored row by its table and the row being written as EXCLUDED.

    The statement is the one bulk_create sends and the values are the same:
    each is what its field's `get_db_prep_save` makes of it (`_value_preparer`), and a field the rows
    leave out gets its default. What is skipped is bulk_create's cost per
    value (a model instance per row, SQL compiled value by value, and on
    PostgreSQL array literals that psycopg escapes in Python), which was most
    of a pull's time. Nothing is returned (no primary keys).
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
    unknown = set(rows[0]) - {f.attname for f in fields}
    if unknown:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(sorted(unknown))}")
    missing = [f for f in fields if f.attname not in rows[0]]
    if missing:  # a default per row, as a model instance would take it (a callable default differs each time)
        rows = [{**{f.attname: f.get_default() for f in missing}, **row} for row in rows]
    prepare = [(f.attname, _value_preparer(f, connection)) for f in fields]
    params = [[prep(row[name]) for name, prep in prepare] for row in rows]
    update_columns = [opts.get_field(name).column for name in update_fields]
    on_conflict = OnConflict.UPDATE if update_columns else OnConflict.IGNORE
    qn = connection.ops.quote_name
    head = "{} {} ({})".format(
        connection.ops.insert_statement(on_conflict=on_conflict), qn(opts.db_table),
        ", ".join(qn(f.column) for f in fields),
    )
    suffix = connection.ops.on_conflict_suffix_sql(
        fields, on_conflict, update_columns, [opts.get_field(name).column for name in unique_fields]
    )
    if update_if:
        suffix += f" WHERE {update_if}"
    if on_postgresql(connection.alias):
        # One statement per batch, each column one array in binary form (as
        # bulk_create's UNNEST, but without its text array literals), sent by a
        # server-side binding cursor under Django's usual wrapper.
        import psycopg

        types = [f.db_type(connection).split("(")[0] for f in fields]
        sql = f"{head} SELECT * FROM UNNEST({', '.join(f'(%b)::{kind}[]' for kind in types)}) {suffix}"
        connection.close_if_health_check_failed()  # what connection.cursor() does first
        connection.ensure_connection()
        connection.validate_thread_sharing()
        raw = psycopg.Cursor(connection.connection)
        cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
        with cursor:
            cursor.execute(sql, [list(column) for column in zip(*params, strict=True)])
    else:
        # SQLITE_ROWS rows per statement, not one statement per row (executemany): SQLite opens a statement
        # savepoint for each statement that fires the search table's triggers, and at every one FTS5 writes what
        # it holds to disk, a segment per call that its merges then read and write again (about 40% of SQLite's
        # work in a pull). A statement of that many rows is parsed once per connection (sqlite3's statement cache).
        import sqlite3

        connection.ensure_connection()
        per_statement = max(1, min(SQLITE_ROWS, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
                                   // len(fields)))
        values = f"({', '.join(['%s'] * len(fields))})"
        with connection.cursor() as cursor:
            for start in range(0, len(params), per_statement):
                chunk = params[start:start + per_statement]
                cursor.execute(f"{head} VALUES {', '.join([values] * len(chunk))} {suffix}",
                               [value for row in chunk for value in row])


SQLITE_ROWS = 100  # rows per INSERT on SQLite (insert_rows)


# Fields whose get_db_prep_save gives back a value of this type as it is, on both databases.
_AS_IS = ((models.BooleanField, bool), (models.IntegerField, int), (models.FloatField, float),
          (models.CharField, str), (models.TextField, str))


def _value_preparer(field, connection) -> Callable[[Any], Any]:
    """`field.get_db_prep_save(value, connection)`, without its cost where the answer is known: None is
    None for every field (SQL NULL; a JSONField's too), and text, a whole number, a float or a boolean for a
    field of that type (or a relation to one) is the value itself; a datetime, date, UUID or decimal that is the
    very object an earlier row of the batch had (the pull's `now` and `as_of` on every row, a revision's weight on
    each result of its criterion) is prepared once. Tens of values per call, and the pull writes every one:
    Django's way per value cost more than the database's insert."""
    prep = field.get_db_prep_save
    base = field.target_field if field.is_relation else field
    kind = next((kind for cls, kind in _AS_IS if isinstance(base, cls)), None)
    if kind is None:
        # id -> (value, prepared) of the immutable values prepared so far; holding the value keeps its id its own
        prepared_before = {}

        def prepare(value):
            if value is None:
                return None
            known = prepared_before.get(id(value))
            if known is not None:
                return known[1]
            prepared = prep(value, connection)
            if type(value) in _IMMUTABLE:
                prepared_before[id(value)] = value, prepared
            return prepared

        return prepare
    return lambda value: value if value is None or type(value) is kind else prep(value, connection)


# Values a field prepares the same way each time, which nothing can change in between.
_IMMUTABLE = frozenset({datetime, date, uuid.UUID, Decimal})


def _write_extraction_fields(parents: dict[str, int], children: dict[str, list[dict]]) -> None:
    ExtractionField.objects.filter(configuration_id__in=parents.values()).delete()
    ExtractionField.objects.bulk_create(
        ExtractionField(configuration_id=parents[heify_id], **child)
        for heify_id, items in children.items()
        for child in items
    )


def _write_criteria(parents: dict[str, int], children: dict[str, list[dict]]) -> None:
    rows = [
        Criterion(evaluator_id=parents[heify_id], **child)
        for heify_id, items in children.items()
        for child in items
    ]
    kept_ids = [row.heify_id for row in rows if row.heify_id]
    Criterion.objects.filter(evaluator_id__in=parents.values()).exclude(heify_id__in=kept_ids).delete()
    with_id = [row for row in rows if row.heify_id]
    Criterion.objects.bulk_create(
        with_id, update_conflicts=True, unique_fields=["heify_id"],
        update_fields=["evaluator", "position", "name", "description", "type", "weight"],
    )
    Criterion.objects.bulk_create(row for row in rows if not row.heify_id)
    revisions.evaluator_revisions_record(evaluator_ids=parents.values(), source=revisions.Source.HEIFY)


def _write_criterion_results(parents: dict[str, int], children: dict[str, list]) -> None:
    """Replace the results of the calls written, each pinned to the revision that scored it (as written now)."""
    calls = {parents[heify_id]: parsed for heify_id, parsed in children.items()}
    criterion_results.CriterionResult.objects.filter(transcription_id__in=calls).delete()
    scored_with = revisions.scoring_revisions(pk for pk, parsed in calls.items() if parsed)
    seen = {}  # each revision's pins, read once for the page
    insert_rows(criterion_results.CriterionResult, [
        {"transcription_id": pk, **row}
        for pk, parsed in calls.items()
        for row in criterion_results.pinned_rows(parsed, **scored_with.get(pk, revisions.UNPINNED), seen=seen)
    ], unique_fields=("transcription", "position"))
    criterion_results.results_changed.send(sender=criterion_results.CriterionResult,
                                           calls=Transcription.all_objects.filter(pk__in=list(calls)))


@dataclass(frozen=True)
class Resource:
    model: type
    parse: Callable[[dict], tuple[dict, list]]
    write_children: Callable[[dict, dict], None] | None = None
    # The row's columns its children follow from: a stored row whose values of them stay as they are keeps its
    # children as they are (a call moved to another group keeps its result rows, their pins and its score of
    # record). Empty: the children are written with every write of the row.
    children_follow: tuple[str, ...] = ()


RESOURCES: dict[str, Resource] = {
    "configurations": Resource(Configuration, parse_configuration, _write_extraction_fields),
    "evaluators": Resource(Evaluator, parse_evaluator, _write_criteria),
    "participants": Resource(Participant, parse_participant),
    "transcriptions": Resource(Transcription, parse_transcription, _write_criterion_results, children_follow=(
        # the results as Heify sent them, the scorecard and the moment that pin them, and what the score of record
        # reads beside them (qa.reviews.record.compute)
        "criteria_results", "evaluator_id", "completed_at", "occurred_at", "score", "critical_fail_triggered")),
}


def parse_batch(resource: str, payloads: Iterable[dict], *, start: int = 0) -> list[tuple[dict, list]]:
    """Parse payloads, naming the one at fault: `evaluators[3] (id): problem`."""
    parsed = []
    for index, payload in enumerate(payloads, start=start):
        try:
            parsed.append(RESOURCES[resource].parse(payload))
        except PayloadError as exc:
            ident = payload.get(contract.ID_FIELDS[resource]) if isinstance(payload, dict) else None
            where = f"{resource}[{index}]" + (f" ({ident})" if contract.is_heify_id(ident) else "")
            raise PayloadError(f"{where}: {exc}") from None
    return parsed


def unchanged_payloads(resource: str, payloads: list) -> tuple[list, int]:
    """Set aside the payloads the mirror already holds as they are: the same digest as the stored row's, which
    is in sync and not gone (what `upsert` would count unchanged without writing). Returns the others, to be
    parsed and upserted, and how many were set aside.

    So a pull that changes nothing neither parses nor validates what it already stored (a stored digest is
    only ever that of a payload that passed the parse), one read per page. A payload listed twice counts once,
    as its last copy (`upsert`'s rule); one without a readable id is left to the parse, which names the fault.
    """
    id_field = contract.ID_FIELDS[resource]
    latest: dict[str, Any] = {}
    rest = []
    for payload in payloads:
        heify_id = payload.get(id_field) if isinstance(payload, dict) else None
        if contract.is_heify_id(heify_id):
            latest.pop(heify_id, None)  # the last copy keeps its place in the list
            latest[heify_id] = payload
        else:
            rest.append(payload)
    if not latest:
        return rest, 0
    # By the Heify id alone, as upsert's own read (one PostgreSQL run spent 24 s of a 100,000-call pull here when
    # it also asked sync_state and gone_at of the database): the rest is tested here.
    stored = {heify_id: digest for heify_id, digest, state, gone_at in RESOURCES[resource].model.all_objects.filter(
        heify_id__in=list(latest)).values_list("heify_id", "payload_hash", "sync_state", "gone_at")
        if state == SyncState.SYNCED and gone_at is None}
    changed = [payload for heify_id, payload in latest.items()
               if heify_id not in stored or stored[heify_id] != payload_digest(payload)]
    return changed + rest, len(latest) - len(changed)


def heify_clock() -> datetime:
    """Now, by the clock that orders what we learn from Heify (`heify_as_of`): the database's.

    A pull's fetch on one machine and a push's answer on another are compared
    by it, so the machines' own clocks need not agree. SQLite is one machine's
    file: its clock is that machine's.
    """
    if on_postgresql(connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def upsert(
    resource: str, parsed: list[tuple[dict, list]], *, as_of: datetime | None = None,
    written_ids: set[str] | None = None,
) -> UpsertResult:
    """Write one batch of parsed objects; only what Heify changed is written.

    `as_of` is when the fetch of these payloads began (heify_clock, taken before
    the request; now by default): a row holding Heify's data from later (a push
    answered since) is left alone and counted skipped. The Heify ids of the rows
    written are added to `written_ids` when it is given.
    """
    spec = RESOURCES[resource]
    batch = {row["heify_id"]: (row, children) for row, children in parsed}  # last one wins
    result = UpsertResult()
    if not batch:
        return result
    now = timezone.now()
    with transaction.atomic():
        known = {
            heify_id: rest
            for heify_id, *rest in spec.model.all_objects.filter(heify_id__in=batch).values_list(
                "heify_id", "payload_hash", "sync_state", "version", "gone_at", *spec.children_follow
            )
        }
        to_write, children_of = [], {}
        for heify_id, (row, children) in batch.items():
            digest, state, version, gone_at, *followed = known.get(heify_id, (None, SyncState.SYNCED, 0, None))
            if state != SyncState.SYNCED:
                result.skipped += 1
                continue
            if digest == row["payload_hash"] and gone_at is None:
                result.unchanged += 1
                continue
            if heify_id in known:
                result.updated += 1
            else:
                result.created += 1
            to_write.append({**row, "version": version + 1, "synced_at": now, "sync_error": "", "gone_at": None})
            if not followed or followed != [row[column] for column in spec.children_follow]:
                children_of[heify_id] = children
        if not to_write:  # nothing to write: nothing to recount either
            return result
        as_of = as_of or heify_clock()
        for row in to_write:
            row["heify_as_of"] = as_of
        columns = [name for name in to_write[0] if name != "heify_id"]
        with rollups.kept_current(spec.model.all_objects.filter(heify_id__in=[row["heify_id"] for row in to_write])):
            insert_rows(spec.model, to_write, update_fields=columns, update_if=_still_as_read(spec.model))
            written = _written(spec.model, to_write)
            if written_ids is not None:
                written_ids.update(written)
            for row in to_write:
                if row["heify_id"] not in written:  # changed here since it was read: left alone
                    result.skipped += 1
                    if row["heify_id"] in known:
                        result.updated -= 1
                    else:
                        result.created -= 1
                    children_of.pop(row["heify_id"], None)
            if spec.write_children and children_of:
                spec.write_children({k: v for k, v in written.items() if k in children_of}, children_of)
    return result


def _still_as_read(model) -> str:
    """The upsert's condition on a stored row: still in sync, at the version it was read at, and holding
    nothing of Heify's newer than the payload's fetch.

    Each written row carries the version read plus one, so a row that a
    person changed (or claimed for sending) between the read and the write is
    not overwritten: the write itself re-checks, under the row's lock. And it
    carries its fetch's start (`heify_as_of`), so a row whose push Heify
    answered after that (the row in sync again, at a higher version, before
    this upsert even read it) is not put back either.
    """
    qn = connections[router.db_for_write(model)].ops.quote_name
    table = qn(model._meta.db_table)
    as_of = qn("heify_as_of")
    return (f"{table}.{qn('sync_state')} = '{SyncState.SYNCED.value}' "
            f"AND {table}.{qn('version')} = EXCLUDED.{qn('version')} - 1 "
            f"AND ({table}.{as_of} IS NULL OR {table}.{as_of} <= EXCLUDED.{as_of})")


def _written(model, rows: list[dict]) -> dict[str, int]:
    """Heify id -> primary key of the rows the conditional write did write (their version and payload are ours)."""
    expected = {row["heify_id"]: (row["version"], row["payload_hash"]) for row in rows}
    stored = model.all_objects.filter(heify_id__in=expected, sync_state=SyncState.SYNCED).values_list(
        "heify_id", "pk", "version", "payload_hash")
    return {heify_id: pk for heify_id, pk, version, digest in stored if expected[heify_id] == (version, digest)}


def load_snapshot(snapshot: dict, *, batch_size: int = 1000) -> dict[str, UpsertResult]:
    """Load a whole account in the `heify_load` format, all or nothing.

    Everything is parsed first, so a bad object is reported before anything
    is written; the writes then run in one transaction.
    """
    if not isinstance(snapshot, dict):
        raise PayloadError("the file must hold a JSON object with the keys " + ", ".join(contract.RESOURCES))
    unknown = set(snapshot) - set(contract.RESOURCES)
    if unknown:
        raise PayloadError(
            f"unknown key(s) {', '.join(sorted(unknown))}; expected {', '.join(contract.RESOURCES)}"
        )
    parsed = {}
    for resource in contract.RESOURCES:
        items = snapshot.get(resource)
        items = [] if items is None else items
        if not isinstance(items, list):
            raise PayloadError(f"{resource} must be a list")
        parsed[resource] = parse_batch(resource, items)
    results = {}
    with transaction.atomic():
        for resource in contract.RESOURCES:
            results[resource] = UpsertResult()
            rows = parsed[resource]
            for start in range(0, len(rows), batch_size):
                results[resource] += upsert(resource, rows[start:start + batch_size])
    return results
