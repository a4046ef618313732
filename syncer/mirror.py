"""Heify JSON -> models: the one upsert path.

`heify_load`, the pull and the emulator's fixtures all come through here. The
upsert never calls the API: relations are stored as Heify ids (see
qa.models._heify_reference), so resources only need loading in dependency
order. Writes are batched (`INSERT ... ON CONFLICT`), and a row is written only
when Heify's payload changed, which is what makes loading twice a no-op.
A row with a local change still waiting to be pushed is left alone, so a pull
never reverts what a user did.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.utils import timezone

from qa import revisions, rules
from qa.models import Configuration, Criterion, Evaluator, ExtractionField, Participant, SyncState, Transcription
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


def _require_id(payload: Any, resource: str) -> str:
    if not isinstance(payload, dict):
        raise PayloadError(f"must be a JSON object, not {type(payload).__name__}")
    value = payload.get(contract.ID_FIELDS[resource])
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{contract.ID_FIELDS[resource]} is missing")
    return value


def _rule(func, *args, **kwargs):
    """Apply a rule from qa.rules, turning its message into a PayloadError."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise PayloadError("; ".join(exc.messages)) from None


def _timestamp(value, name):
    try:
        return contract.parse_timestamp(value)
    except ValueError as exc:
        raise PayloadError(f"{name}: {exc}") from None


def _common(payload: dict, resource: str) -> dict:
    return {
        "heify_id": _require_id(payload, resource),
        "client_id": payload.get("client_id") or "",
        "created_at": _timestamp(payload.get("created_at"), "created_at"),
        "payload_hash": payload_digest(payload),
    }


def parse_configuration(payload: dict) -> tuple[dict, list[dict]]:
    row = _common(payload, "configurations")
    webhooks = payload.get("webhooks") or {}
    if not isinstance(webhooks, dict):
        raise PayloadError("webhooks must be an object")
    summary = payload.get("summary")
    if summary is not None and not isinstance(summary, bool):
        raise PayloadError(f"summary must be true or false, not {summary!r}")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        vocabulary=_rule(rules.clean_vocabulary, payload.get("vocabulary")),
        summary=bool(summary),
        summary_language=_rule(rules.clean_language, payload.get("summary_language"), field="summary_language"),
        analytics_language=_rule(
            rules.clean_language, payload.get("analytics_language"), field="analytics_language"
        ),
        webhook_success_url=webhooks.get("success_url") or "",
        webhook_error_url=webhooks.get("error_url") or "",
    )
    children = _rule(rules.clean_extraction_fields, payload.get("extraction_fields") or [])
    return row, [dict(field, position=i) for i, field in enumerate(children)]


def parse_evaluator(payload: dict) -> tuple[dict, list[dict]]:
    row = _common(payload, "evaluators")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        description=payload.get("description") or "",
        language=_rule(rules.clean_language, payload.get("language"), field="language"),
        context=payload.get("context"),
        remote_updated_at=_timestamp(payload.get("updated_at"), "updated_at"),
    )
    criteria = payload.get("criteria") or []
    if not isinstance(criteria, list):
        raise PayloadError("criteria must be a list")
    children = []
    for position, criterion in enumerate(criteria):
        if not isinstance(criterion, dict):
            raise PayloadError(f"criterion {position + 1} must be an object")
        kind = _rule(rules.clean_criterion_type, criterion.get("type"))
        children.append({
            "heify_id": criterion.get("id") or None,
            "position": position,
            "name": str(criterion.get("name") or ""),
            "description": str(criterion.get("description") or ""),
            "type": kind,
            "weight": 0 if kind == rules.STRICT else _rule(rules.clean_weight, criterion.get("weight")),
        })
    return row, children


def parse_participant(payload: dict) -> tuple[dict, list]:
    row = _common(payload, "participants")
    row.update(
        raw=payload,
        tag=_rule(rules.clean_tag, payload.get("tag")),
        metadata=_rule(rules.clean_metadata, payload.get("metadata")),
        remote_updated_at=_timestamp(payload.get("updated_at"), "updated_at"),
    )
    return row, []


# Parts of a transcription's details kept in their own columns; `raw` keeps
# everything else, so the conversation is not stored twice.
_DETAIL_COLUMNS = ("conversation", "summary", "fields", "evaluation")


