"""The treatment provider's own contact details, from config/provider.yml (empty by default)."""

from __future__ import annotations

from typing import Dict, Optional

from bot.core.settings import load_yaml, setting_path


def provider() -> Dict[str, str]:
    data = load_yaml(str(setting_path("provider")))
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
