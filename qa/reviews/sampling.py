"""Sampling rules: which calls go to the review queue each period, chosen by a rule a QA manager wrote.

A rule applies once per period (day, week from Monday, month; UTC) to the
last complete one: it looks at the scored calls of that period that match its
filters, and per participant takes up to its quota from those in no group
(calls already pending, under review or archived are never taken). A chosen
call moves to PENDING_REVIEW through qa.reviews.queues.transcription_move, in the name
of the rule's owner (history note "sampled by rule …"), and is sent to Heify
like every move; the move is refused if the call changed since it was read.
Each pick is recorded (qa.reviews.models.SamplingPick), so a second run in the same
period moves nothing more: the quota is already filled.

How to choose:
  random          seeded by rule, period and participant: the same run twice picks the same calls;
  lowest_score    lowest scores first;
  critical_first  critical fails first, then the lowest scores;
  near_pass_mark  the scores closest to the pass mark (ANALYTICS_PASS_MARK): the AI's least sure verdicts;
  precision       a random sample as large as needed for the participant's average to be known within
                  ±N points at 95% confidence, from the spread of their scores in the period (below).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import stdev

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from qa import jobs
from qa.mirror import report_rules
from qa.mirror.models import Transcription
from qa.mirror.rules import Group, Status
from qa.reviews import queues
from qa.reviews.agreement import Z_95
from qa.reviews.models import SamplingPick, SamplingRule

Method = SamplingRule.Method
Period = SamplingRule.Period
TARGET_GROUP = Group.PENDING_REVIEW


# --- the rule itself ------------------------------------------------------------------------------------


def period_bounds(period: str, moment: datetime) -> tuple[datetime, datetime]:
    """The period (UTC) that contains `moment`: [start, end)."""
    moment = moment.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if period == Period.DAY:
        return day, day + timedelta(days=1)
    if period == Period.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def last_complete_period(period: str, now: datetime) -> tuple[datetime, datetime]:
    current_start, _ = period_bounds(period, now)
    return period_bounds(period, current_start - timedelta(microseconds=1))


def sample_size(scores: list[float], margin: float, *, z: float = Z_95) -> int:
    """Calls needed for the average of `scores`' population to be known within ±margin at 95% confidence.

    n0 = (z·s / margin)², s the sample standard deviation of the scores; as the
    sample is drawn without replacement from these N calls, the finite
    population correction n = n0 / (1 + (n0 − 1) / N), rounded up, at least 1
    and at most N. With fewer than two scores there is no spread to go on: all of them.
    """
    population = len(scores)
    if population < 2:
        return population
    n0 = (z * stdev(scores) / margin) ** 2
    if n0 <= 1:
        return 1
    return min(population, max(1, math.ceil(n0 / (1 + (n0 - 1) / population) - 1e-9)))


# --- choosing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    pk: int
    heify_id: str
    participant_id: str | None
    score: float
    critical: bool
    occurred_at: datetime
    version: int
    in_no_group: bool


@dataclass
class RuleRun:
    rule: SamplingRule
    period_start: datetime
    period_end: datetime
    chosen: list[Candidate] = field(default_factory=list)
    moved: int = 0
    skipped: int = 0  # changed since they were read (claimed, moved...): left alone
    error: str = ""

    def __str__(self):
        what = f"rule #{self.rule.pk} {self.rule.name!r} ({self.period_label()}): "
        if self.error:
            return what + f"stopped: {self.error}"
        return what + f"{len(self.chosen)} chosen, {self.moved} moved, {self.skipped} changed meanwhile"

    def period_label(self) -> str:
        last = self.period_end - timedelta(days=1)
        return f"{self.rule.period} {self.period_start.date().isoformat()} to {last.date().isoformat()}"


def _order(method: str, calls: list[Candidate], *, seed: str, pass_mark: float) -> list[Candidate]:
    calls = sorted(calls, key=lambda c: c.pk)
    if method in (Method.RANDOM, Method.PRECISION):
        random.Random(seed).shuffle(calls)
        return calls
    if method == Method.LOWEST_SCORE:
        return sorted(calls, key=lambda c: (c.score, c.occurred_at, c.pk))
    if method == Method.CRITICAL_FIRST:
        return sorted(calls, key=lambda c: (not c.critical, c.score, c.occurred_at, c.pk))
    if method == Method.NEAR_PASS_MARK:
        return sorted(calls, key=lambda c: (abs(c.score - pass_mark), c.occurred_at, c.pk))
    raise ValueError(f"unknown sampling method {method!r}")


def _population(rule: SamplingRule, start: datetime, end: datetime) -> list[Candidate]:
    calls = Transcription.objects.filter(
        status=Status.COMPLETED, score__isnull=False, occurred_at__gte=start, occurred_at__lt=end,
    )
    if rule.evaluator_id:
        calls = calls.filter(evaluator_id=rule.evaluator.heify_id)
    if rule.participant_id:
        calls = calls.filter(participant_id=rule.participant.heify_id)
    if rule.score_min is not None:
        calls = calls.filter(score__gte=rule.score_min)
    if rule.score_max is not None:
        calls = calls.filter(score__lte=rule.score_max)
    if rule.critical_only:
        calls = calls.filter(critical_fail_triggered=True)
    return [
        Candidate(pk, heify_id, participant_id, score, critical, occurred_at, version, group is None)
        for pk, heify_id, participant_id, score, critical, occurred_at, version, group in calls.values_list(
            "pk", "heify_id", "participant_id", "score", "critical_fail_triggered", "occurred_at", "version", "group")
    ]


def rule_choice(rule: SamplingRule, *, now: datetime | None = None) -> RuleRun:
    """What the rule would move now, for its last complete period; moves nothing."""
    start, end = last_complete_period(rule.period, now or timezone.now())
    run = RuleRun(rule, start, end)
    by_participant: dict[str | None, list[Candidate]] = defaultdict(list)
    for call in _population(rule, start, end):
        by_participant[call.participant_id].append(call)
    picked = defaultdict(set)
    for participant_id, pk in SamplingPick.objects.filter(rule=rule, period_start=start).values_list(
            "participant_id", "transcription_id"):
        picked[participant_id].add(pk)
    pass_mark = report_rules.ReportSettings.current().pass_mark
    for participant_id in sorted(by_participant, key=lambda p: p or ""):
        calls = by_participant[participant_id]
        if rule.method == Method.PRECISION:
            wanted = sample_size([c.score for c in calls], rule.precision_points)
            if rule.per_participant:
                wanted = min(wanted, rule.per_participant)
        else:
            wanted = rule.per_participant or 0
        wanted -= len(picked[participant_id])
        if wanted <= 0:
            continue
        free = [c for c in calls if c.in_no_group and c.pk not in picked[participant_id]]
        seed = f"{rule.pk}:{start.isoformat()}:{participant_id}"
        run.chosen.extend(_order(rule.method, free, seed=seed, pass_mark=pass_mark)[:wanted])
    return run


# --- moving -----------------------------------------------------------------------------------------------


def _apply(run: RuleRun) -> None:
    rule = run.rule
    if rule.owner is None or not rule.owner.is_active:
        run.error = "the rule's owner is gone or inactive; give the rule an owner who may move calls."
        return
    note = f"sampled by rule “{rule.name}” (#{rule.pk}), {run.period_label()}"
    failure = None
    for call in run.chosen:
        try:
            with transaction.atomic():
                queues.transcription_move(transcription_id=call.pk, group=TARGET_GROUP, acting_user=rule.owner,
                                          note=note, expected_version=call.version)
                SamplingPick.objects.create(rule=rule, period_start=run.period_start, transcription_id=call.pk,
                                            participant_id=call.participant_id)
        except PermissionDenied as exc:
            run.error = f"{rule.owner.get_username()} may not move calls ({exc})."
            return
        except ValidationError:
            run.skipped += 1  # claimed, moved or changed since it was read: never taken back
            continue
        except Exception as exc:  # noqa: BLE001 (a bug, a value no one foresaw): this call only
            failure = failure or exc
            continue
        run.moved += 1
    if failure is not None:
        raise failure  # the rule is marked failed; its next run takes the calls not picked yet


def sampling_rules_apply(*, rule_id: int | None = None, now: datetime | None = None,
                         dry_run: bool = False) -> list[RuleRun]:
    """Apply every active rule (or the one given) to its last complete period; safe to run again.

    Rule by rule: one that raises is marked with its reason and backed off (qa.jobs; switched off at the
    limit), its run saying why, and the next rule goes on. A rule backed off waits its time unless named.
    """
    now = now or timezone.now()
    rules = SamplingRule.objects.select_related("evaluator", "participant", "owner")
    rules = rules.filter(pk=rule_id) if rule_id is not None else rules.filter(jobs.due(now), active=True)
    runs = []
    for rule in rules:
        start, end = last_complete_period(rule.period, now)
        run = RuleRun(rule, start, end)
        try:
            run = rule_choice(rule, now=now)
            if not rule.active:
                run.error = "the rule is not active."
            elif not dry_run:
                _apply(run)
        except Exception as exc:  # noqa: BLE001 (a rule stored beyond its bounds, a bug): this rule only
            run.error = jobs.reason_of(exc)
            if not dry_run:
                jobs.item_failed(SamplingRule.objects.filter(pk=rule.pk), exc, failures=rule.job_failures,
                                      error_field="job_error", give_up={"active": False}, now=now)
        else:
            if rule.job_failures and not dry_run:
                jobs.item_succeeded(SamplingRule.objects.filter(pk=rule.pk), error_field="job_error")
        runs.append(run)
    return runs
