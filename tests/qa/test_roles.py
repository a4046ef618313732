"""A role (qa/roles.py) makes its holder staff, whichever way they were put in it, and losing the last role takes
staff away again, unless they are staff for another reason: a superuser, or staff set by hand before any role."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def person(name="rita", **flags) -> User:
    return User.objects.create_user(name, password=PASSWORD, **flags)


def is_staff(user: User) -> bool:
    return User.objects.get(pk=user.pk).is_staff


def signs_in(client, user: User) -> bool:
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD})
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_someone_put_in_a_role_signs_in_at_once_and_burns_no_attempt(client):
    rita = person()
    rita.groups.add(role("Reviewer"))
    # Django said "enter the correct username and password for a staff account" and counted a failure.
    assert signs_in(client, rita)
    assert not AccessAttempt.objects.exists()
    assert rita.is_staff  # the object in hand too: a later rita.save() keeps it


@pytest.mark.parametrize("name", ["Reviewer", "QA manager"])
def test_the_groups_user_set_grants_and_takes_back_staff(name):
    rita, max_ = person(), person("max")
    role(name).user_set.add(rita, max_)
    assert is_staff(rita) and is_staff(max_)
    role(name).user_set.remove(rita)
    assert not is_staff(rita) and is_staff(max_)
    role(name).user_set.clear()
    assert not is_staff(max_)


def test_removing_the_users_last_role_takes_staff_back_and_another_role_keeps_it():
    rita = person()
    rita.groups.set([role("Reviewer"), role("QA manager")])
    rita.groups.remove(role("Reviewer"))
    assert is_staff(rita) and rita.is_staff  # still a QA manager
    rita.groups.clear()
    assert not is_staff(rita) and not rita.is_staff


def test_a_group_that_is_no_role_changes_nothing():
    rita = person()
    rita.groups.add(Group.objects.create(name="Night shift"))
    assert not is_staff(rita)


def test_staff_by_hand_before_any_role_and_superusers_stay_staff(capsys):
    hand = person("hand", is_staff=True)
    call_command("ensure_admin")
    admin = User.objects.get(username="admin")
    for user in (hand, admin):
        user.groups.add(role("Reviewer"))
        user.groups.remove(role("Reviewer"))
        assert is_staff(user)
    # A superuser who was not staff is made staff by a role, and stays staff after it (as a superuser).
    boss = person("boss", is_superuser=True)
    role("QA manager").user_set.add(boss)
    role("QA manager").user_set.remove(boss)
    assert is_staff(boss)


def test_the_admin_user_form_grants_and_takes_back_staff(admin_client):
    rita = person()

    def save(groups, staff=False):
        response = admin_client.post(f"/admin/auth/user/{rita.pk}/change/", {
            "username": "rita", "is_active": "on", "groups": [g.pk for g in groups],
            "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00", **({"is_staff": "on"} if staff else {}),
        })
        assert response.status_code == 302, response.context["adminform"].form.errors
        return is_staff(rita)

    assert save([role("Reviewer")]) is True  # "Staff status" left unticked: the role ticks it
    assert save([]) is False
    # Ticked by hand as the role is given (the user is saved before their groups): staff by hand.
    assert save([role("QA manager")], staff=True) is True
    assert save([], staff=True) is True
