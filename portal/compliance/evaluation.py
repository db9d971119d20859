"""What a check's definition means, as pure rules: its placeholders, its threshold and how a
measured value compares with it, and the verdict every method returns."""

import math
import re
from dataclasses import dataclass, field

from portal.compliance.choices import Comparison, Outcome

#: ``{{service}}`` (the service's slug) and ``{{retention_days}}`` (its data-retention days),
#: with or without spaces inside the braces.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
PLACEHOLDERS = ("service", "retention_days")
RETENTION_DAYS = "{{retention_days}}"


class MissingValue(Exception):
    """A placeholder the service has no value for (no retention days): not applicable."""


@dataclass(frozen=True)
class Verdict:
    """What one run of a check on one service found."""

    outcome: str
    detail: str
    value: float | None = None
    evidence: dict = field(default_factory=dict)


def placeholders_in(text: str) -> set[str]:
    return {match.group(1) for match in PLACEHOLDER.finditer(text or "")}


def unknown_placeholders(text: str) -> list[str]:
    return sorted(placeholders_in(text) - set(PLACEHOLDERS))


def service_values(slug: str, retention_days: int | None) -> dict[str, str | None]:
    return {
        "service": slug,
        "retention_days": None if retention_days is None else str(retention_days),
    }


def render(text: str, values: dict[str, str | None]) -> str:
    """The text with each placeholder replaced; MissingValue when the service lacks one."""

    def replace(match):
        value = values.get(match.group(1))
        if value is None:
            raise MissingValue(f"the service has no {match.group(1).replace('_', ' ')}")
        return value

    return PLACEHOLDER.sub(replace, text)


def parse_threshold(text: str) -> float:
    """A threshold as written on a check: a number, possibly after placeholders were
    replaced. ValueError for anything else."""
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError("The threshold must be a finite number.")
    return value


def threshold_errors(text: str) -> str | None:
    """Why a check's threshold is not valid, or None: a number or a placeholder alone."""
    text = (text or "").strip()
    if not text:
        return "A Prometheus check needs a threshold to compare its value with."
    if PLACEHOLDER.fullmatch(text):
        unknown = unknown_placeholders(text)
        return f"Unknown placeholder {{{{{unknown[0]}}}}}." if unknown else None
    try:
        parse_threshold(text)
    except ValueError:
        return "Write a number, or {{retention_days}} for the service's retention days."
    return None


_COMPARE = {
    Comparison.LTE: lambda value, threshold: value <= threshold,
    Comparison.LT: lambda value, threshold: value < threshold,
    Comparison.EQ: lambda value, threshold: value == threshold,
    Comparison.GTE: lambda value, threshold: value >= threshold,
    Comparison.GT: lambda value, threshold: value > threshold,
}


def compare(value: float, comparison: str, threshold: float) -> bool:
    """Does the measured value pass? NaN never does: no data is not good data."""
    if math.isnan(value):
        return False
    return _COMPARE[comparison](value, threshold)


def comparison_text(value: float, comparison: str, threshold: float) -> str:
    sign = Comparison(comparison).label
    return f"{format_number(value)} (must be {sign} {format_number(threshold)})"


def format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def outcome_of(passed: bool) -> str:
    return Outcome.PASS if passed else Outcome.FAIL
