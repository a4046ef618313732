"""Signing in: hashed, expiring, revocable API tokens; lock-out after failed sign-ins (django-axes) on the
admin login and the token endpoint; the token endpoint's rate limit."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

API = "/api/v1"
PASSWORD = "correct-horse-9"


def get_token(username, password=PASSWORD, client=None):
    return (client or APIClient()).post(f"{API}/auth/token/", {"username": username, "password": password},
                                        format="json")


def with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def ann(db):
    return User.objects.create_user("ann", password=PASSWORD, is_staff=True, is_superuser=True)


# --- tokens -------------------------------------------------------------------------------------


def test_only_a_hash_of_the_token_is_stored_and_it_expires_after_the_setting(ann):
    response = get_token("ann")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    stored = AuthToken.objects.get(user=ann)
    assert token not in {stored.digest, stored.token_key} and len(stored.digest) == 128
    expected = timezone.now() + timedelta(days=90)
    assert abs(stored.expiry - expected) < timedelta(minutes=1)
    assert response.json()["expiry"]
    assert with_token(token).get(f"{API}/participants/").status_code == 200


def test_an_expired_token_no_longer_works(ann):
    token = get_token("ann").json()["token"]
    AuthToken.objects.filter(user=ann).update(expiry=timezone.now() - timedelta(seconds=1))
    assert with_token(token).get(f"{API}/participants/").status_code == 401


def test_logout_revokes_the_token_it_is_sent_with_and_no_other(ann):
    first, second = get_token("ann").json()["token"], get_token("ann").json()["token"]
    assert with_token(first).post(f"{API}/auth/logout/").status_code == 204
    assert with_token(first).get(f"{API}/participants/").status_code == 401
    assert with_token(second).get(f"{API}/participants/").status_code == 200
    assert APIClient().post(f"{API}/auth/logout/").status_code == 401


@pytest.mark.parametrize("header", ["Token abc\x00def", "Token " + "g" * 64, "Token " + "a" * 63, "Token \xff\xfe"])
def test_a_token_no_issued_token_can_be_is_401_not_500(ann, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"{API}/participants/")
    assert response.status_code == 401 and response.json()["error"]["status"] == 401


def test_the_admin_lists_a_staff_users_own_tokens_and_a_superuser_sees_all(client, ann):
    bob = User.objects.create_user("bob", password=PASSWORD, is_staff=True)
    own, _ = AuthToken.objects.create(user=bob)
    others, _ = AuthToken.objects.create(user=ann)
    client.force_login(bob)
    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    assert own.token_key[:8] in listing.text and others.token_key[:8] not in listing.text
    assert client.get(f"/admin/knox/authtoken/{others.pk}/change/").status_code == 302  # "does not exist"
    assert client.post(f"/admin/knox/authtoken/{others.pk}/delete/", {"post": "yes"}).status_code == 302
    assert AuthToken.objects.filter(pk=others.pk).exists()
    assert client.post(f"/admin/knox/authtoken/{own.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not AuthToken.objects.filter(pk=own.pk).exists()
    assert client.get("/admin/knox/authtoken/add/").status_code == 403
    client.force_login(ann)
    assert others.token_key[:8] in client.get("/admin/knox/authtoken/").text


# --- lock-out after failed sign-ins (django-axes) --------------------------------------------------


def test_the_token_endpoint_locks_a_username_out_after_the_failure_limit(ann, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert get_token("ann", "wrong").status_code == 400
    locked = get_token("ann", "wrong")
    assert locked.status_code == 429, locked.content
    error = locked.json()["error"]
    assert error["code"] == "locked_out" and "locked out" in error["message"] and locked["Retry-After"]
    # Even the right password, while locked; another username from the same address is not locked.
    assert get_token("ann").status_code == 429
    User.objects.create_user("bob", password=PASSWORD)
    assert get_token("bob").status_code == 200
    # The lock is one row in the database (shared by every process); deleting it in the admin lifts it.
    attempt = AccessAttempt.objects.get(username="ann")
    admin = APIClient()
    admin.force_login(ann)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    attempt.delete()
    assert get_token("ann").status_code == 200


def test_the_admin_login_locks_out_with_a_readable_page(client, ann, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "ann", "password": "wrong"})
    assert response.status_code == 429
    assert "text/html" in response["Content-Type"] and "Too many failed sign-ins" in response.text
    response = client.post("/admin/login/", {"username": "ann", "password": PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="ann").exists()


def test_the_token_endpoint_is_rate_limited_per_client():
    answers = [get_token(f"nobody-{n}", "wrong").status_code for n in range(11)]
    assert answers[:10] == [400] * 10
    assert answers[10] == 429
    assert get_token("nobody-11", "wrong").json()["error"]["code"] == "throttled"
