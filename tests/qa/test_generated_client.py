"""A client generated from /api/v1/schema/ by openapi-python-client (pinned in requirements-dev.txt) works.

Internal tools make their clients this way: the schema must describe the API so that the generated
package imports, signs in and reads real data from a live server. Generation reads the schema from a
file (no network) and is bounded in time.
"""

import importlib
import json
import pkgutil
import subprocess
import sys
from datetime import date

import pytest
from django.contrib.auth.models import User

from syncer import mirror
from tests import builders

API = "/api/v1"
PACKAGE = "heify_generated_client"
GENERATION_SECONDS = 120


def generate_client(schema: dict, directory) -> None:
    (directory / "schema.json").write_text(json.dumps(schema))
    # No post hooks (ruff would reformat): what is tested is what the generator writes.
    (directory / "config.yaml").write_text("post_hooks: []\n")
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(directory / "schema.json"),
         "--output-path", str(directory / PACKAGE), "--meta", "none", "--config", str(directory / "config.yaml")],
        capture_output=True, text=True, timeout=GENERATION_SECONDS, cwd=directory,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The generator says so when it leaves an operation or a model out ("some pieces may be missing").
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.fixture
def generated(tmp_path, client):
    """The package generated from the schema as served, importable while the test runs."""
    client.force_login(User.objects.create_user("schema-reader", is_staff=True))
    response = client.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    generate_client(response.json(), tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.mark.django_db
def test_every_module_of_a_generated_client_imports(generated):
    broken = {}
    for module in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:
            broken[module.name.removeprefix(f"{PACKAGE}.")] = f"{type(exc).__name__}: {exc}"
    assert not broken, broken


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_signs_in_lists_reads_and_analyses(generated, live_server):
    participant = builders.participant_payload(tag="Dana Smith")
    evaluator = builders.evaluator_payload(tag="Support calls")
    calls = [builders.transcription_payload(participant=participant, evaluator=evaluator,
                                            created_at=f"2026-03-0{day}T10:00:00+00:00")
             for day in (1, 2)]
    mirror.load_snapshot(builders.snapshot(evaluators=[evaluator], participants=[participant], transcriptions=calls))
    User.objects.create_superuser("tool", "tool@example.invalid", "a-long-test-password")

    def module(name):
        return importlib.import_module(f"{PACKAGE}.{name}")

    client_module = module("client")
    anonymous = client_module.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    signed_in = module("api.auth.auth_token_create").sync_detailed(
        client=anonymous, body=module("models").TokenRequestRequest(username="tool", password="a-long-test-password"))
    assert signed_in.status_code == 200, signed_in.content
    token = signed_in.parsed.token
    assert len(token) == 64
    api = client_module.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token",
                                            raise_on_unexpected_status=True)

    listed = module("api.participants.participants_list").sync_detailed(client=api)
    assert listed.status_code == 200, listed.content
    assert [(p.participant_id, p.tag) for p in listed.parsed.data] == [(participant["participant_id"], "Dana Smith")]

    one = module("api.participants.participants_retrieve").sync_detailed(client=api, id=participant["participant_id"])
    assert one.status_code == 200, one.content
    assert one.parsed.data.tag == "Dana Smith" and one.parsed.data.metadata == participant["metadata"]

    transcriptions = module("api.transcriptions.transcriptions_list").sync_detailed(
        client=api, participant=participant["participant_id"])
    assert transcriptions.status_code == 200, transcriptions.content
    assert sorted(t.transcription_id for t in transcriptions.parsed.data) == sorted(
        c["transcription_id"] for c in calls)
    call = module("api.transcriptions.transcriptions_retrieve").sync_detailed(
        client=api, id=calls[0]["transcription_id"])
    assert call.status_code == 200, call.content
    assert call.parsed.data.evaluator_id == evaluator["evaluator_id"]

    analytics = module("api.participants.participants_analytics_retrieve").sync_detailed(
        client=api, id=participant["participant_id"], as_of=date(2026, 3, 21))
    assert analytics.status_code == 200, analytics.content
    report = analytics.parsed.to_dict()["data"]
    assert report["kpis"]["total_calls"] == 2 and report["kpis"]["avg_score"] == 80
