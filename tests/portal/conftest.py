"""Records of every kind the API has, for tests that go over every endpoint."""

from decimal import Decimal

import pytest

from services.models.slos import SLO, BudgetPolicy
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    TimelineEntryFactory,
)
from tests.toil.change_factories import CHANGE_MODELS, change_records


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
    return {
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
    }
