"""Redaction of personal data (phone numbers, e-mail addresses, street addresses) from what families type.

Used by bot.rasa.tracker_store before anything is written to the database; the NLU has already seen the original text.
Errs on the side of redacting: a stored "[phone]" for a long number that was not one costs less than a stored phone
number.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# 7 to 15 digits (E.164 allows 15) with optional +, spaces, dots, dashes and parentheses between them.
PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|circle|cir"
    r"|highway|hwy|parkway|pkwy|square|sq"
)
ADDRESS = re.compile(
    rf"\b\d{{1,6}}[a-z]?\s+((?:[A-Za-z0-9'.-]+\s+){{1,4}})(?:{STREET_SUFFIX})\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|#)\s*\w+)?",
    re.IGNORECASE,
)
PO_BOX = re.compile(r"\bp\.?\s?o\.?\s+box\s+\d+\b", re.IGNORECASE)
# Every pattern above needs a digit or an @: text without one is returned at once (most strings in parse data).
CANDIDATE = re.compile(r"[\d@]")
# Words that do not occur in a street name but do occur in "took 2 pills on the way" or "3 times a day in place".
NOT_A_STREET_NAME = frozenset(
    "a an the on in at of to for from by my his her our their your its and or but with without is was are were "
    "be been had has have he she they we i you it pill pills tablet tablets mg milligrams times time days day "
    "weeks week months month years year hours hour minutes doses dose drinks".split()
)


def _address(match: re.Match) -> str:
    words = match.group(1).lower().split()
    return match.group(0) if any(word in NOT_A_STREET_NAME for word in words) else "[address]"


def _phone(match: re.Match) -> str:
    return match.group(0) if ISO_DATE.fullmatch(match.group(0)) else "[phone]"


def redact(text: str) -> str:
    """The text with e-mail addresses, street addresses and phone numbers replaced by [email], [address], [phone]."""
    if not CANDIDATE.search(text):
        return text
    text = EMAIL.sub("[email]", text)
    text = PO_BOX.sub("[address]", text)
    text = ADDRESS.sub(_address, text)
    return PHONE.sub(_phone, text)


def redact_all(value: Any) -> Any:
    """Every string inside a JSON-like value redacted (dict keys are left alone)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(item) for item in value]
    return value
