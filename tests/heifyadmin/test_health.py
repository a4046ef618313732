"""/healthz and /readyz: no login, no database for liveness, 503 naming what failed, reachable by a probe."""

import pytest
from django.db import connection
from django.test import Client

from heifyadmin import health


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")  # no django_db mark: any database access would raise
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_does_not_answer(client, monkeypatch):
    def down():
        raise connection.Database.OperationalError("connection refused on 10.0.0.7:5432")

    monkeypatch.setattr(health, "check_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    # Without REDIS_URL the database is also the job broker.
    assert body["failed"] == ["database", "broker"] and body["checks"]["database"] == "failed"
    assert "10.0.0.7" not in response.content.decode()  # the reason goes to the log, not to the caller


@pytest.mark.django_db
def test_readyz_names_redis_when_the_broker_is_redis_and_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    health._redis.cache_clear()
    try:
        response = client.get("/readyz")
    finally:
        health._redis.cache_clear()
    assert response.status_code == 503 and response.json()["failed"] == ["broker"]


@pytest.mark.django_db
def test_readyz_with_redis_up_names_only_the_database(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    monkeypatch.setattr(health, "check_redis", lambda: None)  # the Redis of a test machine may be absent
    monkeypatch.setattr(health, "check_database", lambda: 1 / 0)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["database"]


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https_nor_refused_for_an_unknown_host(settings):
    # A load balancer probes the instance's own address over plain HTTP.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["qa.example.com"]
    probe = Client(HTTP_HOST="10.1.2.3:8000")
    assert probe.get("/healthz").status_code == 200
    assert probe.get("/readyz").status_code == 200
    assert probe.get("/admin/login/").status_code == 400  # everything else still checks the host


def test_probes_answer_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
