"""Records of every kind the API has, for tests that go over every endpoint."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from services.actions.readiness import review_request
from services.actions.scorecards import campaign_create, exemption_request
from services.models.slos import SLO, BudgetPolicy
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    TimelineEntryFactory,
)
from tests.toil.change_factories import CHANGE_MODELS, change_records
from tests.toil.factories import ToilEntryFactory, ToilItemFactory


@pytest.fixture
def one_of_each(service, owner, teammate):
    """One record of each kind, keyed by the path segment the API names it with."""
    slo = SLO.objects.create(
        service=service,
        name="Availability",
        slug="availability",
        objective=Decimal("99.5"),
        window_days=7,
        events_query='sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
        total_query="sum(rate(http_requests_total[{{.window}}]))",
    )
    incident = IncidentFactory(services=[service], commander=owner)
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]), author=owner)
    review = review_request(service=service, by=owner)
    return {
        "readiness-reviews": review,
        "review-item": review.items.first(),
        "exemptions": exemption_request(
            service=service,
            scorecard_key="service-maturity",
            check_name="runbook_link",
            reason="The runbook moves to the new wiki next month.",
            expires_on=date.today() + timedelta(days=30),
            by=owner,
        ),
        "campaigns": campaign_create(
            name="Tier 1 at Silver",
            slug="tier-1-at-silver",
            scorecard_key="service-maturity",
            target_level="Silver",
            tiers=[1],
            due_on=date.today() + timedelta(days=90),
        ),
        "teams": service.owner_team,
        "memberships": owner.memberships.get(),
        "services": service,
        "slos": slo,
        "budget-policies": BudgetPolicy.objects.first(),
        "incidents": incident,
        "postmortems": postmortem,
        "action-items": ActionItemFactory(postmortem=postmortem, owner=teammate),
        "timeline": TimelineEntryFactory(incident=incident, author=owner),
        **{
            kind: model.objects.get(pk=pk)
            for (kind, pk), model in zip(
                change_records(service, owner, incident).items(), CHANGE_MODELS, strict=True
            )
        },
        "toil-items": ToilItemFactory(team=service.owner_team),
        "toil-entries": ToilEntryFactory(item=ToilItemFactory(team=service.owner_team), user=owner),
        "compliance-checks": ComplianceCheck.objects.get(slug="data-retention"),
        "compliance-findings": ComplianceFinding.objects.create(
            compliance_check=ComplianceCheck.objects.get(slug="data-retention"),
            service=service,
            team=service.owner_team,
            severity="high",
            opened_at=incident.started_at,
            due_date=incident.started_at.date(),
        ),
    }
