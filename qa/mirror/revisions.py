"""Evaluator revisions: every change to an evaluator's criteria, kept as an immutable, numbered snapshot.

Two places write criteria, and each calls `evaluator_revisions_record` once
after writing them: qa.mirror.services.evaluator_save (source "local") and the one
upsert path, syncer.mirror (source "heify", a pull or Heify's answer to a
push). A revision is written only when the criteria differ from the latest
one, so Heify echoing back a change made here adds nothing.

A call's revision is the one in force when Heify completed it: the newest
revision whose `in_force_from` is not after the call's completion (its date
when Heify gave none). A pulled change is in force from Heify's updated_at, a
local one from the moment it was saved; a first revision (the migration's, or
an evaluator's first sight) has no start, so it covers every earlier call.
It is read, never copied onto the call: revisions and completion times never
change, so the answer cannot drift, and a late pull that reveals an older
change puts each call under the revision that really scored it. The one copy
is the pin on a call's typed results (qa.mirror.criterion_results: the
revision's number, and its type and weight for each result), which the upsert
takes from `scoring_revisions` and which is pinned again here whenever a
revision is recorded or forgotten, for the calls whose revision that changes.

What must not live here: the score rule (qa.mirror.rules) and HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Case, Exists, IntegerField, JSONField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from qa.mirror.criterion_results import CriterionResult, criterion_results_pin
from qa.mirror.models import Criterion, Evaluator, EvaluatorRevision, Transcription

Source = EvaluatorRevision.Source
CRITERION_KEYS = ("name", "description", "type", "weight")


def criteria_snapshot(criteria: Iterable) -> list[dict]:
    """Criteria (model rows or dicts) as a revision stores them: name, description, type, weight (a number)."""
    snapshot = []
    for criterion in criteria:
        get = criterion.get if isinstance(criterion, dict) else lambda key, c=criterion: getattr(c, key)
        snapshot.append({
            "name": get("name"), "description": get("description") or "", "type": get("type"),
            "weight": float(Decimal(str(get("weight") or 0)).quantize(Decimal("0.01"))),
        })
    return snapshot


def _same(a: list[dict], b: list[dict]) -> bool:
    return [tuple(c[k] for k in CRITERION_KEYS) for c in a] == [tuple(c[k] for k in CRITERION_KEYS) for c in b]


def latest_revisions(evaluator_ids: Iterable[int]) -> dict[int, EvaluatorRevision]:
    newest = EvaluatorRevision.objects.filter(evaluator=OuterRef("evaluator")).order_by("-number").values("number")[:1]
    return {
        revision.evaluator_id: revision
        for revision in EvaluatorRevision.objects.filter(evaluator_id__in=list(evaluator_ids), number=Subquery(newest))
    }


def evaluator_revisions_record(*, evaluator_ids: Iterable[int], source: str, author=None) -> list[EvaluatorRevision]:
    """Store a new revision for each evaluator whose criteria differ from its latest revision; `author` is the
    user who saved the criteria here (None for a pull).

    Called inside the transaction that wrote the criteria (Heify's echo then
    finds the revision kept); a save that Heify refuses removes what it
    recorded (`evaluator_revisions_forget`). Returns the revisions written.
    """
    ids = sorted(set(evaluator_ids))
    if not ids:
        return []
    now = timezone.now()
    current: dict[int, list[Criterion]] = {pk: [] for pk in ids}
    for criterion in Criterion.objects.filter(evaluator_id__in=ids).order_by("evaluator_id", "position", "id"):
        current[criterion.evaluator_id].append(criterion)
    evaluators = {pk: (updated, heify_id) for pk, updated, heify_id in Evaluator.all_objects.filter(
        pk__in=ids).values_list("pk", "remote_updated_at", "heify_id")}
    latest = latest_revisions(ids)
    new = []
    for pk in ids:
        snapshot = criteria_snapshot(current[pk])
        before = latest.get(pk)
        if before is not None and _same(before.criteria, snapshot):
            continue
        if before is None:
            in_force_from = None  # the first we know of: it scored every call before
        else:
            in_force_from = (evaluators[pk][0] if source == Source.HEIFY else None) or now
            if before.in_force_from and in_force_from < before.in_force_from:
                in_force_from = before.in_force_from  # numbers and start times go the same way
        new.append(EvaluatorRevision(
            evaluator_id=pk, number=before.number + 1 if before else 1, criteria=snapshot, at=now,
            in_force_from=in_force_from, source=source, author=author,
        ))
    EvaluatorRevision.objects.bulk_create(new)
    _pin_results({evaluators[r.evaluator_id][1]: r for r in new})
    return new


def evaluator_revisions_forget(recorded: Iterable[EvaluatorRevision]) -> None:
    """Remove revisions of a save that Heify refused, each only while it is still its evaluator's latest (a
    revision recorded since, by another edit or a pull, keeps the history whole)."""
    forgotten = set()
    for revision in recorded:
        deleted, _ = EvaluatorRevision.objects.filter(pk=revision.pk).exclude(
            Exists(EvaluatorRevision.objects.filter(evaluator_id=revision.evaluator_id,
                                                    number__gt=revision.number))).delete()
        if deleted:
            forgotten.add(revision.evaluator_id)
    if forgotten:
        latest = latest_revisions(forgotten)
        _pin_results({heify_id: latest.get(pk) for pk, heify_id in Evaluator.all_objects.filter(
            pk__in=forgotten).values_list("pk", "heify_id")})


def _pin_results(latest: dict[str | None, EvaluatorRevision | None]) -> None:
    """Pin again the results of the calls that an evaluator's latest revision (by Heify id; None: it has none
    left) now scores, after it was recorded or the one after it forgotten: two queries per evaluator.

    Only its latest can have changed hands (numbers and starts go the same way), and only for calls from its
    start on; which of those it scores is `revision_in_force`'s to say.
    """
    for heify_id, revision in latest.items():
        if heify_id is None:
            continue  # never in Heify: no call names it
        calls = Transcription.all_objects.filter(evaluator_id=heify_id, score__isnull=False)
        if revision is None:
            criterion_results_pin(calls=calls, revision=None, criteria=None)
            continue
        if revision.in_force_from is not None:
            calls = calls.annotate(moment=scored_at()).filter(moment__gte=revision.in_force_from)
        starts = list(EvaluatorRevision.objects.filter(evaluator_id=revision.evaluator_id).values_list(
            "number", "in_force_from"))
        calls = calls.annotate(scored_by=revision_case(starts)).filter(scored_by=revision.number)
        criterion_results_pin(calls=calls, revision=revision.number, criteria=revision.criteria)


# --- reads ------------------------------------------------------------------------------------------


def revision_in_force() -> Case:
    """An annotation for Transcription querysets: the number of the revision that scored the call, or None."""
    moment = Coalesce(OuterRef("completed_at"), OuterRef("occurred_at"))
    revisions = (
        EvaluatorRevision.objects.filter(evaluator__heify_id=OuterRef("evaluator_id"))
        .filter(Q(in_force_from__isnull=True) | Q(in_force_from__lte=moment))
        .order_by("-number").values("number")[:1]
    )
    return Case(When(score__isnull=False, then=Subquery(revisions)), default=None, output_field=IntegerField())


def scored_at() -> Coalesce:
    """The moment a call's revision is read at: its completion, else its date."""
    return Coalesce("completed_at", "occurred_at")


