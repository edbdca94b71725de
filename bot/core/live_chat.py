"""Live hand-off settings: the provider's staffed hours (config/provider.yml, `live_chat:`) and the wording and rules
of the hand-off (config/live_chat.yml). Plain code (no Rasa, no Flask): the action server offers "Chat with our team"
from it, the web server runs the queue from it (README, "Live hand-off").

Off by default: live chat is on only when `live_chat.hours` names at least one staffed period. A malformed section
raises LiveChatConfigError with the key and what is wrong, when the web server or the action server starts.

    live_chat:
      timezone: America/New_York      # IANA name; the hours are local time there
      wait_minutes: 5                 # nobody took it by then: the helpline and the provider's contact
      hours:                          # weekday (mon ... sun): "HH:MM-HH:MM", or a list of them; a missing day: closed
        mon: "09:00-17:00"
        sat: ["10:00-12:00", "13:00-15:00"]

PROVIDER_CONFIG names another provider file (tests; a provider's own deployment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.core.provider import contact_message, provider_file
from bot.core.settings import PROJECT_ROOT, load_yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
WORDING = "config/live_chat.yml"


class LiveChatConfigError(ValueError):
    """config/provider.yml's live_chat section is malformed (the message names the key and the fix)."""


@dataclass(frozen=True)
class LiveChat:
    """The provider's live chat: `enabled` only with staffed hours."""

    provider: str = ""
    timezone: str = "UTC"
    wait_minutes: float = 5
    hours: Dict[int, Tuple[Tuple[time, time], ...]] = field(default_factory=dict)  # weekday (0 = Monday) -> periods
    wording: Dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return any(self.hours.values())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def roles(self) -> Tuple[str, ...]:
        return tuple(self.wording.get("roles") or ("responder", "admin"))

    @property
    def offer_intents(self) -> Tuple[str, ...]:
        return tuple(self.wording.get("offer_intents") or ("request_human",))

    @property
    def idle_minutes(self) -> float:
        return float(self.wording.get("idle_minutes") or 20)

    @property
    def poll_seconds(self) -> float:
        return float(self.wording.get("poll_seconds") or 1)

    def staffed(self, now: Optional[datetime] = None) -> bool:
        """Whether `now` (aware; default: the current time) falls in a staffed period, in the provider's zone."""
        if not self.enabled:
            return False
        local = (now or datetime.now(timezone.utc)).astimezone(self.tz)
        moment = local.time().replace(tzinfo=None)
        return any(start <= moment < end for start, end in self.hours.get(local.weekday(), ()))

    def text(self, key: str, **values: str) -> str:
        """A family-facing sentence of config/live_chat.yml, with {provider} and the given values filled in."""
        return " ".join(str(self.wording["messages"][key]).split()).format(provider=self.provider, **values)

    def describe_hours(self) -> str:
        """"mon 09:00-17:00; tue ..." (the console shows it)."""
        parts = []
        for number, day in enumerate(DAYS):
            periods = self.hours.get(number, ())
            if periods:
                spans = ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in periods)
                parts.append(f"{day} {spans}")
        return "; ".join(parts) + f" ({self.timezone})"


def _clock(moment: time) -> str:
    return "24:00" if moment == time.max else moment.strftime("%H:%M")


def load(path: Optional[Path] = None, wording: Optional[Dict[str, Any]] = None) -> LiveChat:
    """The live chat settings of the provider file (PROVIDER_CONFIG or config/bot.yml's `provider`); validated."""
    path = path or provider_file()
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    try:
        where = str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        where = str(path)
    return parse(data, where, wording if wording is not None else load_yaml(WORDING))


def parse(data: Dict[str, Any], where: str = "config/provider.yml", wording: Optional[Dict[str, Any]] = None
          ) -> LiveChat:
    """Validate a provider file's content; every error names the key and what a valid value looks like."""
    section = data.get("live_chat")
    wording = wording if wording is not None else load_yaml(WORDING)
    provider = str(data.get("name") or "").strip()
    if section is None:
        return LiveChat(provider=provider, wording=wording)

    def fail(key: str, problem: str) -> LiveChatConfigError:
        return LiveChatConfigError(f"{where}: live_chat.{key}: {problem} (README, \"Live hand-off\")")

    if not isinstance(section, dict):
        raise LiveChatConfigError(f"{where}: live_chat must be a mapping with timezone, wait_minutes and hours")
    unknown = set(section) - {"timezone", "wait_minutes", "hours"}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown key; the keys are timezone, wait_minutes and hours")
    zone = str(section.get("timezone") or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("timezone", f"{zone!r} is not an IANA time zone name such as America/New_York") from None
    wait = section.get("wait_minutes", 5)
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 < wait <= 240:
        raise fail("wait_minutes", f"{wait!r} is not a number of minutes between 0 and 240")
    hours = section.get("hours") or {}
    if not isinstance(hours, dict):
        raise fail("hours", "must map weekdays (mon, tue, wed, thu, fri, sat, sun) to \"HH:MM-HH:MM\" periods")
    parsed: Dict[int, Tuple[Tuple[time, time], ...]] = {}
    for day, value in hours.items():
        key = str(day).strip().lower()[:3]
        if str(day).strip().lower() not in (key, _long_name(key)) or key not in DAYS:
            raise fail(f"hours.{day}", "not a weekday: use mon, tue, wed, thu, fri, sat or sun")
        periods = _periods(value, lambda problem, day=day: fail(f"hours.{day}", problem))
        if DAYS.index(key) in parsed:
            raise fail(f"hours.{day}", "this weekday is given twice")
        parsed[DAYS.index(key)] = periods
    if any(parsed.values()) and not provider:
        raise LiveChatConfigError(f"{where}: live chat needs the provider's `name` (families see \"<staff name> from "
                                  "<provider> has joined\")")
    return LiveChat(provider=provider, timezone=zone, wait_minutes=float(wait), hours=parsed, wording=wording)


def _long_name(key: str) -> str:
    names = dict(zip(DAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), strict=True))
    return names.get(key, "")


def _periods(value: Any, fail: Any) -> Tuple[Tuple[time, time], ...]:
    items: List[Any] = value if isinstance(value, list) else [value]
    periods: List[Tuple[time, time]] = []
    for item in items:
        if item is None or str(item).strip().lower() == "closed":
            continue
        match = PERIOD.match(str(item))
        if not match:
            raise fail(f"{item!r} is not a period such as \"09:00-17:00\"")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise fail(f"{item!r} is not a time of day (00:00 to 24:00)")
        start, end = time(h1, m1), (time.max if h2 == 24 else time(h2, m2))
        if end <= start:
            raise fail(f"{item!r} ends before it starts; split a period over midnight into two days "
                       "(\"22:00-24:00\" and \"00:00-06:00\")")
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise fail("periods overlap")
    return tuple(periods)


def fallback(live: LiveChat, key: str) -> List[str]:
    """What a family gets when nobody can chat (`key`: closed or timed_out): the sentence, then the helpline from the
    domain's utter_professional_help and the provider's contact, as "talk to a person" answers without live chat."""
    helpline = load_yaml("domain.yml")["responses"]["utter_professional_help"][0]["text"]
    return [live.text(key), " ".join(helpline.split()), *filter(None, [contact_message()])]
