"""Readiness checklists and maturity scorecards as YAML files: parsing and validation.

A checklist has the shape of production-readiness.yaml (categories → criteria)::

    checklist: production-readiness
    title: Production readiness review
    readiness_criteria:
      instrumentation:
        title: Instrumentation and observability
        criteria:
          - key: slo_defined
            title: The service has at least one SLO
            guidance: Markdown telling the team what good looks like.
            tiers: [1, 2]        # default: every tier
            required: true       # false: recommended
            check: slo_defined   # automatic; without it the team attests

A scorecard names its levels, lowest first, and its rules::

    scorecard: service-maturity
    title: Service maturity
    levels: [Bronze, Silver, Gold]
    rules:
      - check: runbook_link
        level: Bronze
        weight: 2

Pure: the callers hand in the text and the names of the known checks. Any problem raises
StandardError naming the file, the category (or level) and the key; nothing is half-read.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import yaml

from portal import safe_yaml
from services.choices import Tier

MAX_FILE_BYTES = 1024 * 1024
MAX_CRITERIA = 500
MAX_LEVELS = 10
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
ALL_TIERS = tuple(Tier.values)


class StandardError(ValueError):
    """A checklist or scorecard file the portal cannot accept."""

    def __init__(self, source: str, message: str, *, category: str = "", key: str = ""):
        self.source, self.category, self.key, self.message = source, category, key, message
        where = [source]
        if category:
            where.append(f"category “{category}”")
        if key:
            where.append(f"“{key}”")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class CriterionDocument:
    key: str
    title: str
    guidance: str
    tiers: tuple[int, ...]
    required: bool
    check: str


@dataclass(frozen=True)
class CategoryDocument:
    key: str
    title: str
    criteria: tuple[CriterionDocument, ...]


@dataclass(frozen=True)
class ChecklistDocument:
    key: str
    title: str
    description: str
    categories: tuple[CategoryDocument, ...]

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


@dataclass(frozen=True)
class RuleDocument:
    check: str
    title: str
    level: str
    weight: int


@dataclass(frozen=True)
class ScorecardDocument:
    key: str
    title: str
    description: str
    levels: tuple[str, ...]
    rules: tuple[RuleDocument, ...]

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


def _hash(data) -> str:
    # Comments, spacing and key order in the file change nothing; the content does.
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _load(source: str, text: str) -> dict:
    if len(text.encode()) > MAX_FILE_BYTES:
        raise StandardError(source, f"larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        data = safe_yaml.load(text)
    except yaml.YAMLError as error:
        raise StandardError(source, f"not valid YAML ({_yaml_problem(error)})") from error
    if not isinstance(data, dict):
        raise StandardError(source, "the file holds no mapping of fields")
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


def _only(source: str, data: Mapping, allowed: set[str], **where) -> None:
    unknown = sorted(str(name) for name in data if name not in allowed)
    if unknown:
        raise StandardError(source, f"unknown field {', '.join(unknown)}", **where)


def _text(source, data, name, *, required=False, max_length=200, **where) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise StandardError(source, f"{name} is missing", **where)
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise StandardError(source, f"{name} must be text", **where)
    value = str(value).strip()
    if required and not value:
        raise StandardError(source, f"{name} is empty", **where)
    if max_length and len(value) > max_length:
        raise StandardError(source, f"{name} is longer than {max_length} characters", **where)
    return value


def _key(source, value, what, **where) -> str:
    if not isinstance(value, str) or not KEY.match(value):
        raise StandardError(
            source,
            f"{what} “{value}” must be lowercase letters, digits, - and _ (at most 100)",
            **where,
        )
    return value


def _tiers(source, value, **where) -> tuple[int, ...]:
    if value is None:
        return ALL_TIERS
    values = value if isinstance(value, list) else [value]
    if not values:
        raise StandardError(source, "tiers is empty", **where)
    for tier in values:
        if isinstance(tier, bool) or tier not in ALL_TIERS:
            raise StandardError(source, f"unknown tier “{tier}” (tiers are 1, 2 and 3)", **where)
    return tuple(sorted(set(values)))


def _check(source, value, known_checks, **where) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in known_checks:
        raise StandardError(
            source, f"unknown check “{value}” (known: {', '.join(sorted(known_checks))})", **where
        )
    return value


def parse_checklist(source: str, text: str, *, known_checks: set[str]) -> ChecklistDocument:
    data = _load(source, text)
    _only(source, data, {"checklist", "title", "description", "readiness_criteria"})
    key = _key(source, data.get("checklist"), "checklist")
    title = _text(source, data, "title", required=True)
    description = _text(source, data, "description", max_length=5000)
    areas = data.get("readiness_criteria")
    if not isinstance(areas, dict) or not areas:
        raise StandardError(source, "readiness_criteria must map categories to their criteria")
    categories, seen, count = [], {}, 0
    for category_key, body in areas.items():
        category_key = _key(source, category_key, "category")
        where = {"category": category_key}
        if isinstance(body, list):  # the seed's short form: the category's criteria only
            body = {"criteria": body}
        if not isinstance(body, dict):
            raise StandardError(source, "a category is a mapping with title and criteria", **where)
        _only(source, body, {"title", "criteria"}, **where)
        category_title = _text(source, body, "title") or category_key.replace("_", " ").capitalize()
        items = body.get("criteria")
        if not isinstance(items, list) or not items:
            raise StandardError(source, "criteria must be a non-empty list", **where)
        criteria = []
        for item in items:
            if not isinstance(item, dict):
                raise StandardError(source, "each criterion is a mapping of fields", **where)
            criterion_key = _key(source, item.get("key"), "key", **where)
            where_item = {**where, "key": criterion_key}
            if criterion_key in seen:
                raise StandardError(
                    source,
                    f"duplicate key, first used in category “{seen[criterion_key]}”",
                    **where_item,
                )
            seen[criterion_key] = category_key
            _only(
                source,
                item,
                {"key", "title", "guidance", "tiers", "required", "check"},
                **where_item,
            )
            required = item.get("required", True)
            if not isinstance(required, bool):
                raise StandardError(source, "required must be true or false", **where_item)
            criteria.append(
                CriterionDocument(
                    key=criterion_key,
                    title=_text(source, item, "title", required=True, **where_item),
                    guidance=_text(source, item, "guidance", max_length=10000, **where_item),
                    tiers=_tiers(source, item.get("tiers"), **where_item),
                    required=required,
                    check=_check(source, item.get("check"), known_checks, **where_item),
                )
            )
            count += 1
            if count > MAX_CRITERIA:
                raise StandardError(source, f"more than {MAX_CRITERIA} criteria")
        categories.append(CategoryDocument(category_key, category_title, tuple(criteria)))
    return ChecklistDocument(key, title, description, tuple(categories))


def parse_scorecard(
    source: str, text: str, *, known_checks: set[str], check_titles: Mapping[str, str]
) -> ScorecardDocument:
    data = _load(source, text)
    _only(source, data, {"scorecard", "title", "description", "levels", "rules"})
    key = _key(source, data.get("scorecard"), "scorecard")
    title = _text(source, data, "title", required=True)
    description = _text(source, data, "description", max_length=5000)
    levels = data.get("levels")
    if not isinstance(levels, list) or not levels:
        raise StandardError(source, "levels must list the level names, lowest first")
    if len(levels) > MAX_LEVELS:
        raise StandardError(source, f"more than {MAX_LEVELS} levels")
    names = []
    for level in levels:
        if not isinstance(level, str) or not level.strip() or len(level.strip()) > 50:
            raise StandardError(source, f"level “{level}” must be a name of at most 50 characters")
        if level.strip() in names:
            raise StandardError(source, "duplicate level", category=level.strip())
        names.append(level.strip())
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise StandardError(source, "rules must be a non-empty list")
    rules, seen = [], set()
    for item in rules_data:
        if not isinstance(item, dict):
            raise StandardError(source, "each rule is a mapping of fields")
        check = item.get("check")
        level = item.get("level")
        where = {"category": str(level or ""), "key": str(check or "")}
        _only(source, item, {"check", "title", "level", "weight"}, **where)
        if not check:
            raise StandardError(source, "check is missing", **where)
        check = _check(source, check, known_checks, **where)
        if check in seen:
            raise StandardError(source, "duplicate rule for this check", **where)
        seen.add(check)
        if level not in names:
            raise StandardError(
                source, f"unknown level “{level}” (levels: {', '.join(names)})", **where
            )
        weight = item.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise StandardError(source, "weight must be a whole number from 1 to 100", **where)
        rule_title = _text(source, item, "title", **where) or check_titles.get(check, check)
        rules.append(RuleDocument(check=check, title=rule_title, level=level, weight=weight))
    return ScorecardDocument(key, title, description, tuple(names), tuple(rules))
