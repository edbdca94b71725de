"""Redaction of personal data (phone numbers, e-mail addresses, street addresses) from what families type."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# North American and international numbers: 7+ digits with optional separators, not the helplines the bot itself
# quotes (those never come from a user message anyway, and redacting them would do no harm).
PHONE = re.compile(r"(?<![\w])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])?\d{3}[\s.-]?\d{4}(?![\w])")
STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|circle|cir"
    r"|highway|hwy|parkway|pkwy"
)
ADDRESS = re.compile(
    rf"\b\d{{1,6}}\s+(?:[A-Za-z0-9'.-]+\s+){{1,4}}(?:{STREET_SUFFIX})\b\.?(?:,?\s*(?:apt|apartment|unit|suite|#)\s*\w+)?",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    text = EMAIL.sub("[email]", text)
    text = ADDRESS.sub("[address]", text)
    return PHONE.sub("[phone]", text)
