"""Reads of the catalog around a change: the facts its risk is scored from (toil.risk), in one
query."""

from services.selectors import catalog as catalog_selectors
from toil import risk
from toil.models.changes import ChangeRequest


def change_risk_facts(services) -> risk.RiskFacts:
    """The best tier among the services and how many services depend on them: one query."""
    services = list(services)
    if not services:
        return risk.RiskFacts(highest_tier=None, dependents=0)
    ids = [service.pk for service in services]
    dependents = catalog_selectors.service_dependency_closure(ids, direction="dependents")
    reached = set().union(*dependents.values()) - set(ids)
    return risk.RiskFacts(
        highest_tier=min(service.tier for service in services), dependents=len(reached)
    )


def change_risk(change: ChangeRequest, services) -> risk.RiskAssessment:
    answers = risk.RiskAnswers(
        customer_facing=change.customer_facing,
        data_migration=change.data_migration,
        rollback_tested=change.rollback_tested,
        tested_in_staging=change.tested_in_staging,
        outside_working_hours=change.outside_working_hours,
    )
    return risk.assess(answers, change_risk_facts(services))
