"""Sampling rules: each method, the sample size for a precision, idempotence per period, the dry run, Heify."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from qa import limits
from qa.mirror.models import Participant, Transcription
from qa.reviews import queues, sampling
from qa.reviews.models import ReviewEvent, SamplingPick, SamplingRule
from tests import builders
from tests.builders import person

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, tzinfo=UTC)  # a Wednesday: the last complete week is March 9-15


def call(agent, score, day, *, critical=False, group=None, hour=10):
    body = builders.transcription_payload(participant=agent, group=group,
                                          created_at=f"2026-03-{day:02d}T{hour:02d}:00:00+00:00")
    body["details"]["evaluation"]["score"] = score
    body["details"]["evaluation"]["critical_fail_triggered"] = critical
    return body


@pytest.fixture
def week(load):
    """Ann: six calls in no group, one under review, one archived, one the next week; Bob: three calls."""
    ann, bob = builders.participant_payload(tag="Ann"), builders.participant_payload(tag="Bob")
    calls = [
        call(ann, 90, 9), call(ann, 45, 10), call(ann, 52, 11), call(ann, 30, 12), call(ann, 70, 13, critical=True),
        call(ann, 48, 14), call(ann, 10, 10, group="UNDER_REVIEW"), call(ann, 5, 11, group="ARCHIVED"),
        call(ann, 1, 16),
        call(bob, 60, 9), call(bob, 85, 10), call(bob, 20, 15, hour=23),
    ]
    load(participants=[ann, bob], transcriptions=calls)
    return person("max", "QA manager")


def rule(owner, **settings):
    values = {"name": "Weekly", "period": "week", "per_participant": 2, "method": "lowest_score", **settings}
    return SamplingRule.objects.create(owner=owner, **limits.clean_sampling_rule(values))


def scores_of(run):
    return sorted((Participant.objects.get(heify_id=c.participant_id).tag, c.score) for c in run.chosen)


def pending_scores():
    return sorted(Transcription.objects.filter(group="PENDING_REVIEW").values_list("score", flat=True))


def test_lowest_score_moves_through_the_queues_with_history(week):
    r = rule(week)
    [run] = sampling.sampling_rules_apply(now=NOW)
    assert (run.period_start, run.period_end) == (datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    assert scores_of(run) == [("Ann", 30), ("Ann", 45), ("Bob", 20), ("Bob", 60)]
    assert (run.moved, run.skipped, run.error) == (4, 0, "")
    assert pending_scores() == [20, 30, 45, 60]
    event = ReviewEvent.objects.filter(transcription__score=30).get()
    assert (event.actor, event.from_group, event.to_group) == (week, None, "PENDING_REVIEW")
    assert event.note.startswith(f"sampled by rule “Weekly” (#{r.pk}), week 2026-03-09 to 2026-03-15")
    # Under review and archived calls were never taken back, nor a call of the next week.
    assert dict(Transcription.objects.filter(score__in=[10, 5, 1]).values_list("score", "group")) == {
        10: "UNDER_REVIEW", 5: "ARCHIVED", 1: None}
    assert Transcription.objects.get(score=30).sync_state == "waiting"  # sent to Heify like every move


def test_critical_first(week):
    rule(week, method="critical_first", per_participant=1)
    [run] = sampling.sampling_rules_apply(now=NOW, dry_run=True)
    assert scores_of(run) == [("Ann", 70), ("Bob", 20)]


def test_near_pass_mark_takes_the_least_sure_verdicts(week, settings):
    settings.ANALYTICS_PASS_MARK = 50
    rule(week, method="near_pass_mark")
    [run] = sampling.sampling_rules_apply(now=NOW, dry_run=True)
    # Ann: 52 and 48 (2 points off), Bob: 60 (10) and 20 (30) before 85 (35).
    assert scores_of(run) == [("Ann", 48), ("Ann", 52), ("Bob", 20), ("Bob", 60)]


def test_random_is_seeded_per_period_and_reproducible(week):
    rule(week, method="random", per_participant=3)
    [first] = sampling.sampling_rules_apply(now=NOW, dry_run=True)
    [again] = sampling.sampling_rules_apply(now=NOW, dry_run=True)
    assert [c.pk for c in first.chosen] == [c.pk for c in again.chosen] and len(first.chosen) == 6
    [real] = sampling.sampling_rules_apply(now=NOW)
    assert [c.pk for c in real.chosen] == [c.pk for c in first.chosen] and real.moved == 6


def test_sample_size_by_hand():
    # 50..90: s = sqrt(250) = 15.81; margin 10: n0 = (1.96 * 15.81 / 10)^2 = 9.60;
    # from 5 calls: 9.60 / (1 + 8.60 / 5) = 3.53 -> 4.
    assert sampling.sample_size([50, 60, 70, 80, 90], 10) == 4
    # A million calls spread the same way: s = sqrt(200) = 14.14, n0 = (1.96 * 14.14 / 10)^2 = 7.68 -> 8
    # (the correction for a finite population no longer matters).
    assert sampling.sample_size([50, 60, 70, 80, 90] * 200_000, 10) == 8
    assert sampling.sample_size([70, 70, 70], 5) == 1  # no spread: one call tells the average
    assert sampling.sample_size([70], 5) == 1 and sampling.sample_size([], 5) == 0
    assert sampling.sample_size([0, 100], 1) == 2  # never more than there are


def test_precision_takes_as_many_calls_as_the_spread_needs(load, week):
    cleo = builders.participant_payload(tag="Cleo")
    load(participants=[cleo], transcriptions=[call(cleo, s, 9 + n) for n, s in enumerate([50, 60, 70, 80, 90])])
    rule(week, method="precision", per_participant=None, precision_points=10, participant=Participant.objects.get(
        tag="Cleo"))
    [run] = sampling.sampling_rules_apply(now=NOW, dry_run=True)
    assert len(run.chosen) == 4
    capped = rule(week, name="Capped", method="precision", per_participant=3, precision_points=10,
                  participant=Participant.objects.get(tag="Cleo"))
    [run] = sampling.sampling_rules_apply(rule_id=capped.pk, now=NOW, dry_run=True)
    assert len(run.chosen) == 3


def test_a_second_run_in_the_same_period_moves_nothing_more(load, week):
    rule(week)
    sampling.sampling_rules_apply(now=NOW)
    picks = list(SamplingPick.objects.values_list("transcription_id", flat=True))
    # A late call of the same week arrives, lower than anything: the quota is filled, so it stays.
    ann = {"participant_id": Participant.objects.get(tag="Ann").heify_id}
    load(transcriptions=[call(ann, 3, 15)])
    [second] = sampling.sampling_rules_apply(now=datetime(2026, 3, 22, 23, tzinfo=UTC))
    assert (second.chosen, second.moved) == ([], 0)
    assert list(SamplingPick.objects.values_list("transcription_id", flat=True)) == picks
    assert pending_scores() == [20, 30, 45, 60]
    # The next week is another period.
    [later] = sampling.sampling_rules_apply(now=datetime(2026, 3, 25, tzinfo=UTC))
    assert scores_of(later) == [("Ann", 1)]


def test_a_call_claimed_meanwhile_is_left_alone(week):
    r = rule(week, per_participant=1)
    run = sampling.rule_choice(r, now=NOW)
    chosen = Transcription.objects.get(pk=run.chosen[0].pk)
    queues.transcription_claim(transcription_id=chosen.pk, reviewer=person("ann", "Reviewer"))
    sampling._apply(run)
    assert (run.moved, run.skipped) == (1, 1)
    chosen.refresh_from_db()
    assert chosen.group == "UNDER_REVIEW"


def test_an_owner_who_may_not_move_calls_stops_the_rule(week):
    r = rule(week)
    week.groups.clear()
    r.owner = User.objects.get(pk=week.pk)
    r.save()
    [run] = sampling.sampling_rules_apply(now=NOW)
    assert "may not move calls" in run.error and run.moved == 0 and pending_scores() == []


def test_bad_rules_are_refused_by_field():
    with pytest.raises(ValidationError) as bad:
        limits.clean_sampling_rule({"method": "random", "per_participant": None, "score_min": 80, "score_max": 20})
    assert set(bad.value.message_dict) == {"per_participant", "score_max"}
    with pytest.raises(ValidationError) as bad:
        limits.clean_sampling_rule({"method": "precision", "precision_points": 0})
    assert set(bad.value.message_dict) == {"precision_points"}


def test_review_sample_command_dry_run_and_run(load, week):
    start, _ = sampling.last_complete_period("day", datetime.now(tz=UTC))
    agent = builders.participant_payload(tag="Dora")
    day = start.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    load(participants=[agent], transcriptions=[
        {**call(agent, s, 9), "created_at": day.replace("T00:", f"T0{n}:")} for n, s in enumerate([40, 80, 60])])
    r = rule(week, period="day", per_participant=1)
    out = StringIO()
    call_command("review_sample", "--rule", str(r.pk), "--dry-run", stdout=out)
    assert "would move 1 call(s)" in out.getvalue() and "score 40" in out.getvalue()
    assert pending_scores() == [] and not SamplingPick.objects.exists()
    out = StringIO()
    call_command("review_sample", stdout=out)
    assert "moved 1" in out.getvalue() and pending_scores() == [40]
    with pytest.raises(Exception, match="no sampling rule 999"):
        call_command("review_sample", "--rule", "999")


def test_the_job_is_scheduled_by_name_and_runs():
    from django_q.models import Schedule

    from qa.reviews import tasks

    tasks.schedules_ensure()
    tasks.schedules_ensure()
    schedule = Schedule.objects.get(name="review sampling rules")
    assert schedule.func == "qa.reviews.tasks.apply_sampling_rules" and schedule.minutes == 60
    assert tasks.apply_sampling_rules() == "no active rule"


@pytest.mark.django_db(transaction=True)
def test_sampled_calls_reach_heify(heify):
    ann = builders.participant_payload(tag="Ann")
    calls = [call(ann, 30, 10), call(ann, 80, 11)]
    snapshot = builders.snapshot(participants=[ann], transcriptions=calls)
    heify.state.load(snapshot)
    from syncer import mirror

    mirror.load_snapshot(snapshot)
    rule(person("max", "QA manager"), per_participant=1)
    [run] = sampling.sampling_rules_apply(now=NOW)
    assert run.moved == 1
    remote = {t["transcription_id"]: t["group"] for t in heify.state.objects("transcriptions")}
    assert remote == {calls[0]["transcription_id"]: "PENDING_REVIEW", calls[1]["transcription_id"]: None}
    assert Transcription.objects.get(score=30).sync_state == "synced"


def test_managers_write_rules_in_the_admin_and_own_them(client, week):
    client.force_login(week)
    response = client.post(reverse("admin:qa_samplingrule_add"), {
        "name": "Near the mark", "active": "on", "period": "week", "method": "near_pass_mark",
        "per_participant": "2",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SamplingRule.objects.get().owner == week
    bad = client.post(reverse("admin:qa_samplingrule_add"), {"name": "x", "period": "week", "method": "precision"})
    assert "needs the margin" in bad.content.decode()
    client.force_login(person("rita", "Reviewer"))
    assert client.get(reverse("admin:qa_samplingrule_changelist")).status_code == 403
