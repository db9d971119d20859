"""The SLO admin pages: SLOs with maintenance windows and history, read-only snapshots,
budget policies with their tiers; open to SRE leads only, and cheap to list."""

from datetime import UTC, datetime

import pytest

from services.models.slos import BudgetPolicy, MaintenanceWindow
from tests.factories import ServiceFactory
from tests.services.slo_data import make_slo, make_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def slo(service):
    slo = make_slo(service, name="Checkout availability", slug="checkout")
    make_status(slo)
    MaintenanceWindow.objects.create(
        slo=slo,
        start=datetime(2026, 11, 1, 2, tzinfo=UTC),
        end=datetime(2026, 11, 1, 3, tzinfo=UTC),
        reason="Database upgrade",
    )
    return slo


def test_an_sre_lead_lists_slos_with_their_snapshot_figures(slo, sre_lead, client_for):
    response = client_for(sre_lead).get("/admin/services/slo/")
    content = response.content.decode()
    assert "Checkout availability" in content
    assert "42.0 %" in content
    assert "caution" in content


def test_the_slo_change_page_shows_its_maintenance_windows_and_history(slo, sre_lead, client_for):
    client = client_for(sre_lead)
    change = client.get(f"/admin/services/slo/{slo.pk}/change/")
    assert "Database upgrade" in change.content.decode()
    assert client.get(f"/admin/services/slo/{slo.pk}/history/").status_code == 200
    assert client.get("/admin/services/slo/add/").status_code == 200


def test_an_sre_lead_reads_snapshots_but_cannot_add_change_or_delete_them(
    slo, sre_lead, client_for
):
    client = client_for(sre_lead)
    listing = client.get("/admin/services/slostatus/")
    assert "Checkout availability" in listing.content.decode()
    assert client.get("/admin/services/slostatus/add/").status_code == 403
    detail = client.get(f"/admin/services/slostatus/{slo.pk}/change/")
    assert detail.status_code == 200
    assert 'type="submit"' not in detail.content.decode().split('id="content-main"')[1]
    assert client.post(f"/admin/services/slostatus/{slo.pk}/delete/").status_code == 403


def test_budget_policies_are_listed_with_their_tiers_and_edited_inline(sre_lead, client_for):
    policy = BudgetPolicy.objects.get(is_default=True)
    client = client_for(sre_lead)
    listing = client.get("/admin/services/budgetpolicy/")
    assert "healthy, caution, frozen" in listing.content.decode()
    change = client.get(f"/admin/services/budgetpolicy/{policy.pk}/change/")
    assert 'name="tiers-0-name"' in change.content.decode()


@pytest.mark.parametrize("who", ["owner", "viewer"])
@pytest.mark.parametrize("page", ["slo", "slostatus", "budgetpolicy"])
def test_engineers_and_viewers_are_sent_to_the_admin_login(who, page, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(f"/admin/services/{page}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("count", [3, 30])
def test_the_slo_admin_list_costs_the_same_queries_for_3_or_30_slos(
    payments, sre_lead, client_for, django_assert_max_num_queries, count
):
    services = [ServiceFactory(owner_team=payments) for _ in range(3)]
    for number in range(count):
        make_status(make_slo(services[number % 3], number))
    client = client_for(sre_lead)
    with django_assert_max_num_queries(12):
        response = client.get("/admin/services/slo/")
    assert f"{count} SLOs" in response.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_the_snapshot_admin_list_costs_the_same_queries_for_3_or_30_slos(
    payments, sre_lead, client_for, django_assert_max_num_queries, count
):
    service = ServiceFactory(owner_team=payments)
    for number in range(count):
        make_status(make_slo(service, number))
    client = client_for(sre_lead)
    with django_assert_max_num_queries(12):
        response = client.get("/admin/services/slostatus/")
    assert f"{count} SLO statuses" in response.content.decode()
