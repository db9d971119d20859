"""/api/reports/ and /api/report-subscriptions/."""

import datetime as dt

import pytest
import time_machine

from portal.reports.actions import report_generate, reports_plan
from portal.reports.models import ReportSubscription
from portal.reports.months import month_of
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(month_of_records, search_team):
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=month_of(dt.date(2026, 5, 1))):
            report_generate(report_id=report_id, now=NOW, deliver=False)


def test_the_api_lists_reports_and_filters_by_scope_and_month(reports, api_client_for, viewer):
    api = api_client_for(viewer)
    listed = api.get("/api/reports/").json()
    assert listed["count"] == 3
    [payments] = api.get("/api/reports/", {"scope": "payments", "month": "2026-05"}).json()[
        "results"
    ]
    assert payments["scope"] == "payments"
    assert payments["month"] == "2026-05"
    assert payments["status"] == "ready"
    assert "html" not in payments
    detail = api.get(f"/api/reports/{payments['id']}/").json()
    assert "1 of 2 SLOs met their objective" in detail["html"]
    assert "1 of 2 SLOs met their objective" in detail["text"]
    assert detail["figures"]["incidents"]["count"] == 2
    assert {image["name"] for image in detail["images"]} == {
        "budget-remaining",
        "incidents-by-month",
        "mttr-trend",
    }
    assert api.get("/api/reports/", {"scope": "org"}).json()["count"] == 1


def test_an_unknown_scope_or_a_malformed_month_is_a_400_saying_so(reports, api_client_for, viewer):
    response = api_client_for(viewer).get("/api/reports/", {"scope": "nope", "month": "May"})
    assert response.status_code == 400
    body = response.json()
    assert "No team “nope”" in str(body)
    assert "is not a month" in str(body)


def test_people_manage_their_own_subscriptions_in_the_api(reports, api_client_for, outsider, owner):
    api = api_client_for(outsider)
    created = api.post("/api/report-subscriptions/", {"scope": "org"})
    assert created.status_code == 201, created.json()
    assert created.json()["scope"] == "org"
    again = api.post("/api/report-subscriptions/", {"scope": "org"})
    assert again.status_code == 400
    assert api.post("/api/report-subscriptions/", {"scope": "nope"}).status_code == 400
    assert api.post("/api/report-subscriptions/", {"scope": "payments"}).status_code == 201
    assert [item["scope"] for item in api.get("/api/report-subscriptions/").json()["results"]] == [
        "org",
        "payments",
    ]
    others = api_client_for(owner)
    assert others.get("/api/report-subscriptions/").json()["count"] == 0
    subscription = ReportSubscription.objects.get(user=outsider, team=None)
    assert others.delete(f"/api/report-subscriptions/{subscription.pk}/").status_code == 404
    assert api.delete(f"/api/report-subscriptions/{subscription.pk}/").status_code == 204
    assert ReportSubscription.objects.filter(user=outsider).count() == 1


def test_sre_leads_read_every_subscription(reports, api_client_for, sre_lead, outsider):
    ReportSubscription.objects.create(user=outsider, team=None)
    assert api_client_for(sre_lead).get("/api/report-subscriptions/").json()["count"] == 1


def test_the_reports_api_needs_authentication(reports, client):
    assert client.get("/api/reports/").status_code in (401, 403)


def test_the_api_list_takes_the_same_queries_for_more_reports(
    reports, api_client_for, viewer, django_assert_max_num_queries
):
    from portal.reports.models import MonthlyReport
    from tests.factories import TeamFactory

    api = api_client_for(viewer)
    with django_assert_max_num_queries(6) as few:
        api.get("/api/reports/")
    for _number in range(10):
        MonthlyReport.objects.create(team=TeamFactory(), month=dt.date(2026, 5, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("/api/reports/").json()["count"] == 13
