"""The one demo password every demo person signs in with, generated on first use and kept in
var/."""

import os
import secrets
from pathlib import Path

from django.conf import settings

PASSWORD_FILE_NAME = "demo-password"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / PASSWORD_FILE_NAME


def demo_password() -> tuple[str, bool]:
    """The demo password and whether it was generated just now.

    Generated on first use and kept in var/ readable by its owner only; never in the
    repository.
    """
    path = password_file()
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    # Created with mode 0600 from the start: no moment where another user could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")
    return password, True
