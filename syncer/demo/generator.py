"""The demo's generator: draws the account's payloads (ids, dates) from the catalogue and plans the calls
(when, who, which status), then writes each transcription (conversation, summary, fields, evaluation).

The emulator completes an uploaded call with the same pieces (`_Generator.details`), so its calls read like the
demo's. The entry point is `syncer.demo.generate()`.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from qa.mirror import rules
from syncer.demo.account import (
    CONFIGURATIONS,
    EVALUATORS,
    PARTICIPANTS,
    SPAN_DAYS,
    UNKNOWN_AGENT,
    UNKNOWN_QUALITY,
    ConfigSpec,
    EvaluatorSpec,
    ParticipantSpec,
)
from syncer.demo.texts import (
    COMPETITORS,
    CUSTOMERS,
    ERROR_WEIGHTS,
    ERRORS,
    FILE_EXTENSIONS,
    ISSUES,
    MESES,
    NAME_PREFIX,
    NEXT_ACTIONS,
    PRODUCTS,
    SUPERVISORS,
    TEMPLATES,
    WEEKDAYS,
)

OPEN_WINDOW = timedelta(hours=48)  # PENDING / IN_PROGRESS calls are this recent
SETTLED = timedelta(hours=1)  # finished calls are at least this old (so completed_at <= now)
OPEN_SHARE = 0.03  # PENDING + IN_PROGRESS
FAILED_SHARE = 0.10
NO_PARTICIPANT_SHARE = 0.03
# The degrading agent: her newest DEGRADED_CALLS calls are at her low; over the
# DEGRADING_CALLS before them she slides down from her usual level. At the
# default volume that is the last two to three weeks.
DEGRADED_CALLS = 12
DEGRADING_CALLS = 20

Rng = random.Random


# --- helpers --------------------------------------------------------------------------------


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _as_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _daypart(moment: datetime) -> str:
    return "morning" if moment.hour < 12 else "afternoon" if moment.hour < 18 else "evening"


@dataclass
class _Call:
    """What is decided about one call before its payload is written."""

    at: datetime
    config: ConfigSpec
    participant: int | None  # index into PARTICIPANTS
    status: str = "COMPLETED"
    rank: int = 0  # among the participant's calls, newest = 0


# --- the generator ----------------------------------------------------------------------------


class _Generator:
    def __init__(self, rng: Rng, now: datetime):
        self.rng = rng
        self.now = now
        self.start = now - timedelta(days=SPAN_DAYS)
        self.month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    # ids and dates

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def office_time(self, day: date) -> datetime:
        seconds = self.rng.randrange(7 * 3600, 19 * 3600)
        return (datetime.combine(day, time(), tzinfo=UTC)
                + timedelta(seconds=seconds, microseconds=self.rng.randrange(1_000_000)))

    def days_ago(self, days: float) -> datetime:
        """An office-hours moment `days` days before now (never after now)."""
        moment = self.office_time((self.now - timedelta(days=days)).date())
        return min(moment, self.now - timedelta(seconds=self.rng.randrange(60, 3600)))

    # the four resources

    def run(self, count: int) -> dict:
        self.client_id = self.uid()
        configurations = [self.configuration(spec) for spec in CONFIGURATIONS]
        evaluators = [self.evaluator(spec) for spec in EVALUATORS]
        participants = [self.participant(spec) for spec in PARTICIPANTS]
        self.config_ids = {
            spec.key: c["configuration_id"] for spec, c in zip(CONFIGURATIONS, configurations, strict=True)
        }
        self.evaluators = evaluators
        self.evaluator_since = [datetime.fromisoformat(e["created_at"]) for e in evaluators]
        self.participants = participants
        self.participant_since = [datetime.fromisoformat(p["created_at"]) for p in participants]
        calls = self.plan_calls(count)
        transcriptions = [self.transcription(call) for call in calls]
        return {
            "configurations": configurations,
            "evaluators": evaluators,
            "participants": participants,
            "transcriptions": transcriptions,
        }

    def configuration(self, spec: ConfigSpec) -> dict:
        return {
            "configuration_id": self.uid(),
            "client_id": self.client_id,
            "tag": spec.tag,
            "vocabulary": list(spec.vocabulary),
            "extraction_fields": [
                {"name": f.name, "type": f.type, "description": f.description} for f in spec.fields
            ],
            "summary": spec.summary,
            "summary_language": spec.summary_language,
            "analytics_language": spec.analytics_language,
            "webhooks": dict(spec.webhooks),
            "created_at": _ts(self.days_ago(SPAN_DAYS + spec.days_before_start)),
        }

    def evaluator(self, spec: EvaluatorSpec) -> dict:
        evaluator_id = self.uid()
        criteria = [
            {"id": self.uid(), "name": name, "description": description, "type": kind, "weight": weight}
            for name, kind, weight, description, _ease, _role in spec.criteria
        ]
        created = self.days_ago(spec.created_days_ago)
        updated = created if spec.updated_days_ago >= spec.created_days_ago else max(
            created, self.days_ago(spec.updated_days_ago)
        )
        return {
            "evaluator_id": evaluator_id,
            "client_id": self.client_id,
            "tag": spec.tag,
            "description": spec.description,
            "language": spec.language,
            "context": copy.deepcopy(spec.context),
            "criteria": criteria,
            "created_at": _ts(created),
            "updated_at": _ts(updated),
        }

    def participant(self, spec: ParticipantSpec) -> dict:
        participant_id = self.uid()
        if spec.hired_days_ago is not None:
            created = self.days_ago(spec.hired_days_ago)  # a new hire, created on the first day
            metadata = {**copy.deepcopy(spec.metadata), "hire_date": created.date().isoformat()}
        else:
            created = self.days_ago(SPAN_DAYS + 3)
            metadata = copy.deepcopy(spec.metadata)  # callers may edit the output
        updated = created if spec.updated_days_ago is None else max(
            created, self.days_ago(spec.updated_days_ago)
        )
        return {
            "participant_id": participant_id,
            "client_id": self.client_id,
            "tag": spec.tag,
            "metadata": metadata,
            "created_at": _ts(created),
            "updated_at": _ts(updated),
        }

    # planning the calls: when, who, which status

    def call_time(self) -> datetime:
        """A weekday-heavy, office-hours moment in the span; volume grows slowly over time."""
        rng, latest = self.rng, self.now - SETTLED
        while True:
            days = rng.randrange(SPAN_DAYS + 1)
            day = (self.now - timedelta(days=days)).date()
            if day.weekday() >= 5 and rng.random() < 0.8:
                continue
            if rng.random() > 1 - 0.35 * days / SPAN_DAYS:
                continue
            moment = self.office_time(day)
            if self.start <= moment <= latest:
                return moment

    def open_time(self, newest: bool) -> datetime:
        """A PENDING / IN_PROGRESS call: recent. The newest is always in the current month."""
        window = OPEN_WINDOW
        if newest:
            window = min(window, self.now - self.month_start)
        return self.now - timedelta(seconds=self.rng.random() * window.total_seconds())

    def pick_participant(self, at: datetime) -> int | None:
        rng = self.rng
        if rng.random() < NO_PARTICIPANT_SHARE:
            return None
        weights = [spec.volume for spec in PARTICIPANTS]
        while True:
            index = rng.choices(range(len(PARTICIPANTS)), weights)[0]
            if self.participant_since[index] <= at:
                return index

    def pick_config(self, participant: int | None) -> ConfigSpec:
        if participant is not None:
            domain = PARTICIPANTS[participant].domain
            return next(spec for spec in CONFIGURATIONS if spec.key == domain)
        return self.rng.choices(CONFIGURATIONS, (0.5, 0.33, 0.17))[0]

    def plan_calls(self, count: int) -> list[_Call]:
        rng = self.rng
        n_open = min(count, max(2, round(count * OPEN_SHARE)))
        n_failed = min(count - n_open, max(1, round(count * FAILED_SHARE)))
        times = [self.open_time(newest=i == 0) for i in range(n_open)]
        times += [self.call_time() for _ in range(count - n_open)]
        calls = []
        for at in times:
            participant = self.pick_participant(at)
            calls.append(_Call(at=at, config=self.pick_config(participant), participant=participant))
        # The open calls: the newest of them queued (PENDING), the older ones IN_PROGRESS.
        open_calls = sorted(calls[:n_open], key=lambda c: c.at, reverse=True)
        for rank, call in enumerate(open_calls):
            call.status = "PENDING" if rank < max(1, n_open // 2) else "IN_PROGRESS"
        for index in rng.sample(range(n_open, count), n_failed):
            calls[index].status = "FAILED"
        calls.sort(key=lambda c: c.at, reverse=True)  # newest first, as Heify lists them
        seen: dict[int | None, int] = {}
        for call in calls:
            call.rank = seen.get(call.participant, 0)
            seen[call.participant] = call.rank + 1
        return calls

    # one transcription

    def quality(self, call: _Call) -> float:
        if call.participant is None:
            base = UNKNOWN_QUALITY
        else:
            spec = PARTICIPANTS[call.participant]
            base = spec.quality
            if spec.degrading_to is not None and call.rank < DEGRADED_CALLS + DEGRADING_CALLS:
                # a clear drop: she is still well above her low when the slide starts
                slide = max(0, call.rank - DEGRADED_CALLS) / DEGRADING_CALLS
                low = spec.degrading_to
                base = low if call.rank < DEGRADED_CALLS else low + 0.25 + (spec.quality - low - 0.25) * slide
        return _clamp(base + self.rng.gauss(0, 0.05), 0.02, 0.99)

    def pick_evaluator(self, call: _Call) -> int | None:
        roll, seen = self.rng.random(), 0.0
        candidates = [i for i, spec in enumerate(EVALUATORS) if spec.domain == call.config.key]
        for index in candidates:
            seen += EVALUATORS[index].share
            if roll < seen:
                if self.evaluator_since[index] <= call.at:
                    return index
                return candidates[0]  # a newer evaluator did not exist yet: the domain's default
        return None  # a call scored by no evaluator

    def verdicts(self, spec: EvaluatorSpec, quality: float) -> tuple[dict, dict]:
        """A verdict per criterion (bool, or 1-5 for scale), and the verdicts by role."""
        rng = self.rng
        verdicts, roles = {}, {}
        for name, kind, _weight, _description, ease, role in spec.criteria:
            if kind == "SCALE":
                mean = 1 + 4 * _clamp(quality + ease, 0, 1)
                value = int(_clamp(round(mean + rng.gauss(0, 0.6)), 1, 5))
            elif kind == "BOOLEAN":
                value = rng.random() < _clamp(1.3 * quality - 0.2 + ease, 0.02, 0.99)
            else:  # STRICT: a critical failure is rare, and rarer for good agents
                value = rng.random() >= _clamp(0.003 + 0.09 * (1 - quality) ** 2 - ease, 0.001, 0.5)
            verdicts[name] = value
            if role:
                roles[role] = value if kind != "SCALE" else value >= rules.SCALE_PASS_MARK
        return verdicts, roles

    def duration(self, config: ConfigSpec, quality: float) -> float:
        seconds = config.duration_median * self.rng.lognormvariate(0, 0.45) * (1.15 - 0.3 * quality)
        return round(_clamp(seconds, 60.0, 1200.0), 1)

    def group(self, call: _Call, evaluation: dict | None) -> str | None:
        rng = self.rng
        age = self.now - call.at
        if call.status != "COMPLETED":
            if call.status == "FAILED" and rng.random() < 0.12:
                return "PENDING_REVIEW"
            return None
        if evaluation and evaluation["critical_fail_triggered"]:
            weights = (0.25, 0.1, 0.55, 0.1) if age > timedelta(days=30) else (0.66, 0.2, 0.06, 0.08)
        elif evaluation and evaluation["score"] < 50:
            weights = (0.22, 0.1, 0.28, 0.4)
        else:
            weights = (0.04, 0.04, 0.34, 0.58) if age > timedelta(days=14) else (0.05, 0.06, 0.08, 0.81)
        return rng.choices(("PENDING_REVIEW", "UNDER_REVIEW", "ARCHIVED", None), weights)[0]

    def context(self, call: _Call, agent: str) -> dict:
        rng, language = self.rng, call.config.language
        customer = rng.choice(CUSTOMERS[language])
        first, last = customer.split(" ", 1)
        promise = (call.at + timedelta(days=rng.randrange(3, 15))).date()
        return {
            "agent": agent,
            "customer": customer,
            "customer_first": first,
            "customer_email": f"{first[0].lower()}.{last.lower()}@{rng.choice(('gmail.com', 'acme.io'))}",
            "daypart": _daypart(call.at),
            "supervisor": SUPERVISORS[call.config.key],
            "product": rng.choice(PRODUCTS),
            "ticket": f"TCK-{rng.randrange(100000, 1000000)}",
            "card": f"{rng.randrange(10000):04d}",
            "amount": rng.randrange(20, 400) if language == "en" else round(rng.uniform(180, 4200), 2),
            "category": rng.choices(tuple(ISSUES), (3, 4, 2, 1, 1))[0],
            "team_size": rng.choice((8, 12, 25, 40, 60, 120, 250)),
            "competitor": rng.choice(COMPETITORS),
            "price": rng.choice((9, 12, 15)),
            "next_day": WEEKDAYS[(call.at.weekday() + 2) % 7],
            "next_action": rng.choice(NEXT_ACTIONS),
            "month": MESES[(call.at.month - 1 - rng.randrange(1, 6)) % 12],
            "installments": rng.choice((3, 6, 10, 12)),
            "promise_date": f"{promise.day} de {MESES[promise.month - 1]}",
            "promise_iso": promise.isoformat(),
            "dni": f"{rng.randrange(1000):03d}",
            "monthly": rng.choice((50, 75, 100, 150, 200)),
        }

    @staticmethod
    def topical(pool: tuple[str, ...] | dict[str, tuple[str, ...]], ctx: dict) -> tuple[str, ...]:
        return pool[ctx["category"]] if isinstance(pool, dict) else pool

    def some_lines(self, pool: tuple[str, ...], count: int) -> list[str]:
        """`count` different lines of a pool, kept in the pool's (narrative) order."""
        return [pool[i] for i in sorted(self.rng.sample(range(len(pool)), min(count, len(pool))))]

    def conversation(self, call: _Call, ctx: dict, turns: int, roles: dict) -> list[dict]:
        rng, lines = self.rng, TEMPLATES[call.config.key]
        good, rude = ctx["good"], roles.get("conduct") is False
        supervisor = rng.random() < 0.05
        customer_open = self.topical(lines["customer_open"], ctx)
        segments = [
            ("SPEAKER_00", rng.choice(lines["open_good"] if roles.get("greeting", good) else lines["open_poor"])),
            ("SPEAKER_01", rng.choice(customer_open)),
        ]
        middle = max(2, turns - 4 - (1 if supervisor else 0)) // 2 * 2  # even: the customer answers last
        agent_lines = self.some_lines(self.topical(lines["agent_mid"], ctx), middle // 2)
        customer_lines = self.some_lines(self.topical(lines["customer_mid"], ctx), middle // 2)
        if rude:
            agent_lines[rng.randrange(len(agent_lines))] = rng.choice(lines["rude"])
        for turn in range(middle):
            pool = agent_lines if turn % 2 == 0 else customer_lines
            segments.append(("SPEAKER_00" if turn % 2 == 0 else "SPEAKER_01", pool[(turn // 2) % len(pool)]))
        if supervisor:
            segments.append(("SPEAKER_02", rng.choice(lines["supervisor"])))
        segments.append(("SPEAKER_00", rng.choice(lines["close_good"] if good else lines["close_poor"])))
        segments.append(
            ("SPEAKER_01", rng.choice(lines["customer_close_good"] if good else lines["customer_close_poor"]))
        )
        return [{"text": text.format(**ctx), "speaker": speaker} for speaker, text in segments]

    def field_values(self, call: _Call, ctx: dict) -> list[dict]:
        rng, good = self.rng, ctx["good"]
        if rng.random() < 0.7:
            sentiment = "POSITIVE" if good else "NEGATIVE"
        else:
            sentiment = "NEUTRAL"
        makers: dict[str, Callable[[], Any]] = {
            "sentiment": lambda: sentiment,
            "issue_category": lambda: ctx["category"],
            "ticket_id": lambda: ctx["ticket"] if not good or rng.random() < 0.4 else None,
            "issue_resolved": lambda: good,
            "products_mentioned": lambda: sorted({ctx["product"], *rng.sample(PRODUCTS, rng.randrange(0, 3))}),
            "deal_value": lambda: ctx["team_size"] * ctx["price"] * 12 if good or rng.random() < 0.3 else None,
            "next_action": lambda: ctx["next_action"] if good else "No follow-up agreed",
            "competitor_mentioned": lambda: rng.random() < 0.55,
            "payment_plan": lambda: good,
            "agreed_amount": lambda: float(ctx["monthly"] * ctx["installments"]) if good else None,
            "promise_date": lambda: ctx["promise_iso"] if good else None,
        }
        return [{"name": spec.name, "value": makers[spec.name]()} for spec in call.config.fields]

    def details(
        self, call: _Call, agent: str, *, quality: float, duration: float, roles: dict, evaluation: dict | None,
        times: Callable[[], tuple[datetime, datetime]], summary: bool,
        fields: Callable[[dict, list[dict]], list[dict]] | None,
    ) -> dict:
        """The `details` of a completed call: conversation, summary, extracted fields, evaluation.

        Shared with the emulator, which completes uploaded calls the same way. `times` gives (started,
        completed) and `fields` the extracted values (from the context and the segments), both at their place
        in the sequence of random draws, so that a seed gives the same account.
        """
        rng = self.rng
        ctx = self.context(call, agent)
        ctx["good"] = roles.get("resolution", rng.random() < 0.2 + 0.75 * quality)
        ctx["issue"] = ISSUES[ctx["category"]]
        turns = int(_clamp(round(6 + duration / 90 + rng.gauss(0, 2)), 6, 20))
        started, completed = times()
        segments = self.conversation(call, ctx, turns, roles)
        details: dict[str, Any] = {
            "language": call.config.language,
            "num_speakers": len({s["speaker"] for s in segments}),
            "created_at": _ts(started),
            "completed_at": _ts(completed),
            "conversation": {"segments": segments},
        }
        if summary:
            template = rng.choice(TEMPLATES[call.config.key]["summary_good" if ctx["good"] else "summary_poor"])
            details["summary"] = {"summary": template.format(**ctx)}
        if fields is not None:
            details["fields"] = {"fields": fields(ctx, segments)}
        if evaluation is not None:
            details["evaluation"] = evaluation
        return details

    def transcription(self, call: _Call) -> dict:
        rng, config = self.rng, call.config
        quality = self.quality(call)
        evaluator_index = self.pick_evaluator(call)
        duration = self.duration(config, quality)
        agent = (PARTICIPANTS[call.participant].tag.split(" ")[0] if call.participant is not None
                 else UNKNOWN_AGENT[config.language])
        extension = rng.choice(FILE_EXTENSIONS)
        name = None if rng.random() < 0.06 else (
            f"{NAME_PREFIX[config.key]}_{call.at:%Y%m%d_%H%M%S}_{agent.lower()}.{extension}"
        )
        payload = {
            "transcription_id": self.uid(),
            "client_id": self.client_id,
            "status": call.status,
            "configuration_id": self.config_ids[config.key],
            "configuration_tag": config.tag,
            "evaluator_id": None if evaluator_index is None else self.evaluators[evaluator_index]["evaluator_id"],
            "participant_id": None if call.participant is None
            else self.participants[call.participant]["participant_id"],
            "name": name,
            "group": None,
            "duration": duration,
            "created_at": _ts(call.at),
        }
        evaluation = None
        if call.status == "COMPLETED":
            roles: dict = {}
            if evaluator_index is not None:
                verdicts, roles = self.verdicts(EVALUATORS[evaluator_index], quality)
                evaluation = rules.evaluation_score(self.evaluators[evaluator_index]["criteria"], verdicts)

            def times() -> tuple[datetime, datetime]:
                started = call.at + timedelta(seconds=rng.uniform(2, 90))
                return started, started + timedelta(seconds=duration * rng.uniform(0.12, 0.3) + rng.uniform(8, 60))

            payload["details"] = self.details(
                call, agent, quality=quality, duration=duration, roles=roles, evaluation=evaluation, times=times,
                summary=config.summary,
                fields=(lambda ctx, segments: self.field_values(call, ctx)) if config.fields else None,
            )
        elif call.status == "FAILED":
            code, message = rng.choices(ERRORS, ERROR_WEIGHTS)[0]
            payload["error"] = {"code": code, "message": message}
        payload["group"] = self.group(call, evaluation)
        return payload
