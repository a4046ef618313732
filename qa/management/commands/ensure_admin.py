"""python manage.py ensure_admin: a superuser for a demo or a first start.

Creates the user with a random password the first time and keeps the
password in var/admin-password.txt (readable by the owner only), so the
run command can print it every time without ever using a fixed password.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


def write_private(path, text: str) -> None:
    """Write `text` to a file that is the owner's alone from its creation (mode 600), never readable by others
    for a moment as write-then-chmod would leave it; an existing file is made private before it is filled."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(fd, 0o600)
        file.write(text)


class Command(BaseCommand):
    help = "Create the superuser (random password, printed) if it does not exist yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        password_file = settings.VAR_DIR / "admin-password.txt"
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(username, email="", password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            write_private(password_file, password + "\n")
        password = password_file.read_text().strip()
        if user.check_password(password):
            self.stdout.write(f"Admin login: {username} / {password}")
        else:
            self.stdout.write(
                f"Admin login: {username} (its password was changed since; "
                f"reset it with: python manage.py changepassword {username})"
            )
