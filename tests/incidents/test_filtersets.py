"""The incident list's FilterSet: status, open, severity, service, team, start dates,
search, sorting, and bad values refused rather than ignored."""

import datetime as dt

import pytest

from incidents.choices import IncidentStatus, Severity
from incidents.filters.incidents import IncidentFilterSet
from incidents.selectors.incidents import incident_list
from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def day(number, hour=12):
    return dt.datetime(2026, 3, number, hour, tzinfo=dt.UTC)


def references(params):
    filterset = IncidentFilterSet(params, queryset=incident_list())
    assert filterset.is_valid(), filterset.errors
    return [incident.reference for incident in filterset.qs]


@pytest.fixture
def incidents(service, search_team):
    """Payments: an open SEV1 (day 3) and a resolved SEV3 (day 5); search: an open SEV2
    that also hit the payments service (day 4) and a closed SEV4 (day 1)."""
    search = ServiceFactory(name="Search index", slug="search-index", owner_team=search_team)
    return {
        "payments_open": IncidentFactory(
            title="Card payments fail",
            severity=Severity.SEV1,
            started_at=day(3),
            services=[service],
        ),
        "payments_resolved": IncidentFactory(
            title="Refunds slow",
            severity=Severity.SEV3,
            status=IncidentStatus.RESOLVED,
            started_at=day(5),
            mitigated_at=day(5, 13),
            resolved_at=day(5, 14),
            services=[service],
        ),
        "search_open": IncidentFactory(
            title="Search down",
            summary="Checkout search fails too",
            severity=Severity.SEV2,
            status=IncidentStatus.MONITORING,
            started_at=day(4),
            mitigated_at=day(4, 13),
            services=[search, service],
        ),
        "search_closed": IncidentFactory(
            title="Index lag",
            severity=Severity.SEV4,
            status=IncidentStatus.CLOSED,
            started_at=day(1),
            mitigated_at=day(1, 13),
            resolved_at=day(1, 14),
            closed_at=day(2),
            services=[search],
        ),
    }


def refs(incidents, *names):
    return [incidents[name].reference for name in names]


def test_without_filters_open_incidents_come_first_then_the_most_recent(incidents):
    assert references({}) == refs(
        incidents, "search_open", "payments_open", "payments_resolved", "search_closed"
    )


def test_status_takes_several_values(incidents):
    assert references({"status": ["resolved", "closed"]}) == refs(
        incidents, "payments_resolved", "search_closed"
    )


def test_open_and_not_open(incidents):
    assert references({"open": "true"}) == refs(incidents, "search_open", "payments_open")
    assert references({"open": "false"}) == refs(incidents, "payments_resolved", "search_closed")


def test_severity(incidents):
    assert references({"severity": ["SEV1", "SEV4"]}) == refs(
        incidents, "payments_open", "search_closed"
    )


def test_service_matches_any_affected_service_once(incidents, service):
    assert references({"service": [service.slug]}) == refs(
        incidents, "search_open", "payments_open", "payments_resolved"
    )


def test_team_matches_the_owning_team_or_an_affected_services_team(incidents):
    assert references({"team": ["payments"]}) == refs(
        incidents, "search_open", "payments_open", "payments_resolved"
    )
    assert references({"team": ["search"]}) == refs(incidents, "search_open", "search_closed")


def test_start_dates_are_inclusive_days(incidents):
    assert references({"started_after": "2026-03-03", "started_before": "2026-03-04"}) == refs(
        incidents, "search_open", "payments_open"
    )


def test_search_looks_at_reference_title_and_summary(incidents):
    assert references({"q": "checkout"}) == refs(incidents, "search_open")
    assert references({"q": "  "}) == references({})
    reference = incidents["search_closed"].reference
    assert references({"q": reference.lower()}) == [reference]


def test_sorting_replaces_the_open_first_order(incidents):
    assert references({"ordering": "severity"}) == refs(
        incidents, "payments_open", "search_open", "payments_resolved", "search_closed"
    )
    assert references({"ordering": "-started"})[0] == incidents["payments_resolved"].reference


@pytest.mark.parametrize(
    "params",
    [
        {"status": "exploded"},
        {"severity": "SEV0"},
        {"service": "no-such-service"},
        {"team": "no-such-team"},
        {"started_after": "yesterday"},
        {"ordering": "password"},
    ],
)
def test_bad_values_are_errors_not_ignored(incidents, params):
    assert not IncidentFilterSet(params, queryset=incident_list()).is_valid()
