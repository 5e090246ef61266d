"""What a failed rule says: a row's reason (:func:`row_message`), a day's column difference
(:func:`column_diff`), and values shown only when they cannot be contact details."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from outcome_pipeline.validation.rules import (
    BETWEEN,
    IMPOSSIBLE_TIMESTAMP,
    IN_SET,
    NOT_NULL,
    ORDER,
    REGEX,
    UNKNOWN_REFERENCE,
    Rule,
)


def column_diff(present: Iterable[str], expected: Iterable[str]) -> str:
    """Which contract columns a day lacks and which it has extra (names only)."""
    present, expected = list(present), list(expected)
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected]
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if extra:
        parts.append("unexpected: " + ", ".join(extra))
    return "; ".join(parts) or "as contract"


_DIGITS_FOR_PHONE = 7


def safe_value(value: object) -> str:
    """Render a value for a message; anything that looks like an email or phone is withheld.

    Rules on PII columns never call this (their messages carry no value at all); this guards
    the other columns against shifted or mistyped data (an email landed in ``channel``).
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if "@" in text or sum(ch.isdigit() for ch in text) >= _DIGITS_FOR_PHONE:
        return "<withheld>"
    return repr(text if len(text) <= 40 else text[:37] + "...")


def row_message(rule: Rule, value: object = None) -> str:
    """Readable reason a row failed ``rule``; ``value`` is the row's value in ``rule.column``."""
    col = rule.column
    if rule.kind == NOT_NULL:
        return f"{col} is empty"
    if rule.kind == ORDER:
        return f"{col} is before {rule.other}"
    if rule.kind == REGEX:
        return f"{col} is not a valid {rule.what}"
    if rule.kind == IN_SET:
        if rule.code == UNKNOWN_REFERENCE:
            return f"{col} is not a {rule.what}"
        allowed = ", ".join(str(v) for v in rule.values)
        if rule.pii:
            return f"{col} is not one of {allowed}"
        return f"{col} {safe_value(value)} is not one of {allowed}"
    if rule.kind == BETWEEN:
        shown = "" if rule.pii else f" {safe_value(value)}"
        if rule.code == IMPOSSIBLE_TIMESTAMP:
            if isinstance(value, datetime) and value < rule.min_value:
                return f"{col}{shown} is implausible: before {rule.min_value:%Y-%m-%d}"
            return f"{col}{shown} is implausible: later than {rule.what}"
        when = f" for {rule.when[0]} {rule.when[1]}" if rule.when else ""
        if rule.max_value is None:
            return f"{col}{shown} is below {rule.min_value:g}{when}"
        return f"{col}{shown} is outside {rule.min_value}..{rule.max_value}{when}"
    return f"{rule.name} failed"
