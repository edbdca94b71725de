"""Project settings from config/bot.yml, with paths resolved against the project root."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Dict

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_path(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


@functools.cache
def load_yaml(relative: str) -> Dict[str, Any]:
    with open(project_path(relative), encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def settings() -> Dict[str, Any]:
    """config/bot.yml; BOT_CONFIG names another file (e.g. in tests)."""
    return load_yaml(os.environ.get("BOT_CONFIG", "config/bot.yml"))


def setting_path(key: str) -> Path:
    return project_path(settings()[key])
