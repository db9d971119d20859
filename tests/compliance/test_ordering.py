"""The compliance lists sort as every list of the portal does: names whatever their case
("Alpha", "beta", "Charlie"), in both directions, and ties broken the same way every time, on
the pages and in the API (which share their FilterSets)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import Outcome
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult
from tests.compliance.conftest import make_check
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
# Made in this order; byte order (the C collation) would put "Charlie" before "beta".
NAMES = ["beta", "Alpha", "Charlie"]
SORTED = ["Alpha", "beta", "Charlie"]


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


def personal_data_service(name, team):
    return ServiceFactory(
        name=name,
        slug=name.lower().replace(" ", "-"),
        owner_team=team,
        handles_personal_data=True,
        data_retention_days=30,
    )


@pytest.fixture
def checks(db):
    """Only the test's checks, made in the order beta, Alpha, Charlie."""
    ComplianceCheck.objects.all().delete()
    return [make_check(name=name, slug=f"{name.lower()}-check") for name in NAMES]


@pytest.fixture
def findings(payments):
    """A finding of the data-retention check on each of beta, Alpha and Charlie, made in that
    order, due in 10, 5 and 20 days."""
    check = ComplianceCheck.objects.get(slug="data-retention")
    return [
        ComplianceFinding.objects.create(
            compliance_check=check,
            service=personal_data_service(name, payments),
            team=payments,
            severity="high",
            opened_at=NOW - timedelta(days=1),
            due_date=(NOW + timedelta(days=due_in_days)).date(),
        )
        for name, due_in_days in zip(NAMES, [10, 5, 20], strict=True)
    ]


def page_names(client, path, ordering, name=lambda row: row.name):
    response = client.get(path, {"ordering": ordering})
    assert response.status_code == 200
    return [name(row) for row in response.context["page_obj"]]


def api_rows(api, path, ordering):
    response = api.get(path, {"ordering": ordering})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_checks_sort_by_name_whatever_the_case_in_both_directions_on_the_page_and_in_the_api(
    checks, client_for, api_client_for, viewer
):
    client, api = client_for(viewer), api_client_for(viewer)
    for ordering, expected in (("name", SORTED), ("-name", SORTED[::-1])):
        assert page_names(client, "/compliance/checks/", ordering) == expected
        rows = api_rows(api, "/api/compliance-checks/", ordering)
        assert [row["name"] for row in rows] == expected


def test_checks_are_listed_by_name_whatever_the_case_when_unsorted(
    checks, client_for, api_client_for, viewer
):
    assert list(client_for(viewer).get("/compliance/checks/").context["page_obj"]) == [
        checks[1],
        checks[0],
        checks[2],
    ]
    rows = api_client_for(viewer).get("/api/compliance-checks/").json()["results"]
    assert [row["name"] for row in rows] == SORTED


def test_checks_of_the_same_kind_are_ordered_by_name_whatever_the_case(
    checks, client_for, api_client_for, viewer
):
    for ordering in ("kind", "-kind", "frequency"):
        assert page_names(client_for(viewer), "/compliance/checks/", ordering) == SORTED
        rows = api_rows(api_client_for(viewer), "/api/compliance-checks/", ordering)
        assert [row["name"] for row in rows] == SORTED


def test_checks_whose_names_differ_only_in_case_keep_the_order_they_were_made_in(
    checks, client_for, viewer
):
    make_check(name="alpha", slug="alpha-lower-check")
    names = page_names(client_for(viewer), "/compliance/checks/", "name")
    assert names == ["Alpha", "alpha", "beta", "Charlie"]
    names = page_names(client_for(viewer), "/compliance/checks/", "-name")
    assert names == ["Charlie", "beta", "Alpha", "alpha"]


def test_the_matrix_sorts_services_by_name_whatever_the_case_in_both_directions(
    checks, client_for, viewer, payments
):
    for name in NAMES:
        personal_data_service(name, payments)
    compliance_statuses_sync(now=NOW)
    client = client_for(viewer)
    assert page_names(client, "/compliance/", "service") == SORTED
    assert page_names(client, "/compliance/", "-service") == SORTED[::-1]
    # Unsorted: rows and check columns by name whatever the case.
    response = client.get("/compliance/")
    assert [service.name for service in response.context["page_obj"]] == SORTED
    assert [check.name for check in response.context["checks"]] == SORTED


def test_the_matrix_sorts_by_team_whatever_the_case_and_then_by_service_name(client_for, viewer):
    beta, alpha = TeamFactory(name="Beta"), TeamFactory(name="alpha")
    for name, team in (("zeta", beta), ("Eta", beta), ("omega", alpha)):
        personal_data_service(name, team)
    compliance_statuses_sync(now=NOW)
    client = client_for(viewer)
    assert page_names(client, "/compliance/", "team") == ["omega", "Eta", "zeta"]
    assert page_names(client, "/compliance/", "-team") == ["Eta", "zeta", "omega"]


def test_findings_sort_by_service_whatever_the_case_in_both_directions_on_the_page_and_in_the_api(
    findings, client_for, api_client_for, viewer
):
    client, api = client_for(viewer), api_client_for(viewer)
    slugs = {name.lower(): name for name in NAMES}
    for ordering, expected in (("service", SORTED), ("-service", SORTED[::-1])):
        names = page_names(client, "/compliance/findings/", ordering, lambda f: f.service.name)
        assert names == expected
        rows = api_rows(api, "/api/compliance-findings/", ordering)
        assert [slugs[row["service"]] for row in rows] == expected


def test_findings_of_the_same_status_are_ordered_soonest_due_first(
    findings, client_for, api_client_for, viewer
):
    expected = [findings[1].pk, findings[0].pk, findings[2].pk]
    for ordering in ("status", "-status", "severity"):
        pks = page_names(client_for(viewer), "/compliance/findings/", ordering, lambda f: f.pk)
        assert pks == expected
        rows = api_rows(api_client_for(viewer), "/api/compliance-findings/", ordering)
        assert [row["id"] for row in rows] == expected


def test_results_of_the_same_outcome_are_ordered_newest_first(
    client_for, api_client_for, viewer, payments
):
    service = personal_data_service("Ledger", payments)
    check = ComplianceCheck.objects.get(slug="data-retention")
    results = [
        ComplianceResult.objects.create(
            compliance_check=check,
            service=service,
            outcome=Outcome.PASS,
            started_at=NOW - timedelta(hours=hours_ago),
            checked_at=NOW - timedelta(hours=hours_ago),
        )
        for hours_ago in (1, 3, 2)
    ]
    expected = [results[0].pk, results[2].pk, results[1].pk]
    for ordering in ("outcome", "-outcome"):
        pks = page_names(
            client_for(viewer), "/compliance/checks/data-retention/", ordering, lambda r: r.pk
        )
        assert pks == expected
        rows = api_rows(api_client_for(viewer), "/api/compliance-results/", ordering)
        assert [row["id"] for row in rows] == expected
