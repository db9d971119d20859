"""The compliance API mirrors the UI: same permissions, same FilterSets, transitions as POST
actions, model refusals as 400 with field errors."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import FindingStatus, Outcome
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from tests.compliance.conftest import make_check

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

NEW_CHECK = {
    "name": "Backups encrypted",
    "kind": "custom",
    "applies_to": "personal_data",
    "severity": "medium",
    "method": "prometheus",
    "query": 'min(backup_encrypted{service="{{service}}"})',
    "comparison": "eq",
    "threshold": "1",
    "frequency": "weekly",
}


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def finding(payments_api):
    check = ComplianceCheck.objects.get(slug="data-retention")
    compliance_statuses_sync(now=NOW)
    result = ComplianceResult.objects.create(
        compliance_check=check,
        service=payments_api,
        outcome=Outcome.FAIL,
        value=45,
        detail="45 (must be ≤ 30)",
        started_at=NOW,
        checked_at=NOW,
    )
    return ComplianceFinding.objects.create(
        compliance_check=check,
        service=payments_api,
        team=payments_api.owner_team,
        severity="high",
        opened_at=NOW,
        due_date=(NOW + timedelta(days=14)).date(),
        first_result=result,
        last_result=result,
    )


def test_sre_leads_define_checks_and_engineers_and_viewers_may_not(
    api_client_for, sre_lead, owner, viewer
):
    for user in (owner, viewer):
        assert api_client_for(user).post("/api/compliance-checks/", NEW_CHECK).status_code == 403

    response = api_client_for(sre_lead).post("/api/compliance-checks/", NEW_CHECK)

    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == "backups-encrypted"
    assert ComplianceCheck.objects.get(slug="backups-encrypted").frequency == "weekly"


def test_a_check_the_model_refuses_is_a_400_naming_the_fields(api_client_for, sre_lead):
    response = api_client_for(sre_lead).post(
        "/api/compliance-checks/",
        {**NEW_CHECK, "query": "min(backup_encrypted)", "threshold": "many", "name": "Other"},
    )

    assert response.status_code == 400
    errors = response.json()
    assert "Use {{service}}" in errors["query"][0]
    assert "Write a number" in errors["threshold"][0]
    duplicate = api_client_for(sre_lead).post(
        "/api/compliance-checks/", {**NEW_CHECK, "name": "Data retention", "slug": "other"}
    )
    assert duplicate.status_code == 400
    assert "name" in duplicate.json()


def test_frequency_defaults_to_the_seed_s_for_the_kind(api_client_for, sre_lead):
    payload = {**NEW_CHECK, "kind": "consent_tracking", "name": "Consent 2"}
    del payload["frequency"]

    response = api_client_for(sre_lead).post("/api/compliance-checks/", payload)

    assert response.status_code == 201
    assert response.json()["frequency"] == "weekly"


def test_results_are_listed_with_the_ui_s_filters(api_client_for, viewer, finding, payments_api):
    client = api_client_for(viewer)

    everything = client.get("/api/compliance-results/").json()
    failing = client.get("/api/compliance-results/?outcome=fail&service=payments-api").json()
    passing = client.get("/api/compliance-results/?outcome=pass").json()

    assert everything["count"] == 1
    assert failing["results"][0]["value"] == 45
    assert failing["results"][0]["check"] == "data-retention"
    assert failing["results"][0]["team"] == "payments"
    assert passing["count"] == 0


def test_findings_move_through_post_actions_with_the_ui_s_permissions(
    api_client_for, owner, outsider, sre_lead, finding
):
    url = f"/api/compliance-findings/{finding.pk}/"

    assert api_client_for(outsider).post(url + "acknowledge/").status_code == 403
    acknowledged = api_client_for(owner).post(url + "acknowledge/")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == FindingStatus.ACKNOWLEDGED
    assert acknowledged.json()["acknowledged_by"] == "olivia"
    again = api_client_for(owner).post(url + "acknowledge/")
    assert again.status_code == 400
    assert "status" in again.json()

    risk = {"reason": "Fix ships in April", "expires_on": "2026-04-30"}
    assert api_client_for(owner).post(url + "accept-risk/", risk).status_code == 403
    assert api_client_for(sre_lead).post(url + "accept-risk/", {"reason": ""}).status_code == 400
    accepted = api_client_for(sre_lead).post(url + "accept-risk/", risk)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == FindingStatus.ACCEPTED_RISK
    assert accepted.json()["risk_expires_on"] == "2026-04-30"


def test_findings_filter_by_team_status_and_overdue(api_client_for, viewer, finding):
    client = api_client_for(viewer)

    assert client.get("/api/compliance-findings/?team=payments&status=open").json()["count"] == 1
    assert client.get("/api/compliance-findings/?team=search").status_code == 400
    assert client.get("/api/compliance-findings/?overdue=true").json()["count"] == 0
    assert client.get("/api/compliance-findings/").json()["results"][0]["overdue"] is False


def test_an_engineer_of_the_owner_team_attests_through_the_api(
    api_client_for, owner, outsider, payments_api, only_custom_checks
):
    check = make_check(
        name="Reviewed",
        slug="reviewed",
        method="attestation",
        query="",
        threshold="",
        frequency="monthly",
    )
    compliance_statuses_sync(now=NOW)
    url = f"/api/compliance-checks/{check.pk}/attest/"
    body = {"service": "payments-api", "note": "Record of processing reviewed."}

    assert api_client_for(outsider).post(url, body).status_code == 403
    response = api_client_for(owner).post(url, body)

    assert response.status_code == 201
    assert response.json()["attested_by"] == "olivia"
    assert ComplianceStatus.objects.get(compliance_check=check).outcome == Outcome.PASS
    refused = api_client_for(owner).post(url, {"service": "payments-api"})
    assert refused.status_code == 400