UNPINNED = {"revision": None, "criteria": None}  # a call no revision here scored


def scoring_revisions(call_ids: Iterable[int]) -> dict[int, dict]:
    """Call pk -> {"revision": number, "criteria": [...]} of the revision that scored it (`revision_in_force`),
    for pinning its results (qa.mirror.criterion_results.pinned_rows); the calls no revision here scored are left
    out. Two queries."""
    ids = list(call_ids)
    if not ids:
        return {}
    numbers = [(pk, evaluator_id, number) for pk, evaluator_id, number in with_evaluator_revision(
        Transcription.all_objects.filter(pk__in=ids)).values_list("pk", "evaluator_id", "evaluator_revision")
        if number is not None]
    if not numbers:
        return {}
    criteria = {(evaluator_id, number): snapshot for evaluator_id, number, snapshot in EvaluatorRevision.objects.filter(
        evaluator__heify_id__in={e for _, e, _ in numbers}, number__in={n for *_, n in numbers},
    ).values_list("evaluator__heify_id", "number", "criteria")}
    return {pk: {"revision": number, "criteria": criteria[(evaluator_id, number)]}
            for pk, evaluator_id, number in numbers if (evaluator_id, number) in criteria}


def revision_starts(evaluator: Evaluator) -> list[tuple[int, datetime | None]]:
    return list(evaluator.revisions.values_list("number", "in_force_from"))


