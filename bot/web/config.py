"""Web server settings: config/web.yml, overridden by environment variables of the same name in capitals."""

from __future__ import annotations

import os
import secrets
from typing import Any

from bot.core.settings import load_yaml, project_path


def web_settings() -> dict[str, Any]:
    settings = dict(load_yaml("config/web.yml"))
    for key, value in list(settings.items()):
        env = os.environ.get(key.upper())
        if env is None:
            continue
        if isinstance(value, bool):
            settings[key] = env.lower() in ("1", "true", "yes")
        elif isinstance(value, int):
            settings[key] = int(env)
        elif isinstance(value, list):
            settings[key] = [item.strip() for item in env.split(",") if item.strip()]
        else:
            settings[key] = env
    return settings


def secret_key(settings: dict[str, Any]) -> str:
    """The session signing key: generated once into secret_key_file (never committed)."""
    path = project_path(settings["secret_key_file"])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
