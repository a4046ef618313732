"""ensure_admin: the admin's password file is the owner's alone from the moment it exists."""

import os
import stat
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db


class Killed(Exception):
    """The process dying between two system calls."""


@pytest.fixture
def open_umask():
    previous = os.umask(0)  # the most permissive: any file created without an explicit mode is world-readable
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_password_file_is_created_private_not_made_private_afterwards(settings, tmp_path, open_umask,
                                                                           monkeypatch, capsys):
    settings.VAR_DIR = tmp_path
    password_file = tmp_path / "admin-password.txt"

    def killed(*args, **kwargs):
        raise Killed

    # Were the file written first and chmod-ed after, dying in between would leave it readable by all.
    monkeypatch.setattr(Path, "chmod", killed)
    monkeypatch.setattr(os, "chmod", killed)
    try:
        call_command("ensure_admin")
    except Killed:
        pass
    assert password_file.exists() and mode(password_file) == 0o600
    monkeypatch.undo()

    password = password_file.read_text().strip()
    assert User.objects.get(username="admin").check_password(password)
    assert f"Admin login: admin / {password}" in capsys.readouterr().out


def test_a_readable_file_left_behind_is_made_private_when_rewritten(settings, tmp_path, open_umask):
    settings.VAR_DIR = tmp_path
    password_file = tmp_path / "admin-password.txt"
    password_file.write_text("left by someone\n")
    password_file.chmod(0o644)
    call_command("ensure_admin")  # no admin user yet: a new password, written over the old file
    assert mode(password_file) == 0o600
    assert User.objects.get(username="admin").check_password(password_file.read_text().strip())