def revision_case(starts: list[tuple[int, datetime | None]]) -> Case:
    """`revision_in_force` for the calls of ONE evaluator, given its (number, in_force_from) pairs: a CASE over
    its few revisions instead of a subquery per call, for many of its calls at once (pinning their results)."""
    moment = scored_at()
    dated = sorted(((n, start) for n, start in starts if start is not None), reverse=True)  # newest first wins
    undated = max((n for n, start in starts if start is None), default=None)
    in_force = Case(
        *(When(GreaterThanOrEqual(moment, Value(start)), then=Value(n)) for n, start in dated),
        default=Value(undated), output_field=IntegerField(),
    )
    return Case(When(score__isnull=True, then=Value(None)), default=in_force, output_field=IntegerField())


def in_force_spans(evaluator: Evaluator) -> QuerySet[EvaluatorRevision]:
    """`revision_in_force` as spans of time, for joining many calls of ONE evaluator at once where the query's
    cost must not grow with a subquery per call (qa.scorecards.whatif): each of its revisions with its
    `in_force_from` and `until`, the earliest start of a later revision (None: no later one has a start). A
    revision that a later one without a start overtakes scores no call and is left out. A call is scored by the
    one span that holds its moment (`SPAN_HOLDS`, the CASE of `revision_case` as a join condition)."""
    later = EvaluatorRevision.objects.filter(evaluator=OuterRef("evaluator"), number__gt=OuterRef("number"))
    return evaluator.revisions.exclude(Exists(later.filter(in_force_from__isnull=True))).annotate(
        until=Subquery(later.order_by("in_force_from").values("in_force_from")[:1]),
    ).order_by().values("number", "in_force_from", "until")


# Whether the span {span} (a row of in_force_spans) holds the moment {moment} (a call's completion, else its date:
# `scored_at`), in SQL: the newest revision in force then (revision_in_force) is the one whose start is not after
# the moment and before which no later one starts; a call with no moment is scored by the newest without a start.
SPAN_HOLDS = ("({span}.in_force_from IS NULL OR {span}.in_force_from <= {moment}) "
              "AND ({span}.until IS NULL OR {moment} IS NULL OR {moment} < {span}.until)")


def with_evaluator_revision(queryset: QuerySet[Transcription]) -> QuerySet[Transcription]:
    return queryset.annotate(evaluator_revision=revision_in_force())


def call_revision(call: Transcription) -> int | None:
    """The revision that scored `call` (the annotation's value when the queryset carried it)."""
    if hasattr(call, "evaluator_revision"):
        return call.evaluator_revision
    if call.pk is None or call.score is None:
        return None  # revision_in_force: no score, no revision
    return with_evaluator_revision(Transcription.all_objects.filter(pk=call.pk)).values_list(
        "evaluator_revision", flat=True).first()


def scored_results(call: Transcription) -> list[CriterionResult]:
    """The call's results, in Heify's order, each pinned with its criterion's type and weight as scored and given
    the `description` it had in that revision ("" when it is not in it), in one query."""
    results = list(call.criterion_results.annotate(scored_with=Subquery(
        EvaluatorRevision.objects.filter(evaluator__heify_id=call.evaluator_id, number=OuterRef("revision"))
        .values("criteria")[:1], output_field=JSONField())))
    for result in results:
        criterion = next((c for c in result.scored_with or () if c["name"] == result.name), None)
        result.description = (criterion.get("description") or "") if criterion else ""
    return results


def revision_diff(before: list[dict], after: list[dict]) -> list[dict]:
    """Criterion by criterion (matched by name, any case): added, removed, changed (which fields) or unchanged."""
    old = {c["name"].casefold(): c for c in before}
    new = {c["name"].casefold(): c for c in after}
    rows = []
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key), new.get(key)
        if a is None:
            rows.append({"name": b["name"], "change": "added", "before": None, "after": b, "fields": []})
        elif b is None:
            rows.append({"name": a["name"], "change": "removed", "before": a, "after": None, "fields": []})
        else:
            changed = [k for k in CRITERION_KEYS if a[k] != b[k]]
            rows.append({"name": b["name"], "change": "changed" if changed else "unchanged", "before": a,
                         "after": b, "fields": changed})
    return rows


def call_revision_label(call: Transcription) -> str:
    """What the review page says: which revision scored the call."""
    number = call_revision(call)
    if number is not None:
        return _("revision %(number)s") % {"number": number}
    return "" if call.score is None else _("unknown (no revision of its evaluator here)")
