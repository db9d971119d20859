"""The compliance pages: the matrix with its filters and constant queries, checks, run
history, findings with their transitions, and the auditors' CSV; who may do what."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import FindingStatus, Outcome
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceResult, ComplianceStatus
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


def record(status: ComplianceStatus, outcome: str, *, hours_ago=1, detail="") -> ComplianceResult:
    at = NOW - timedelta(hours=hours_ago)
    result = ComplianceResult.objects.create(
        compliance_check=status.compliance_check,
        service=status.service,
        outcome=outcome,
        detail=detail or f"{outcome} detail",
        started_at=at,
        checked_at=at,
    )
    ComplianceStatus.objects.filter(pk=status.pk).update(
        last_result=result, outcome=outcome, checked_at=at, due_at=NOW + timedelta(hours=14)
    )
    return result


def services_with_results(count, team, prefix="svc"):
    services = [
        ServiceFactory(
            slug=f"{prefix}-{n}",
            name=f"{prefix.title()} {n:03d}",
            owner_team=team,
            handles_personal_data=True,
            data_retention_days=30,
        )
        for n in range(count)
    ]
    compliance_statuses_sync(now=NOW)
    outcomes = [Outcome.PASS, Outcome.FAIL, Outcome.ERROR]
    for index, status in enumerate(
        ComplianceStatus.objects.filter(service__in=services).select_related(
            "compliance_check", "service"
        )
    ):
        record(status, outcomes[index % 3])
    return services


def test_the_matrix_shows_each_service_s_last_result_per_check_in_constant_queries(
    client_for, viewer, payments
):
    client = client_for(viewer)
    services_with_results(2, payments, "small")
    client.get("/compliance/")  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        response = client.get("/compliance/")
    assert response.status_code == 200
    services_with_results(40, payments, "large")
    with CaptureQueriesContext(connection) as large:
        response = client.get("/compliance/")

    assert len(large) == len(small) <= 10
    body = response.content.decode()
    assert "Data retention" in body and "Consent tracking" in body and "Data export test" in body
    assert 'href="/compliance/checks/data-retention/services/large-0/"' in body
    assert "42 services" in body  # paged by 25, counted whole


def test_the_matrix_filters_by_team_check_result_and_staleness(client_for, viewer, payments):
    search = TeamFactory(name="Search", slug="search")
    services_with_results(3, payments, "pay")
    services_with_results(1, search, "find")
    stale = ComplianceStatus.objects.get(
        service__slug="pay-2", compliance_check__slug="data-retention"
    )
    ComplianceStatus.objects.filter(pk=stale.pk).update(due_at=NOW - timedelta(hours=3))
    client = client_for(viewer)

    def rows(query):
        response = client.get(f"/compliance/?{query}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        return [service.slug for service, _ in response.context["rows"]]

    assert rows("team=search") == ["find-0"]
    assert rows("stale=true") == ["pay-2"]
    assert len(rows("stale=false")) == 3
    failing = rows("result=fail")
    assert failing and all(
        ComplianceStatus.objects.filter(service__slug=slug, outcome="fail").exists()
        for slug in failing
    )
    narrowed = client.get("/compliance/?check=consent-tracking")
    assert [check.slug for check in narrowed.context["checks"]] == ["consent-tracking"]
    assert rows("check=consent-tracking&result=pass") == [
        status.service.slug
        for status in ComplianceStatus.objects.filter(
            compliance_check__slug="consent-tracking", outcome="pass"
        )
        .order_by("service__name")
        .select_related("service")
    ]


def test_the_run_history_lists_a_check_s_results_on_one_service(client_for, viewer, payments):
    (service,) = services_with_results(1, payments)
    status = ComplianceStatus.objects.get(service=service, compliance_check__slug="data-retention")
    record(status, Outcome.FAIL, hours_ago=30, detail="45 (must be ≤ 30)")

    response = client_for(viewer).get(f"/compliance/checks/data-retention/services/{service.slug}/")

    assert response.status_code == 200
    assert "45 (must be ≤ 30)" in response.content.decode()
    assert response.context["page_obj"].paginator.count == 2


def test_the_export_lists_the_month_s_results_for_auditors(client_for, viewer, payments):
    (service,) = services_with_results(1, payments)
    status = ComplianceStatus.objects.filter(service=service).first()
    record(status, Outcome.PASS, hours_ago=24 * 20, detail="last month")

    response = client_for(viewer).get("/compliance/export.csv?month=2026-03")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="compliance-2026-03.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    assert {row["service"] for row in rows} == {service.slug}
    assert "last month" not in {row["detail"] for row in rows}
    february = client_for(viewer).get("/compliance/export.csv?month=2026-02")
    assert [
        row["detail"]
        for row in csv.DictReader(io.StringIO(b"".join(february.streaming_content).decode()))
    ] == ["last month"]


@pytest.mark.parametrize("month", ["2026-13", "march", "2026-3", "0999-01"])
def test_an_export_of_no_real_month_is_a_clear_400(client_for, viewer, month):
    response = client_for(viewer).get(f"/compliance/export.csv?month={month}")

    assert response.status_code == 400
    assert "is not a month" in response.content.decode()


def test_only_sre_leads_add_change_and_delete_checks(client_for, owner, sre_lead, viewer):
    payload = {
        "name": "Backups encrypted",
        "kind": "custom",
        "frequency": "weekly",
        "applies_to": "personal_data",
        "severity": "medium",
        "method": "prometheus",
        "query": 'min(backup_encrypted{service="{{service}}"})',
        "comparison": "eq",
        "threshold": "1",
        "timeout_seconds": "5",
        "enabled": "on",
    }
    for user in (owner, viewer):
        assert client_for(user).get("/compliance/checks/add/").status_code == 403
        assert client_for(user).post("/compliance/checks/add/", payload).status_code == 403
        assert client_for(user).get("/compliance/checks/data-retention/edit/").status_code == 403
        assert client_for(user).post("/compliance/checks/data-retention/delete/").status_code == 403

    response = client_for(sre_lead).post("/compliance/checks/add/", payload)

    assert response.status_code == 302
    check = ComplianceCheck.objects.get(slug="backups-encrypted")
    assert check.frequency == "weekly"


def test_a_check_form_shows_the_model_s_refusals(client_for, sre_lead):
    response = client_for(sre_lead).post(
        "/compliance/checks/add/",
        {
            "name": "Broken",
            "kind": "custom",
            "frequency": "daily",
            "applies_to": "tag",
            "severity": "low",
            "method": "http",
            "http_url": "gopher://x",
            "timeout_seconds": "5",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose the tag" in body
    assert "http:// or https://" in body
    assert not ComplianceCheck.objects.filter(name="Broken").exists()


def open_finding(service, status=FindingStatus.OPEN, due_in_days=14, check="data-retention"):
    return ComplianceFinding.objects.create(
        compliance_check=ComplianceCheck.objects.get(slug=check),
        service=service,
        team=service.owner_team,
        severity="high",
        status=status,
        opened_at=NOW - timedelta(days=1),
        due_date=(NOW + timedelta(days=due_in_days)).date(),
    )


def test_findings_list_the_unresolved_first_and_filter_by_status_and_overdue(
    client_for, viewer, service
):
    unresolved = open_finding(service, due_in_days=-2)
    open_finding(service, FindingStatus.RESOLVED, check="consent-tracking")
    client = client_for(viewer)

    default = client.get("/compliance/findings/")
    assert list(default.context["page_obj"]) == [unresolved]
    assert "overdue" in default.content.decode()
    assert (
        client.get("/compliance/findings/?status=resolved").context["page_obj"].paginator.count == 1
    )
    assert list(client.get("/compliance/findings/?overdue=true").context["page_obj"]) == [
        unresolved
    ]


def test_the_owner_team_acknowledges_a_finding_and_others_may_not(
    client_for, owner, outsider, viewer, service
):
    finding = open_finding(service)
    url = f"/compliance/findings/{finding.pk}/acknowledge/"

    assert client_for(outsider).post(url).status_code == 403
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(owner).post(url).status_code == 302

    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACKNOWLEDGED
    assert finding.acknowledged_by == owner
    page = client_for(owner).get(f"/compliance/findings/{finding.pk}/")
    assert "Acknowledged" in page.content.decode()


def test_only_an_sre_lead_accepts_a_risk_and_only_with_a_reason_and_an_expiry(
    client_for, owner, sre_lead, service
):
    finding = open_finding(service)
    url = f"/compliance/findings/{finding.pk}/accept-risk/"

    assert (
        client_for(owner).post(url, {"reason": "x", "expires_on": "2026-04-01"}).status_code == 403
    )
    refused = client_for(sre_lead).post(url, {"reason": "", "expires_on": "2026-03-01"})
    assert refused.status_code == 400
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    past = client_for(sre_lead).post(url, {"reason": "Vendor fix due", "expires_on": "2026-03-10"})
    assert past.status_code == 400
    assert "must end after today" in past.content.decode()

    accepted = client_for(sre_lead).post(
        url, {"reason": "Vendor fix due in April", "expires_on": "2026-04-15"}
    )

    assert accepted.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACCEPTED_RISK
    assert finding.risk_accepted_by == sre_lead


def test_the_service_page_shows_its_compliance_panel(client_for, viewer, payments):
    (service,) = services_with_results(1, payments)
    open_finding(service)

    body = client_for(viewer).get(f"/services/{service.slug}/").content.decode()

    assert 'id="compliance-panel"' in body
    assert "1 unresolved finding" in body
    assert f"/compliance/checks/data-retention/services/{service.slug}/" in body


def test_a_service_without_personal_data_says_no_check_applies(client_for, viewer, service):
    body = client_for(viewer).get(f"/services/{service.slug}/").content.decode()

    assert "No compliance check applies" in body
