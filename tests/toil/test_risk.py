"""Risk scores of changes (toil.risk): the questionnaire's answers plus the services' tiers and
blast radius, with their weights in one place; and the score a change gets when written."""

import datetime as dt

import pytest
from django.utils import timezone

from services.choices import Tier
from tests.factories import ServiceFactory
from toil.actions.changes import change_create
from toil.risk import (
    BLAST_RADIUS_ABOVE,
    WEIGHTS,
    RiskAnswers,
    RiskFacts,
    assess,
    blast_radius_points,
    level_table,
    weight_table,
)

SAFE = RiskAnswers(rollback_tested=True, tested_in_staging=True)


def test_a_rehearsed_change_to_a_tier_3_service_nobody_depends_on_scores_nothing():
    assessment = assess(SAFE, RiskFacts(highest_tier=3, dependents=0))
    assert (assessment.score, assessment.level, assessment.contributions) == (0, "low", ())


def test_every_answer_adds_its_weight():
    everything = RiskAnswers(customer_facing=True, data_migration=True, outside_working_hours=True)
    assessment = assess(everything, RiskFacts(highest_tier=3, dependents=0))
    assert assessment.score == sum(WEIGHTS.values())
    assert [label for label, _ in assessment.contributions] == [
        "Customers see it",
        "Migrates data",
        "Rollback not tested",
        "Not tested in staging",
        "Outside working hours",
    ]


@pytest.mark.parametrize(
    ("answers", "tier", "dependents", "score", "level"),
    [
        (SAFE, 2, 0, 1, "low"),
        (SAFE, 1, 5, 3 + 1, "medium"),
        (RiskAnswers(customer_facing=True), 1, 0, 2 + 2 + 2 + 3, "high"),
        (
            RiskAnswers(rollback_tested=True, tested_in_staging=True, data_migration=True),
            1,
            21,
            3 + 3 + 3,
            "high",
        ),
        (RiskAnswers(tested_in_staging=True), 2, 6, 2 + 1 + 2, "medium"),
    ],
)
def test_scores_and_levels_by_hand(answers, tier, dependents, score, level):
    assessment = assess(answers, RiskFacts(highest_tier=tier, dependents=dependents))
    assert (assessment.score, assessment.level) == (score, level)


@pytest.mark.parametrize(
    ("dependents", "points"), [(0, 0), (1, 1), (5, 1), (6, 2), (20, 2), (21, BLAST_RADIUS_ABOVE)]
)
def test_the_blast_radius_bands(dependents, points):
    assert blast_radius_points(dependents) == points


def test_the_tables_on_the_change_page_state_every_weight_and_level():
    assert ("Migrates data", "3") in weight_table()
    assert ("More than 20 dependents", "3") in weight_table()
    assert level_table() == [("low", "0 to 3"), ("medium", "4 to 7"), ("high", "8 or more")]


@pytest.mark.django_db
def test_a_change_is_scored_from_the_catalog_its_tiers_and_everything_depending_on_it(
    payments, owner
):
    database = ServiceFactory(owner_team=payments, tier=Tier.TIER_2)
    api = ServiceFactory(owner_team=payments, tier=Tier.TIER_3, depends_on=[database])
    ServiceFactory(owner_team=payments, tier=Tier.TIER_3, depends_on=[api])  # transitively
    start = timezone.now() + dt.timedelta(days=1)
    change = change_create(
        author=owner,
        services=[database],
        title="Resize the database",
        category="standard",
        window_start=start,
        window_end=start + dt.timedelta(hours=1),
        time_zone="UTC",
        rollback_plan="Resize back.",
        rollback_tested=True,
        tested_in_staging=True,
    )
    # Tier 2 (1 point) and two services depending on it (1 point).
    assert (change.risk_score, change.risk_level) == (2, "low")
