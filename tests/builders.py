"""Heify-shaped payloads for tests, in one place.

Tests set up data through the real paths: these dicts go through
syncer.mirror (the one upsert path) or qa.mirror.services, never straight into models.
"""

from __future__ import annotations

import itertools
import uuid

_counter = itertools.count(1)
TEST_PASSWORD = "pw-for-tests-1"


def person(name: str, role: str | None = None, *, email: str = ""):
    """A staff user in `role` (one of qa.roles' groups), read back fresh (no permission cache); needs the db."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(name, email=email, password=TEST_PASSWORD, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return get_user_model().objects.get(pk=user.pk)


def new_id() -> str:
    return str(uuid.uuid4())


def configuration_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "configuration_id": new_id(),
        "client_id": "client-test",
        "tag": f"Sales calls {n}",
        "vocabulary": ["CRM", "upsell"],
        "extraction_fields": [
            {"name": "sentiment", "type": "string", "description": "POSITIVE, NEGATIVE or NEUTRAL."},
        ],
        "summary": True,
        "summary_language": "en",
        "analytics_language": "en",
        "webhooks": {"success_url": "https://example.com/ok", "error_url": "https://example.com/ko"},
        "created_at": "2026-01-15T10:00:00.000000+00:00",
    }
    payload.update(overrides)
    return payload


def evaluator_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "evaluator_id": new_id(),
        "client_id": "client-test",
        "tag": f"Customer service {n}",
        "description": "Support calls.",
        "language": "en",
        "context": "Inbound support for a SaaS product.",
        "criteria": [
            {"id": new_id(), "name": "Greeting", "description": "Standard opening?", "type": "BOOLEAN",
             "weight": 20},
            {"id": new_id(), "name": "No offensive language", "description": "Rude words?",
             "type": "STRICT", "weight": 0},
            {"id": new_id(), "name": "Issue resolved", "description": "Resolved?", "type": "BOOLEAN",
             "weight": 80},
        ],
        "created_at": "2026-01-15T10:00:00.000000",
        "updated_at": "2026-01-15T10:00:00.000000",
    }
    payload.update(overrides)
    return payload


def participant_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "participant_id": new_id(),
        "client_id": "client-test",
        "tag": f"Agent {n}",
        "metadata": {"email": f"agent{n}@example.com", "team": "Support"},
        "created_at": "2026-01-15T10:00:00.000000",
        "updated_at": "2026-01-15T10:00:00.000000",
    }
    payload.update(overrides)
    return payload


def transcription_payload(*, configuration=None, evaluator=None, participant=None, **overrides) -> dict:
    """A COMPLETED call; pass the parent payloads to link it to them."""
    payload = {
        "transcription_id": new_id(),
        "client_id": "client-test",
        "status": "COMPLETED",
        "configuration_id": (configuration or {}).get("configuration_id", new_id()),
        "configuration_tag": (configuration or {}).get("tag", "Sales calls"),
        "evaluator_id": (evaluator or {}).get("evaluator_id"),
        "participant_id": (participant or {}).get("participant_id"),
        "name": "call.mp3",
        "group": None,
        "duration": 185.4,
        "created_at": "2026-03-07T10:00:00.000000+00:00",
        "details": {
            "language": "en",
            "num_speakers": 2,
            "created_at": "2026-03-07T10:00:00.123Z",
            "completed_at": "2026-03-07T10:03:45.789Z",
            "conversation": {"segments": [
                {"text": "Good morning, this is Sarah from support.", "speaker": "SPEAKER_00"},
                {"text": "Hi, I have an issue with my subscription.", "speaker": "SPEAKER_01"},
            ]},
            "summary": {"summary": "A billing issue, resolved."},
            "fields": {"fields": [{"name": "sentiment", "value": "POSITIVE"}]},
            "evaluation": {
                "score": 80,
                "critical_fail_triggered": False,
                "criteria_results": [
                    {"name": "Greeting", "passed": False},
                    {"name": "No offensive language", "passed": True},
                    {"name": "Issue resolved", "passed": True},
                ],
            },
        },
    }
    payload.update(overrides)
    return payload


def snapshot(*, configurations=(), evaluators=(), participants=(), transcriptions=()) -> dict:
    """A file in the heify_load format."""
    return {
        "configurations": list(configurations),
        "evaluators": list(evaluators),
        "participants": list(participants),
        "transcriptions": list(transcriptions),
    }
