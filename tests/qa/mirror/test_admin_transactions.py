"""The admin's saves and deletes of Heify objects: the service runs outside Django's transaction, through the
admin's public hooks only, and what Heify or another editor refuses reaches the person, never a 500."""

import ast
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from qa.mirror.models import Participant
from syncer import pull

pytestmark = pytest.mark.django_db

QA_CODE = Path(__file__).resolve().parents[3] / "qa"  # the admin screens live in every domain
# What Django's ModelAdmin keeps to itself (_changeform_view, _delete_view, _create_formsets, ...).
DJANGO_PRIVATE = {name for name in dir(admin.ModelAdmin) if name.startswith("_") and not name.startswith("__")}


def test_the_admin_neither_calls_nor_overrides_a_private_method_of_djangos():
    offenders = []
    for path in sorted(QA_CODE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "name", None)
            if isinstance(node, ast.Attribute | ast.FunctionDef) and name in DJANGO_PRIVATE:
                offenders.append(f"{path.relative_to(QA_CODE)}:{node.lineno} {name}")
    assert offenders == [], "a private method of Django's may change in any release: use the documented hooks"


def on_its_way(participant):
    """Another change of the participant is being sent to Heify right now (its claim holds for an hour)."""
    Participant.objects.filter(pk=participant.pk).update(
        push_claim=uuid.uuid4(), push_claimed_until=timezone.now() + timedelta(hours=1))


def test_a_delete_while_another_change_is_on_its_way_is_refused_with_a_message(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    on_its_way(participant)
    response = admin_client.post(reverse("admin:qa_participant_delete", args=[participant.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert response.url == reverse("admin:qa_participant_change", args=[participant.pk])
    assert any("being sent to Heify right now" in str(m) for m in get_messages(response.wsgi_request))
    assert Participant.objects.filter(pk=participant.pk).exists()
    assert not LogEntry.objects.exists()


def test_an_edit_heify_refuses_is_neither_logged_nor_called_a_success(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    heify_account.state.delete("participants", participant.heify_id)  # gone from Heify meanwhile
    response = admin_client.post(reverse("admin:qa_participant_change", args=[participant.pk]), {
        "tag": participant.tag, "metadata": json.dumps({"team": "mine"}), "based_on_version": participant.version,
    })
    assert response.status_code == 200 and "Heify refused the change" in response.content.decode()
    assert not [str(m) for m in get_messages(response.wsgi_request)]
    assert not LogEntry.objects.exists()


def test_an_edit_and_an_addition_heify_takes_are_logged_once_as_django_does(admin_client, heify_account):
    pull.pull(["participants"])
    participant = Participant.objects.first()
    change = admin_client.post(reverse("admin:qa_participant_change", args=[participant.pk]), {
        "tag": participant.tag, "metadata": json.dumps({"team": "mine"}), "based_on_version": participant.version,
    })
    add = admin_client.post(reverse("admin:qa_participant_add"), {"tag": "New agent", "metadata": "{}"})
    assert (change.status_code, add.status_code) == (302, 302)
    created = Participant.objects.get(tag="New agent")
    assert add.url == reverse("admin:qa_participant_changelist")
    assert created.heify_id and created.sync_state == "synced"
    logged = list(LogEntry.objects.order_by("pk").values_list("object_id", "action_flag", "change_message"))
    assert logged == [(str(participant.pk), 2, '[{"changed": {"fields": ["metadata"]}}]'),
                      (str(created.pk), 1, '[{"added": {}}]')]
