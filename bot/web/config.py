"""The web server's session signing key. Its settings (config/web.yml) are bot.core.settings.web_settings: the staff
console reads them too, without importing the web package."""

from __future__ import annotations

import secrets
from typing import Any

from bot.core.settings import project_path


def secret_key(settings: dict[str, Any]) -> str:
    """The session signing key: generated once into secret_key_file (never committed)."""
    path = project_path(settings["secret_key_file"])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
