"""The other side of tests/syncer/test_faults.py: a process on the same database as the victims.

    python -m tests.syncer.fault_driver push    # the push job, once (a victim, killed at random)
    python -m tests.syncer.fault_driver serve   # JSON commands on stdin, one answer per line on stdout

`serve` makes local edits through the public actions (qa.mirror.services, qa.reviews.queues)
as a person would, pulls and pushes when asked, and reports what the mirror
holds. It closes its database connection after every command, so it holds no
lock while a victim runs. Settings come from the environment, as in production.
"""

from __future__ import annotations

import json
import os
import random
import sys


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heifyadmin.settings")
    import django

    django.setup()


def edit(seed: int, count: int) -> list[dict]:
    """`count` edits of random participants' metadata and calls' review groups; refused ones are left out."""
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    from qa.mirror import services
    from qa.mirror.models import Participant, Transcription
    from qa.reviews import queues

    rng = random.Random(seed)
    user, _ = User.objects.get_or_create(username="faults", defaults={"is_staff": True, "is_superuser": True})
    done = []
    for number in range(count):
        try:
            if rng.random() < 0.5:
                participant = rng.choice(list(Participant.objects.filter(gone_at__isnull=True).order_by("pk")))
                metadata = {**participant.metadata, "fault_edit": f"{seed}-{number}"}
                services.participant_save(
                    participant=participant, data={"tag": participant.tag, "metadata": metadata},
                    expected_version=participant.version,
                )
                done.append({"kind": "participants", "id": participant.heify_id, "value": metadata})
            else:
                call = rng.choice(list(Transcription.objects.filter(gone_at__isnull=True).order_by("pk")))
                if call.group in (None, "PENDING_REVIEW"):
                    moved = queues.transcription_claim(transcription_id=call.pk, reviewer=user)
                elif call.group == "UNDER_REVIEW":
                    if rng.random() < 0.5:
                        moved = queues.transcription_release(transcription_id=call.pk, acting_user=user)
                    else:
                        moved = queues.transcription_archive(transcription_id=call.pk, acting_user=user,
                                                             agree_rest=True)
                else:
                    moved = queues.transcription_reopen(transcription_id=call.pk, acting_user=user)
                done.append({"kind": "transcriptions", "id": moved.heify_id, "value": moved.group})
        except ValidationError as refusal:  # shown to the person; nothing changed: not an edit
            done.append({"kind": "refused", "message": " ".join(refusal.messages)})
    return done


def state() -> dict:
    """Every mirrored object: its sync state, the digest of Heify's payload it holds, and the edited values."""
    from qa.mirror.models import Configuration, Evaluator, Participant, Transcription

    out = {}
    for resource, model, value in (
        ("configurations", Configuration, None), ("evaluators", Evaluator, None),
        ("participants", Participant, "metadata"), ("transcriptions", Transcription, "group"),
    ):
        fields = ["heify_id", "sync_state", "payload_hash", "gone_at"] + ([value] if value else [])
        out[resource] = {
            row["heify_id"]: {
                "sync_state": row["sync_state"], "payload_hash": row["payload_hash"],
                "gone": row["gone_at"] is not None, "value": row.get(value),
            }
            for row in model.all_objects.filter(heify_id__isnull=False).values(*fields)
        }
    return out


def serve() -> None:
    from django.db import connections

    from syncer import pull, push

    for line in sys.stdin:
        command = json.loads(line)
        name = command["cmd"]
        try:
            if name == "edit":
                answer = edit(command["seed"], command["count"])
            elif name == "state":
                answer = state()
            elif name == "pull":
                answer = {resource: str(result) for resource, result in pull.pull().items()}
            elif name == "push":
                answer = push.push_waiting()
            else:
                raise ValueError(f"unknown command {name!r}")
            reply = {"ok": answer}
        except Exception as exc:  # reported to the test, which fails with it
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            connections.close_all()
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    setup()
    if sys.argv[1:] == ["push"]:
        from syncer import tasks

        print(tasks.push_waiting())
    elif sys.argv[1:] == ["serve"]:
        serve()
    else:
        sys.exit("usage: python -m tests.syncer.fault_driver push|serve")
