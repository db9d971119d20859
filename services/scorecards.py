"""Maturity scorecard rules: a service's level and score from its check results, and what it
needs for the next level. Pure: no queries.

A service's level is the highest level whose rules, and every lower level's, it passes (an
exempt rule counts as passed); rank 0 means it passes not even the first level's rules. Its
score is the share of the rules' weights it passes, 0 to 100.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.checks.registry import CheckResult

NOT_YET_RUN = CheckResult(False, "Not checked yet.")


@dataclass(frozen=True)
class Level:
    rank: int
    name: str


@dataclass(frozen=True)
class Rule:
    check: str
    title: str
    weight: int
    level_rank: int


@dataclass(frozen=True)
class RuleOutcome:
    check: str
    title: str
    weight: int
    level_rank: int
    passed: bool
    exempt: bool
    reason: str
    fix_url: str

    @property
    def counts_as_passed(self) -> bool:
        return self.passed or self.exempt

    def as_json(self) -> dict:
        return {
            "check": self.check,
            "title": self.title,
            "weight": self.weight,
            "level_rank": self.level_rank,
            "passed": self.passed,
            "exempt": self.exempt,
            "reason": self.reason,
            "fix_url": self.fix_url,
        }


@dataclass(frozen=True)
class Evaluation:
    level_rank: int
    score: int
    outcomes: tuple[RuleOutcome, ...]

    @property
    def failing(self) -> list[str]:
        return [outcome.check for outcome in self.outcomes if not outcome.counts_as_passed]


def level_rank(levels: Sequence[Level], outcomes: Iterable[RuleOutcome]) -> int:
    """The highest rank whose rules and every lower rank's all count as passed."""
    failing_ranks = {outcome.level_rank for outcome in outcomes if not outcome.counts_as_passed}
    reached = 0
    for level in sorted(levels, key=lambda level: level.rank):
        if level.rank in failing_ranks:
            break
        reached = level.rank
    return reached


def score(outcomes: Iterable[RuleOutcome]) -> int:
    """0 to 100: the passed share of the rules' weights (100 for a scorecard without rules)."""
    total = passed = 0
    for outcome in outcomes:
        total += outcome.weight
        passed += outcome.weight if outcome.counts_as_passed else 0
    return round(100 * passed / total) if total else 100


def evaluate(
    levels: Sequence[Level],
    rules: Sequence[Rule],
    results: Mapping[str, CheckResult],
    exempt: frozenset[str] | set[str] = frozenset(),
) -> Evaluation:
    outcomes = []
    for rule in rules:
        result = results.get(rule.check, NOT_YET_RUN)
        outcomes.append(
            RuleOutcome(
                check=rule.check,
                title=rule.title,
                weight=rule.weight,
                level_rank=rule.level_rank,
                passed=result.passed,
                exempt=not result.passed and rule.check in exempt,
                reason=result.reason,
                fix_url=result.fix_url,
            )
        )
    return Evaluation(level_rank(levels, outcomes), score(outcomes), tuple(outcomes))


def next_steps(levels: Sequence[Level], level_rank: int, outcomes: Iterable[dict]) -> tuple:
    """The next level above ``level_rank`` and the failing rules (stored outcomes) that stand
    between the service and it: those of that level and below. (None, []) at the top."""
    above = [
        level for level in sorted(levels, key=lambda level: level.rank) if level.rank > level_rank
    ]
    if not above:
        return None, []
    return above[0], lacking_for(above[0].rank, outcomes)


def lacking_for(target_rank: int, outcomes: Iterable[dict]) -> list[dict]:
    """The failing rules (stored outcomes) at ``target_rank`` or below."""
    return [
        outcome
        for outcome in outcomes
        if outcome["level_rank"] <= target_rank and not (outcome["passed"] or outcome["exempt"])
    ]
