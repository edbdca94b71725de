"""The treatment provider's own contact details, from config/provider.yml (empty by default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional

from bot.core.settings import load_yaml, project_path, setting_path


def provider_file() -> Path:
    """config/bot.yml's `provider` file, or the one PROVIDER_CONFIG names (tests; a provider's own deployment)."""
    name = os.environ.get("PROVIDER_CONFIG", "").strip()
    return project_path(name) if name else setting_path("provider")


def provider() -> Dict[str, str]:
    data = load_yaml(str(provider_file()))
    return {key: str(data.get(key) or "").strip() for key in ("name", "phone", "website", "hours")}


def contact_message() -> Optional[str]:
    """One sentence with the provider's details, or None when none are configured. Nothing is made up."""
    p = provider()
    if not (p["phone"] or p["website"]):
        return None
    name = p["name"] or "the treatment provider"
    ways = " or ".join(part for part in (f"call {p['phone']}" if p["phone"] else "", p["website"]) if part)
    hours = f" ({p['hours']})" if p["hours"] else ""
    return f"You can also contact {name}: {ways}{hours}."