def _is_number(value: Any) -> bool:
    """A JSON number. Python's json module also reads NaN and Infinity, which no report can average."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_transcription(payload: dict) -> tuple[dict, list]:
    row = _common(payload, "transcriptions")
    status = payload.get("status")
    if status not in rules.STATUSES:
        raise PayloadError(f"status must be one of {', '.join(rules.STATUSES)}, not {status!r}")
    group = payload.get("group")
    if group is not None and group not in rules.GROUPS:
        raise PayloadError(f"group must be one of {', '.join(rules.GROUPS)} or null, not {group!r}")
    duration = payload.get("duration")
    if duration is not None and not _is_number(duration):
        raise PayloadError(f"duration must be a number of seconds, not {duration!r}")
    details = payload.get("details") or {}
    if not isinstance(details, dict):
        raise PayloadError("details must be an object")
    evaluation = details.get("evaluation") or {}
    score = evaluation.get("score")
    if score is not None and not _is_number(score):
        raise PayloadError(f"evaluation.score must be a number, not {score!r}")
    try:
        occurred_at = contract.transcription_date(payload)
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    row.update(
        raw={**payload, "details": {k: v for k, v in details.items() if k not in _DETAIL_COLUMNS}}
        if details else payload,
        status=status,
        group=group,
        name=payload.get("name"),
        duration=duration,
        configuration_id=payload.get("configuration_id") or None,
        configuration_tag=payload.get("configuration_tag") or "",
        evaluator_id=payload.get("evaluator_id") or None,
        participant_id=payload.get("participant_id") or None,
        occurred_at=occurred_at,
        language=details.get("language") or "",
        num_speakers=details.get("num_speakers"),
        processing_started_at=_timestamp(details.get("created_at"), "details.created_at"),
        completed_at=_timestamp(details.get("completed_at"), "details.completed_at"),
        score=score,
        critical_fail_triggered=bool(evaluation.get("critical_fail_triggered", False)),
        segments=(details.get("conversation") or {}).get("segments") or [],
        summary=(details.get("summary") or {}).get("summary") or "",
        fields=(details.get("fields") or {}).get("fields") or [],
        criteria_results=evaluation.get("criteria_results") or [],
        failed_criteria=rules.failed_criteria(evaluation.get("criteria_results")),
        error=payload.get("error"),
    )
    return row, []


# --- writing: a batch of parsed rows -> the database -------------------------------------


def insert_rows(
    model, rows: list[dict], *, update_fields: Iterable[str] = (), unique_fields: Iterable[str] = ("heify_id",),
) -> None:
    """What `model.objects.bulk_create()` does with `update_conflicts=True` (or, with no `update_fields`,
    `ignore_conflicts=True`), for rows given as dicts of field attname -> value, all with the same keys.

    The statement is the one bulk_create sends and the values are the same:
    each goes through its field's `get_db_prep_save`, and a field the rows
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
    prepare = [(f.attname, f.get_db_prep_save) for f in fields]
    params = [[prep(row[name], connection) for name, prep in prepare] for row in rows]
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
    if connection.vendor == "postgresql":
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
        with connection.cursor() as cursor:
            cursor.executemany(f"{head} VALUES ({', '.join(['%s'] * len(fields))}) {suffix}", params)


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


@dataclass(frozen=True)
class Resource:
    model: type
    parse: Callable[[dict], tuple[dict, list]]
    write_children: Callable[[dict, dict], None] | None = None


RESOURCES: dict[str, Resource] = {
    "configurations": Resource(Configuration, parse_configuration, _write_extraction_fields),
    "evaluators": Resource(Evaluator, parse_evaluator, _write_criteria),
    "participants": Resource(Participant, parse_participant),
    "transcriptions": Resource(Transcription, parse_transcription),
}


def parse_batch(resource: str, payloads: Iterable[dict], *, start: int = 0) -> list[tuple[dict, list]]:
    """Parse payloads, naming the one at fault: `evaluators[3] (id): problem`."""
    parsed = []
    for index, payload in enumerate(payloads, start=start):
        try:
            parsed.append(RESOURCES[resource].parse(payload))
        except PayloadError as exc:
            ident = payload.get(contract.ID_FIELDS[resource]) if isinstance(payload, dict) else None
            where = f"{resource}[{index}]" + (f" ({ident})" if ident else "")
            raise PayloadError(f"{where}: {exc}") from None
    return parsed


def upsert(resource: str, parsed: list[tuple[dict, list]]) -> UpsertResult:
    """Write one batch of parsed objects; only what Heify changed is written."""
    spec = RESOURCES[resource]
    batch = {row["heify_id"]: (row, children) for row, children in parsed}  # last one wins
    result = UpsertResult()
    if not batch:
        return result
    now = timezone.now()
    with transaction.atomic():
        known = {
            heify_id: rest
            for heify_id, *rest in spec.model.objects.filter(heify_id__in=batch).values_list(
                "heify_id", "payload_hash", "sync_state", "version", "gone_at"
            )
        }
        to_write, children_of = [], {}
        for heify_id, (row, children) in batch.items():
            digest, state, version, gone_at = known.get(heify_id, (None, SyncState.SYNCED, 0, None))
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
            children_of[heify_id] = children
        if to_write:
            columns = [name for name in to_write[0] if name != "heify_id"]
            insert_rows(spec.model, to_write, update_fields=columns)
            if spec.write_children:
                parents = dict(
                    spec.model.objects.filter(heify_id__in=children_of).values_list("heify_id", "pk")
                )
                spec.write_children(parents, children_of)
    return result


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
