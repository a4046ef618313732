"""Security regression: a password change (the admin's form, set_password and save, `changepassword`) or a
deactivation revokes every API token of the user; nothing else does. No 5xx."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

API = "/api/v1/participants/"


@pytest.fixture
def ann():
    return User.objects.create_user("ann", password="old-pass-for-tests-1", is_staff=True, is_superuser=True)


def client_with_token(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    assert client.get(API).status_code == 200
    return client


def revoked(client) -> bool:
    status = client.get(API).status_code
    assert status < 500
    return status == 401


def test_set_password_and_save_revokes_the_tokens(ann):
    api = client_with_token(ann)
    other = client_with_token(User.objects.create_user("bob", password="pw-for-tests-1", is_superuser=True))
    ann.first_name = "Ann"
    ann.save()  # an ordinary save keeps them
    ann.last_login = None
    ann.save(update_fields=["last_login"])  # as every sign-in does
    assert not revoked(api)
    ann.set_password("new-pass-for-tests-2")
    ann.save()
    assert revoked(api) and not revoked(other)
    assert not AuthToken.objects.filter(user=ann).exists()


def test_the_admins_password_form_revokes_the_tokens(admin_client, ann):
    api = client_with_token(ann)
    response = admin_client.post(reverse("admin:auth_user_password_change", args=[ann.pk]),
                                 {"password1": "new-pass-for-tests-2", "password2": "new-pass-for-tests-2",
                                  "usable_password": "true"})
    assert response.status_code == 302, response.content[:500]
    assert revoked(api)


def test_the_changepassword_command_revokes_the_tokens(ann, monkeypatch):
    api = client_with_token(ann)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "new-pass-for-tests-2")
    call_command("changepassword", "ann", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert revoked(api)


def test_deactivating_a_user_revokes_the_tokens_for_good(ann):
    api = client_with_token(ann)
    ann.is_active = False
    ann.save()
    ann.is_active = True
    ann.save()  # reactivated: the old tokens stay revoked
    assert revoked(api)
