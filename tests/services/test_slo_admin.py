"""The SLO admin pages: SLOs with maintenance windows and history, read-only snapshots,
budget policies with their tiers; open to SRE leads only, and cheap to list."""

from datetime import UTC, datetime

import pytest

from services.models.slos import BudgetPolicy, DirtySLO, MaintenanceWindow
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


# --- Writes go through the actions ------------------------------------------------------


def slo_form(slo, **changes) -> dict:
    """The SLO change form as the admin posts it, with its maintenance windows inline."""
    data = {
        "service": slo.service_id,
        "name": slo.name,
        "slug": slo.slug,
        "description": "",
        "sli_kind": slo.sli_kind,
        "objective": "99.9",
        "window_kind": "rolling",
        "window_days": "30",
        "time_zone": "UTC",
        "budgeting_method": "occurrences",
        "slice_minutes": "",
        "slice_target": "",
        "source": "prometheus",
        "query_kind": "good_total",
        "events_query": slo.events_query,
        "total_query": slo.total_query,
        "labels": "{}",
        "budget_policy": "",
        "maintenance_windows-TOTAL_FORMS": "0",
        "maintenance_windows-INITIAL_FORMS": "0",
        "maintenance_windows-MIN_NUM_FORMS": "0",
        "maintenance_windows-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_saving_an_slo_in_the_admin_recomputes_it_and_records_who_changed_it(
    service, sre_lead, client_for, django_capture_on_commit_callbacks
):
    slo = make_slo(service, name="Checkout availability", slug="checkout")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(sre_lead).post(
            f"/admin/services/slo/{slo.pk}/change/", slo_form(slo, objective="99.5")
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    slo.refresh_from_db()
    assert str(slo.objective) == "99.5000"
    assert DirtySLO.objects.filter(slo=slo).exists()
    # The rings for its recompute and for its service's checks (which read its SLOs).
    assert [callback.args[0].name for callback in callbacks] == [
        "services.tasks.recompute_dirty_slos",
        "services.tasks.recompute_dirty_checks",
    ]
    assert slo.history.first().history_user == sre_lead


def test_a_maintenance_window_planned_in_the_admin_recomputes_its_slo(
    service, sre_lead, client_for
):
    slo = make_slo(service, name="Checkout availability", slug="checkout")
    data = slo_form(
        slo,
        **{
            "maintenance_windows-TOTAL_FORMS": "1",
            "maintenance_windows-0-start_0": "2026-11-01",
            "maintenance_windows-0-start_1": "02:00:00",
            "maintenance_windows-0-end_0": "2026-11-01",
            "maintenance_windows-0-end_1": "03:00:00",
            "maintenance_windows-0-reason": "Database upgrade",
        },
    )
    response = client_for(sre_lead).post(f"/admin/services/slo/{slo.pk}/change/", data)
    assert response.status_code == 302
    assert slo.maintenance_windows.get().reason == "Database upgrade"
    assert DirtySLO.objects.filter(slo=slo).exists()


def policy_form(*tiers, **fields) -> dict:
    data = {
        "name": "Strict",
        "slug": "strict",
        "description": "",
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": "0",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for number, (name, floor, rule) in enumerate(tiers):
        data |= {
            f"tiers-{number}-name": name,
            f"tiers-{number}-min_remaining": floor,
            f"tiers-{number}-min_included": "on",
            f"tiers-{number}-change_rule": rule,
            f"tiers-{number}-description": "",
        }
    return data


def test_the_admin_refuses_a_policy_whose_tiers_all_have_floors(sre_lead, client_for):
    response = client_for(sre_lead).post(
        "/admin/services/budgetpolicy/add/",
        policy_form(("open", "0.5", "allow"), ("closed", "0.1", "freeze")),
    )
    assert response.status_code == 200
    assert "Exactly one tier, the bottom one, has no floor." in response.content.decode()
    assert not BudgetPolicy.objects.filter(slug="strict").exists()


def test_the_admin_refuses_two_tiers_with_one_floor(sre_lead, client_for):
    response = client_for(sre_lead).post(
        "/admin/services/budgetpolicy/add/",
        policy_form(("open", "0.5", "allow"), ("shut", "0.5", "freeze"), ("low", "", "freeze")),
    )
    assert response.status_code == 200
    assert "Please correct the duplicate data for min_remaining." in response.content.decode()
    assert not BudgetPolicy.objects.filter(slug="strict").exists()


def test_making_another_policy_the_default_in_the_admin_takes_it_from_the_previous_one(
    service, sre_lead, client_for
):
    slo = make_slo(service, name="Checkout availability", slug="checkout")
    previous = BudgetPolicy.objects.get(is_default=True)
    response = client_for(sre_lead).post(
        "/admin/services/budgetpolicy/add/",
        policy_form(("open", "0.5", "allow"), ("closed", "", "freeze"), is_default="on"),
    )
    assert response.status_code == 302
    strict = BudgetPolicy.objects.get(is_default=True)
    assert [tier.name for tier in strict.tiers.all()] == ["open", "closed"]
    previous.refresh_from_db()
    assert not previous.is_default
    assert previous.history.first().is_default is False
    assert strict.history.first().history_user == sre_lead
    # Every SLO following the default now follows another policy: recomputed.
    assert DirtySLO.objects.filter(slo=slo).exists()
