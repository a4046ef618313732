"""Synthetic results: the `details` an uploaded call gets when it completes (conversation, summary, fields,
evaluation), built from the demo generator's pieces so the emulator's calls read like the demo's; the score only
from `qa.mirror.rules.evaluation_score`.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime

from qa.mirror import rules
from syncer.demo import account as demo_account
from syncer.demo import generator as demo_generator

_DEMO_FIELD_NAMES = {spec.name for config in demo_account.CONFIGURATIONS for spec in config.fields}


def _demo_spec(configuration: dict) -> demo_account.ConfigSpec:
    """The demo domain whose conversations fit a configuration: by tag, else by language."""
    for spec in demo_account.CONFIGURATIONS:
        if spec.tag == configuration.get("tag"):
            return spec
    languages = {configuration.get("summary_language"), configuration.get("analytics_language")}
    wanted = "es" if "es" in languages else "en"
    return next(spec for spec in demo_account.CONFIGURATIONS if spec.language == wanted)


def _verdicts(rng: random.Random, generator, evaluator: dict, quality: float) -> tuple[dict, dict]:
    """A verdict per criterion; the demo's own evaluators get the demo's (role-aware) verdicts."""
    names = [criterion["name"] for criterion in evaluator["criteria"]]
    for spec in demo_account.EVALUATORS:
        if spec.tag == evaluator.get("tag") and [c[0] for c in spec.criteria] == names:
            return generator.verdicts(spec, quality)
    verdicts = {}
    for criterion in evaluator["criteria"]:
        kind = rules.clean_criterion_type(criterion["type"])
        if kind == rules.SCALE:
            verdicts[criterion["name"]] = int(min(5, max(1, round(1 + 4 * quality + rng.gauss(0, 0.7)))))
        elif kind == rules.BOOLEAN:
            verdicts[criterion["name"]] = rng.random() < quality
        else:
            verdicts[criterion["name"]] = rng.random() >= 0.03
    return verdicts, {}


def _field_values(rng, generator, call, ctx: dict, fields: list[dict], segments: list[dict], vocabulary) -> list:
    known = [
        demo_account.FieldSpec(f["name"], f["type"], f["description"]) for f in fields if f["name"] in _DEMO_FIELD_NAMES
    ]
    values = {}
    if known:
        demo_call = dataclasses.replace(call, config=dataclasses.replace(call.config, fields=tuple(known)))
        values = {item["name"]: item["value"] for item in generator.field_values(demo_call, ctx)}
    words = list(vocabulary or []) or [segment["text"] for segment in segments]
    result = []
    for field in fields:
        if field["name"] in values:
            value = values[field["name"]]
        elif field["type"] == "number":
            value = round(rng.uniform(0, 1000), 2)
        elif field["type"] == "boolean":
            value = rng.random() < 0.5
        elif field["type"] == "array":
            value = sorted(rng.sample(words, min(len(words), rng.randrange(1, 4))))
        else:
            value = rng.choice(words)
        result.append({"name": field["name"], "value": value})
    return result


def synthesize_details(
    rng: random.Random, *, configuration: dict, evaluator: dict | None, participant: dict | None,
    duration: float, started_at: datetime, completed_at: datetime,
) -> dict:
    """The `details` of a completed call: conversation, summary, fields and evaluation.

    Built by the demo generator (`_Generator.details`), as the demo's calls are;
    the score only from `qa.mirror.rules.evaluation_score`.
    """
    spec = _demo_spec(configuration)
    generator = demo_generator._Generator(rng, completed_at)
    call = demo_generator._Call(at=started_at, config=spec, participant=None)
    quality = rng.uniform(0.25, 0.97)
    roles, evaluation = {}, None
    if evaluator and evaluator.get("criteria"):
        verdicts, roles = _verdicts(rng, generator, evaluator, quality)
        evaluation = rules.evaluation_score(evaluator["criteria"], verdicts)
    agent = str((participant or {}).get("tag") or "").split(" ")[0] or demo_account.UNKNOWN_AGENT[spec.language]
    fields = configuration.get("extraction_fields") or []
    return generator.details(
        call, agent, quality=quality, duration=duration, roles=roles, evaluation=evaluation,
        times=lambda: (started_at, completed_at), summary=bool(configuration.get("summary")),
        fields=(
            lambda ctx, segments: _field_values(
                rng, generator, call, ctx, fields, segments, configuration.get("vocabulary"),
            )
        ) if fields else None,
    )
