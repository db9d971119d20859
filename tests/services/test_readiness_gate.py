"""The readiness gate: a tier-1 or tier-2 service moves (or is created) into production only
with an approved, unexpired review, through the UI, the API and the admin alike; an SRE lead
may override it with a reason kept in the service's history; a Backstage import records what
the catalog says; and every tier-1/2 service in production without a valid review shows so."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains

from services.actions.catalog import service_create, service_update
from services.actions.scorecards import checks_recompute
from services.backstage.importer import import_sources
from services.backstage.sources import Source
from services.choices import Lifecycle, Tier
from services.models.catalog import Service
from services.readiness import GATE_REFUSAL, OVERRIDE_PREFIX, PRR_REVIEWERS_GROUP
from services.selectors.readiness import production_without_review
from tests.factories import ServiceFactory, UserFactory
from tests.services.readiness_data import approved_review

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reviewer(db):
    user = UserFactory(username="rita", first_name="Rita", last_name="Reviewer")
    Group.objects.get_or_create(name=PRR_REVIEWERS_GROUP)[0].user_set.add(user)
    return user


@pytest.fixture
def experimental(payments, owner):
    return ServiceFactory(
        name="Ledger", slug="ledger", owner_team=payments, tier=Tier.TIER_1,
        lifecycle=Lifecycle.EXPERIMENTAL,
    )  # fmt: skip


def edit_data(service, **changes):
    data = {
        "name": service.name,
        "slug": service.slug,
        "owner_team": service.owner_team_id,
        "tier": service.tier,
        "lifecycle": Lifecycle.PRODUCTION,
        "description": service.description,
        "tags": "",
        "data_retention_days": "",
    }
    return data | changes


# --- the actions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [Tier.TIER_1, Tier.TIER_2])
def test_a_tier_1_or_2_service_cannot_enter_production_without_a_review(payments, owner, tier):
    service = ServiceFactory(owner_team=payments, tier=tier, lifecycle=Lifecycle.EXPERIMENTAL)

    with pytest.raises(ValidationError) as refused:
        service_update(service=service, lifecycle=Lifecycle.PRODUCTION, by=owner)
    with pytest.raises(ValidationError):
        service_create(
            name="New", slug="new", owner_team=payments, tier=tier, lifecycle="production"
        )

    assert refused.value.message_dict == {"lifecycle": [GATE_REFUSAL]}
    service.refresh_from_db()
    assert service.lifecycle == Lifecycle.EXPERIMENTAL
    assert not Service.objects.filter(slug="new").exists()


def test_a_tier_3_service_and_other_changes_to_production_services_pass(payments, owner, service):
    service_create(name="Tool", slug="tool", owner_team=payments, tier=3, lifecycle="production")
    service_update(service=service, description="Still in production.", by=owner)

    assert Service.objects.get(slug="tool").lifecycle == Lifecycle.PRODUCTION


def test_an_approved_unexpired_review_opens_the_gate(experimental, owner, reviewer):
    approved_review(experimental, engineer=owner, reviewer=reviewer, waive_until=date(2026, 9, 1))

    service_update(service=experimental, lifecycle=Lifecycle.PRODUCTION, by=owner)

    experimental.refresh_from_db()
    assert experimental.lifecycle == Lifecycle.PRODUCTION


def test_an_expired_waiver_closes_the_gate_again(experimental, owner, reviewer, frozen_time):
    approved_review(experimental, engineer=owner, reviewer=reviewer, waive_until=date(2026, 3, 10))
    frozen_time.move_to(datetime(2026, 3, 11, 9, tzinfo=UTC))

    with pytest.raises(ValidationError, match="readiness review"):
        service_update(service=experimental, lifecycle=Lifecycle.PRODUCTION, by=owner)


def test_an_sre_lead_overrides_the_gate_with_a_reason_kept_in_the_history(experimental, sre_lead):
    service_update(
        service=experimental,
        lifecycle=Lifecycle.PRODUCTION,
        by=sre_lead,
        readiness_override="Launch agreed with the CTO; review booked for next week.",
    )

    record = experimental.history.latest()
    assert record.history_change_reason == (
        f"{OVERRIDE_PREFIX}, overridden by Sasha Lead: Launch agreed with the CTO; review "
        "booked for next week."
    )
    assert list(production_without_review(NOW)) == [experimental]


def test_an_engineer_cannot_override_the_gate(experimental, owner):
    with pytest.raises(ValidationError) as refused:
        service_update(
            service=experimental, lifecycle=Lifecycle.PRODUCTION, by=owner, readiness_override="Me."
        )

    assert refused.value.message_dict == {
        "readiness_override": ["Only an SRE lead overrides the readiness gate."]
    }


# --- the UI ---------------------------------------------------------------------------------------


def test_the_form_shows_the_gates_refusal_on_the_lifecycle(client_for, owner, experimental):
    response = client_for(owner).post(
        reverse("service_edit", args=[experimental.slug]), edit_data(experimental)
    )

    assert response.status_code == 200
    assertContains(response, "moves into production only with an approved, unexpired readiness")
    assert "readiness_override" not in response.context["form"].fields  # SRE leads only
    experimental.refresh_from_db()
    assert experimental.lifecycle == Lifecycle.EXPERIMENTAL


def test_an_sre_lead_overrides_in_the_form_and_the_page_says_so(client_for, sre_lead, experimental):
    client = client_for(sre_lead)

    response = client.post(
        reverse("service_edit", args=[experimental.slug]),
        edit_data(experimental, readiness_override="Agreed launch."),
    )
    page = client.get(experimental.get_absolute_url())

    assert response.status_code == 302
    assertContains(page, "In production without a readiness review")
    assertContains(page, "overridden by Sasha Lead: Agreed launch.")


# --- the API --------------------------------------------------------------------------------------


def test_the_api_answers_400_naming_the_lifecycle(api_client_for, owner, experimental):
    response = api_client_for(owner).patch(
        f"/api/services/{experimental.pk}/", {"lifecycle": "production"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"lifecycle": [GATE_REFUSAL]}


def test_an_sre_lead_overrides_through_the_api(api_client_for, sre_lead, experimental):
    response = api_client_for(sre_lead).patch(
        f"/api/services/{experimental.pk}/",
        {"lifecycle": "production", "readiness_override": "Agreed launch."},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["readiness"], body["in_production_without_review"]) == ("never_reviewed", True)
    assert "readiness_override" not in body
    assert experimental.history.latest().history_change_reason.endswith("Agreed launch.")


def test_the_services_api_says_which_services_are_in_production_without_a_review(
    api_client_for, viewer, service, experimental, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = api_client_for(viewer).get("/api/services/")
    flags = {
        item["slug"]: item["in_production_without_review"] for item in response.json()["results"]
    }
    filtered = api_client_for(viewer).get("/api/services/", {"unreviewed_in_production": "true"})

    assert flags == {"payments-api": True, "ledger": False}
    assert [item["slug"] for item in filtered.json()["results"]] == ["payments-api"]


# --- the admin ------------------------------------------------------------------------------------


def admin_data(service, **changes):
    data = {
        "name": service.name,
        "slug": service.slug,
        "description": service.description,
        "owner_team": service.owner_team_id,
        "tier": service.tier,
        "lifecycle": Lifecycle.PRODUCTION,
        "kind": "",
        "system": "",
        "repository_url": "",
        "runbook_url": "",
        "dashboard_url": "",
        "oncall_url": "",
        "pagerduty_service_id": "",
        "data_retention_days": "",
        "backstage_ref": "",
        "backstage_source": "",
        "readiness_override": "",
    }
    return data | changes


def test_the_admin_meets_the_gate_and_records_an_override(client_for, sre_lead, experimental):
    client = client_for(sre_lead)
    url = reverse("admin:services_service_change", args=[experimental.pk])

    refused = client.post(url, admin_data(experimental))
    overridden = client.post(url, admin_data(experimental, readiness_override="Board decision."))

    assertContains(refused, "moves into production only with an approved")
    assert overridden.status_code == 302
    experimental.refresh_from_db()
    assert experimental.lifecycle == Lifecycle.PRODUCTION
    assert experimental.history.latest().history_change_reason.endswith("Board decision.")


# --- Backstage ------------------------------------------------------------------------------------


def test_a_backstage_import_records_a_production_service_as_a_fact(payments, client_for, sre_lead):
    catalog = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger}
spec: {type: service, lifecycle: production, owner: payments}
"""
    import_sources([Source("catalog-info.yaml", catalog)])
    ledger = Service.objects.get(slug="ledger")
    checks_recompute(service_ids=None, now=NOW)

    assert (ledger.lifecycle, ledger.tier) == (Lifecycle.PRODUCTION, Tier.TIER_2)
    assert list(production_without_review(NOW)) == [ledger]
    page = client_for(sre_lead).get(reverse("scorecard_overview"))
    assertContains(page, "tier-1/2 in production without a readiness review")
    assert page.context["unreviewed_count"] == 1
    results = client_for(sre_lead).get("/api/scorecard-results/", {"service": "ledger"}).json()
    assert results["results"][0]["in_production_without_review"] is True
