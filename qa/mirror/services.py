"""Actions that change the mirror on behalf of a person: <entity>_<verb>(*, ...).

Admin screens, the REST API and tasks call these and hold no rule themselves.
Each action checks Heify's rules (qa.mirror.rules), then sends the change to Heify
through qa.heify, in the three steps it describes, with no transaction open
while Heify is called:
- the change is written in one short transaction whose UPDATE is conditional
  on the version the user started from (and on no other change being on its
  way to Heify): of two people editing the same object, the second is refused
  with both versions shown (StaleEdit), never a lost update;
- Heify's refusal (heify.Refused, a ValidationError) puts the object back as
  it was before the edit, conditionally, and reaches the person;
- an unreachable Heify leaves the change here, waiting for the push job.
Step 1 also writes the audit row (qa.audit) of the change, with the person
who made it (`acting_user`); a refusal by Heify removes it with the put-back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from qa import audit, heify
from qa.mirror import revisions, rules, webhook_urls
from qa.mirror.models import Configuration, Criterion, Evaluator, ExtractionField, Participant, SyncState


class StaleEdit(ValidationError):
    """The object changed since the version the user edited; nothing was saved."""


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def begin_edit(obj, expected_version: int | None, *, compare: dict | None = None):
    """The stored row of `obj` (None for a new object), when an edit based on `expected_version` may go ahead.

    Refused (StaleEdit) when the row moved past `expected_version`, the
    version the user started from, or while another change of it is on its
    way to Heify; `compare` maps a field to the value the user submitted, so
    the message can show both versions side by side. Nothing is locked: the
    save itself is conditional, and calls this again to say why it failed.
    """
    if obj.pk is None:
        return None
    current = type(obj).all_objects.get(pk=obj.pk)
    in_flight = heify.on_its_way(current)
    if (expected_version is None or current.version == expected_version) and not in_flight:
        return current
    name = type(obj)._meta.verbose_name
    if in_flight:
        lines = [
            _("Another change of this %(object)s is being sent to Heify right now. Nothing was saved: reload the "
              "page in a moment and apply your change again.") % {"object": name}
        ]
    else:
        lines = [
            _("This %(object)s was changed by someone else while you were editing it (you edited version "
              "%(yours)s, it is now at version %(current)s). Nothing was saved: reload the page and apply your "
              "change again.") % {"object": name, "yours": expected_version, "current": current.version}
        ]
    for field, yours in (compare or {}).items():
        lines.append(_("%(field)s now: %(value)s") % {"field": field, "value": _show(getattr(current, field))})
        lines.append(_("%(field)s yours: %(value)s") % {"field": field, "value": _show(yours)})
    raise StaleEdit(lines, code="stale")


@dataclass
class _Before:
    """An object as it was before an edit, to put back if Heify refuses the edit."""

    row: models.Model | None  # None: the object is new
    children: tuple[str, type] | None  # (the link to the object, the model) of its rows replaced whole
    child_rows: list[models.Model]
    audit_event: audit.AuditEvent | None = None  # the edit's audit row, forgotten if Heify refuses the edit


def _claim_and_write(
    obj, expected_version: int | None, *, fields: list[str], acting_user, compare: dict | None = None,
    children: tuple[str, type] | None = None, write_children: Callable[[], list] = list,
    child_values: Callable[[models.Model], dict] | None = None,
) -> tuple[_Before, heify.Claim]:
    """Step 1: write the change, marked waiting and claimed for sending, and its audit row, in one short
    transaction.

    Only `fields` (what the person edited) are written over a stored row, so
    nothing else of it (what a pull wrote meanwhile) is overwritten.
    `write_children` writes the rows replaced whole and returns them; the
    audit row shows them, each as `child_values` has it, under the relation's name.
    """
    model = type(obj)
    # Durable: committed before Heify hears of it, and refused inside a caller's transaction (Django would
    # raise RuntimeError), where Heify would be told of a change that might still roll back.
    with transaction.atomic(durable=True):
        stored = begin_edit(obj, expected_version, compare=compare)
        claim = heify.Claim.new(stored.version + 1 if stored else 1)
        claimed = claim.columns()
        before_children = []
        if stored is not None:
            # The one check that counts: another edit or send since the read above loses here.
            gate = model.all_objects.filter(heify.claimable(), pk=obj.pk, version=stored.version)
            if not gate.update(version=claim.version, **claimed):
                begin_edit(obj, stored.version, compare=compare)  # says why
                raise StaleEdit(_("This object changed meanwhile. Nothing was saved: reload the page."), code="stale")
            # What to put back should Heify refuse, read now that nobody else can change it.
            stored = model.all_objects.get(pk=obj.pk)
            stored.version = claim.version - 1
            if children:
                related, child_model = children
                before_children = list(child_model.objects.filter(**{related: obj.pk}).order_by("pk"))
            for field in model._meta.concrete_fields:  # the rest as stored now, not as first read
                if field.attname not in fields:
                    setattr(obj, field.attname, getattr(stored, field.attname))
        obj.sync_state, obj.sync_error, obj.version = SyncState.WAITING, "", claim.version
        for name, value in claimed.items():
            setattr(obj, name, value)
        sync = ["sync_state", "sync_error", "version", *heify.RELEASED]
        obj.save(update_fields=[*fields, *sync] if stored is not None else None)
        written = write_children()
        before_values, after_values = audit.field_values(stored, fields), audit.field_values(obj, fields)
        if children:
            name = children[1]._meta.get_field(children[0]).remote_field.related_name
            if stored is not None:
                before_values[name] = [child_values(row) for row in before_children]
            after_values[name] = [child_values(row) for row in written]
        action = audit.AuditEvent.Action.CREATE if stored is None else audit.AuditEvent.Action.UPDATE
        event = audit.audit_record(actor=acting_user, action=action, obj=obj, before=_audited(before_values),
                                   after=_audited(after_values))
    return _Before(stored, children, before_children, event), claim


def _put_back(obj, before: _Before, claim: heify.Claim) -> None:
    """Heify refused: the object ends as it was before the edit (unless someone changed it since)."""
    model = type(obj)
    mine = model.all_objects.filter(pk=obj.pk, push_claim=claim.token, version=claim.version)
    with transaction.atomic(durable=True):
        if before.row is None:
            if mine.delete()[0]:  # a new object that Heify refused never existed
                audit.audit_forget(before.audit_event)
            return
        fields = {
            f.attname: getattr(before.row, f.attname)
            for f in model._meta.concrete_fields if not f.primary_key
        }
        if not mine.update(**{**fields, **heify.RELEASED}):
            return
        audit.audit_forget(before.audit_event)
        if before.children:
            link, child_model = before.children
            child_model.objects.filter(**{link: obj.pk}).delete()
            child_model.objects.bulk_create(before.child_rows)


def _send(obj, before: _Before, claim: heify.Claim) -> bool:
    """Steps 2 and 3: send with no transaction open; on refusal, put the object back and say why."""
    try:
        return heify.send(obj, claim)
    except heify.Refused:
        _put_back(obj, before, claim)
        raise


def heify_object_delete(*, obj, acting_user=None) -> bool:
    """Delete in Heify, then here; True when done, False when the deletion waits for Heify."""
    model = type(obj)
    with transaction.atomic(durable=True):  # as in _claim_and_write: committed before Heify is asked
        stored = begin_edit(obj, None)
        claim = heify.Claim.new(stored.version)
        gate = model.all_objects.filter(heify.claimable(), pk=obj.pk, version=stored.version)
        if not gate.update(sync_state=SyncState.DELETING, **claim.columns()):
            begin_edit(obj, stored.version)
            raise StaleEdit(_("This object changed meanwhile. Nothing was deleted: reload the page."), code="stale")
        event = audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.DELETE, obj=stored,
                                   before=_audited(audit.field_values(stored, _edited_fields(model))))
    before = (stored.sync_state, stored.sync_error)
    try:
        finished = heify.delete(stored, claim)
    except heify.Refused:
        with transaction.atomic(durable=True):
            if model.all_objects.filter(pk=obj.pk, push_claim=claim.token).update(
                    sync_state=before[0], sync_error=before[1], **heify.RELEASED):
                audit.audit_forget(event)
        raise
    if not finished:
        obj.sync_state, obj.sync_error = SyncState.DELETING, stored.sync_error
    return finished


# A configuration's webhook URLs carry our webhook secret: the audit trail (read by managers, exported) keeps
# them masked, as qa.mirror.webhook_urls shows them to whoever may not see the secret.
WEBHOOK_URL_FIELDS = ("webhook_success_url", "webhook_error_url")


def _audited(values: dict) -> dict:
    return {name: webhook_urls.masked(value) if name in WEBHOOK_URL_FIELDS else value
            for name, value in values.items()}


def _edited_fields(model: type) -> list[str]:
    """The fields a person edits (what a deletion's audit row shows of the object)."""
    return [f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key]


def configuration_save(
    *, configuration: Configuration, data: dict, expected_version: int | None = None, acting_user=None
) -> Configuration:
    """Create or update a configuration with its extraction fields (replaced whole)."""
    if configuration.pk is None:  # a new configuration calls this back office, when it has a public address
        defaults = heify.default_webhook_urls()
        data = {**data, **{key: url for key, url in defaults.items() if not data.get(key)}}
    cleaned = rules.clean_configuration(data)
    fields = cleaned.pop("extraction_fields")
    for name, value in cleaned.items():
        setattr(configuration, name, value)

    def write_fields():
        configuration.extraction_fields.all().delete()
        return ExtractionField.objects.bulk_create(
            ExtractionField(configuration=configuration, position=i, **field) for i, field in enumerate(fields)
        )

    before, claim = _claim_and_write(
        configuration, expected_version, fields=list(cleaned), acting_user=acting_user,
        children=("configuration_id", ExtractionField), write_children=write_fields,
        child_values=ExtractionField.as_heify,
    )
    _send(configuration, before, claim)
    return configuration


def evaluator_save(
    *, evaluator: Evaluator, data: dict, expected_version: int | None = None, acting_user=None
) -> tuple[Evaluator, list[str]]:
    """Create or update an evaluator and its criteria; returns notices for the user
    (for example that a strict criterion's weight was set to 0)."""
    stored_tag = Evaluator.all_objects.filter(pk=evaluator.pk).values_list("tag", flat=True).first()
    cleaned, notices = rules.clean_evaluator(data, current_tag=stored_tag)
    criteria = cleaned.pop("criteria")
    for name, value in cleaned.items():
        setattr(evaluator, name, value)

    def write_criteria():
        evaluator.criteria.all().delete()
        written = Criterion.objects.bulk_create(
            Criterion(
                evaluator=evaluator, position=i, heify_id=c.get("id") or None, name=c["name"],
                description=c["description"], type=c["type"], weight=c["weight"],
            )
            for i, c in enumerate(criteria)
        )
        # In the same transaction: Heify's echo of this change then finds the revision already kept.
        recorded.extend(revisions.evaluator_revisions_record(evaluator_ids=[evaluator.pk],
                                                             source=revisions.Source.LOCAL, author=acting_user))
        return written

    recorded: list = []
    before, claim = _claim_and_write(
        evaluator, expected_version, fields=list(cleaned), acting_user=acting_user,
        children=("evaluator_id", Criterion), write_children=write_criteria,
        child_values=lambda criterion: revisions.criteria_snapshot([criterion])[0],
    )
    try:
        _send(evaluator, before, claim)
    except heify.Refused:
        # Put back as it was: the criteria Heify refused never were in force (unless an edit followed).
        revisions.evaluator_revisions_forget(recorded)
        raise
    return evaluator, notices


def participant_save(
    *, participant: Participant, data: dict, expected_version: int | None = None, acting_user=None
) -> Participant:
    """Create or update a participant. Metadata is replaced whole, as Heify does."""
    cleaned = rules.clean_participant(data)
    for name, value in cleaned.items():
        setattr(participant, name, value)
    before, claim = _claim_and_write(
        participant, expected_version, fields=list(cleaned), acting_user=acting_user,
        compare={"metadata": cleaned["metadata"]},
    )
    _send(participant, before, claim)
    return participant


def transcription_upload(*, file, configuration, evaluator=None, participant=None, name: str = "",
                         acting_user=None):
    """Upload a call to Heify; it is stored as Heify answers (PENDING) and followed from there. Its audit row
    is written once Heify has taken the file (the row it names exists only then)."""
    call = heify.upload_transcription(
        file=file, configuration=configuration, evaluator=evaluator, participant=participant,
        name=name or file.name,
    )
    audit.audit_record(actor=acting_user, action=audit.AuditEvent.Action.UPLOAD, obj=call, after={
        "name": call.name, "configuration": configuration.tag, "evaluator": evaluator.tag if evaluator else None,
        "participant": participant.tag if participant else None})
    return call

