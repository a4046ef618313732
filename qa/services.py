"""Actions that change the mirror on behalf of a person: <entity>_<verb>(*, ...).

Admin screens, the REST API and tasks call these and hold no rule themselves.
Each action checks Heify's rules (qa.rules), refuses an edit based on a
version someone else has since changed, writes in one transaction and sends
the change to Heify at once (syncer.push): Heify's refusal undoes the write
(PushRefused, a ValidationError); an unreachable Heify leaves it waiting.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction

from qa import revisions, rules
from qa.models import Configuration, Criterion, Evaluator, ExtractionField, Participant, SyncState
from syncer import push, webhooks


class StaleEdit(ValidationError):
    """The object changed since the version the user edited; nothing was saved."""


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def begin_edit(obj, expected_version: int | None, *, compare: dict | None = None):
    """Lock the stored row of `obj` and return it (None for a new object).

    The edit is refused when the row moved past `expected_version`, the
    version the user started from; `compare` maps a field to the value the
    user submitted, so the message can show both versions side by side.
    """
    if obj.pk is None:
        return None
    current = type(obj).objects.select_for_update().get(pk=obj.pk)
    if expected_version is None or current.version == expected_version:
        return current
    lines = [
        f"This {type(obj)._meta.verbose_name} was changed by someone else while you were editing it "
        f"(you edited version {expected_version}, it is now at version {current.version}). "
        "Nothing was saved: reload the page and apply your change again."
    ]
    for field, yours in (compare or {}).items():
        lines.append(f"{field} now: {_show(getattr(current, field))}")
        lines.append(f"{field} yours: {_show(yours)}")
    raise StaleEdit(lines, code="stale")


def _save_changed(obj, stored) -> None:
    obj.sync_state, obj.sync_error = SyncState.WAITING, ""
    obj.version = stored.version + 1 if stored else 1
    obj.save()


@transaction.atomic
def heify_object_delete(*, obj) -> bool:
    """Delete in Heify, then here; True when done, False when the deletion waits for Heify."""
    begin_edit(obj, None)
    return push.delete_now(obj)


@transaction.atomic
def configuration_save(
    *, configuration: Configuration, data: dict, expected_version: int | None = None
) -> Configuration:
    """Create or update a configuration with its extraction fields (replaced whole)."""
    stored = begin_edit(configuration, expected_version)
    if stored is None:  # a new configuration calls this back office, when it has a public address
        defaults = webhooks.default_callback_urls()
        data = {**data, **{key: url for key, url in defaults.items() if not data.get(key)}}
    cleaned = rules.clean_configuration(data)
    fields = cleaned.pop("extraction_fields")
    for name, value in cleaned.items():
        setattr(configuration, name, value)
    _save_changed(configuration, stored)
    configuration.extraction_fields.all().delete()
    ExtractionField.objects.bulk_create(
        ExtractionField(configuration=configuration, position=i, **field) for i, field in enumerate(fields)
    )
    push.push_now(configuration)
    return configuration


@transaction.atomic
def evaluator_save(
    *, evaluator: Evaluator, data: dict, expected_version: int | None = None
) -> tuple[Evaluator, list[str]]:
    """Create or update an evaluator and its criteria; returns notices for the user
    (for example that a strict criterion's weight was set to 0)."""
    stored = begin_edit(evaluator, expected_version)
    cleaned, notices = rules.clean_evaluator(data, current_tag=stored.tag if stored else None)
    criteria = cleaned.pop("criteria")
    for name, value in cleaned.items():
        setattr(evaluator, name, value)
    _save_changed(evaluator, stored)
    evaluator.criteria.all().delete()
    Criterion.objects.bulk_create(
        Criterion(
            evaluator=evaluator, position=i, heify_id=c.get("id") or None, name=c["name"],
            description=c["description"], type=c["type"], weight=c["weight"],
        )
        for i, c in enumerate(criteria)
    )
    revisions.evaluator_revisions_record(evaluator_ids=[evaluator.pk], source=revisions.Source.LOCAL)
    push.push_now(evaluator)
    return evaluator, notices


@transaction.atomic
def participant_save(
    *, participant: Participant, data: dict, expected_version: int | None = None
) -> Participant:
    """Create or update a participant. Metadata is replaced whole, as Heify does."""
    cleaned = rules.clean_participant(data)
    stored = begin_edit(participant, expected_version, compare={"metadata": cleaned["metadata"]})
    for name, value in cleaned.items():
        setattr(participant, name, value)
    _save_changed(participant, stored)
    push.push_now(participant)
    return participant


def transcription_upload(*, file, configuration, evaluator=None, participant=None, name: str = ""):
    """Upload a call to Heify; it is stored as Heify answers (PENDING) and followed from there."""
    return push.upload_transcription(
        file=file, filename=file.name, configuration=configuration,
        evaluator=evaluator, participant=participant, name=name or file.name,
    )

