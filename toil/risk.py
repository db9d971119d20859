"""How risky a change is: the answers of a short questionnaire plus what the portal knows of
the services it touches (their tiers, and how many services depend on them). Pure: the caller
gathers the facts (toil.selectors.risk.change_risk_facts).

Every weight is in WEIGHTS and every band in LEVELS, and the change page shows both, so that
people can see why a change scored what it did.
"""

from dataclasses import dataclass

#: Points per answer or fact. Answers that lower the risk ("rollback tested", "tested in
#: staging") score when they are *not* given.
WEIGHTS = {
    "customer_facing": 2,
    "data_migration": 3,
    "rollback_untested": 2,
    "untested_in_staging": 2,
    "outside_working_hours": 1,
}

#: Points for the most critical service the change touches, by tier.
TIER_POINTS = {1: 3, 2: 1, 3: 0}

#: Points for the blast radius: services that depend on the changed ones, transitively.
#: (the most dependents counted, points); the first band that holds the count applies.
BLAST_RADIUS_POINTS = ((0, 0), (5, 1), (20, 2))
BLAST_RADIUS_ABOVE = 3

#: (highest score, level): the first band that holds the score applies.
LEVELS = ((3, "low"), (7, "medium"))
HIGHEST_LEVEL = "high"

LABELS = {
    "customer_facing": "Customers see it",
    "data_migration": "Migrates data",
    "rollback_untested": "Rollback not tested",
    "untested_in_staging": "Not tested in staging",
    "outside_working_hours": "Outside working hours",
    "tier": "Most critical service's tier",
    "blast_radius": "Services depending on them",
}


@dataclass(frozen=True)
class RiskAnswers:
    customer_facing: bool = False
    data_migration: bool = False
    rollback_tested: bool = False
    tested_in_staging: bool = False
    outside_working_hours: bool = False


@dataclass(frozen=True)
class RiskFacts:
    """What the portal knows: the best (lowest) tier among the services, None without
    services, and how many other services depend on them, directly or not."""

    highest_tier: int | None
    dependents: int


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    level: str
    #: (label, points) of each contribution, in the order of WEIGHTS, then tier and radius.
    contributions: tuple[tuple[str, int], ...]


def blast_radius_points(dependents: int) -> int:
    for most, points in BLAST_RADIUS_POINTS:
        if dependents <= most:
            return points
    return BLAST_RADIUS_ABOVE


def level_of(score: int) -> str:
    for highest, level in LEVELS:
        if score <= highest:
            return level
    return HIGHEST_LEVEL


def assess(answers: RiskAnswers, facts: RiskFacts) -> RiskAssessment:
    flags = {
        "customer_facing": answers.customer_facing,
        "data_migration": answers.data_migration,
        "rollback_untested": not answers.rollback_tested,
        "untested_in_staging": not answers.tested_in_staging,
        "outside_working_hours": answers.outside_working_hours,
    }
    contributions = [(LABELS[name], WEIGHTS[name]) for name, on in flags.items() if on]
    tier_points = TIER_POINTS.get(facts.highest_tier, 0) if facts.highest_tier else 0
    if tier_points:
        contributions.append((f"{LABELS['tier']}: tier {facts.highest_tier}", tier_points))
    radius = blast_radius_points(facts.dependents)
    if radius:
        contributions.append((f"{LABELS['blast_radius']}: {facts.dependents}", radius))
    score = sum(points for _, points in contributions)
    return RiskAssessment(score=score, level=level_of(score), contributions=tuple(contributions))


def weight_table() -> list[tuple[str, str]]:
    """Every rule of the score as (what, points), for the change page."""
    rows = [(LABELS[name], str(points)) for name, points in WEIGHTS.items()]
    rows += [(f"Tier {tier} service", str(points)) for tier, points in TIER_POINTS.items()]
    low = 0
    for most, points in BLAST_RADIUS_POINTS:
        label = "No dependents" if most == 0 else f"{low} to {most} dependents"
        rows.append((label, str(points)))
        low = most + 1
    rows.append((f"More than {BLAST_RADIUS_POINTS[-1][0]} dependents", str(BLAST_RADIUS_ABOVE)))
    return rows


def level_table() -> list[tuple[str, str]]:
    rows, low = [], 0
    for highest, level in LEVELS:
        rows.append((level, f"{low} to {highest}"))
        low = highest + 1
    rows.append((HIGHEST_LEVEL, f"{low} or more"))
    return rows
