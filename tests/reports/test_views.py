"""The archive at /reports/: the list, a report as emailed, its images, subscriptions, and
the SRE leads' regenerate and send-me-a-copy."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from portal.reports.actions import report_generate, reports_plan
from portal.reports.models import MonthlyReport, ReportDelivery, ReportSubscription
from portal.reports.months import month_of
from tests.factories import TeamFactory
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


@pytest.fixture
def reports(month_of_records, payments, search_team):
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=MAY):
            report_generate(report_id=report_id, now=NOW, deliver=False)
    return {report.scope: report for report in MonthlyReport.objects.select_related("team")}


def test_the_archive_lists_every_report_with_filters(reports, client_for, viewer):
    client = client_for(viewer)
    page = client.get(reverse("report_list")).content.decode()
    assert "3 reports" in page
    assert "Organisation" in page and "Payments" in page and "Search" in page
    filtered = client.get(reverse("report_list"), {"scope": "payments", "month": "2026-05"})
    assert "1 report" in filtered.content.decode()
    assert list(filtered.context["page_obj"]) == [reports["payments"]]
    fragment = client.get(reverse("report_list"), {"scope": "org"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert list(fragment.context["page_obj"]) == [reports["org"]]


def test_an_unknown_scope_or_month_in_the_archive_says_what_is_wrong(reports, client_for, viewer):
    response = client_for(viewer).get(reverse("report_list"), {"scope": "nope", "month": "2026-5"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "No team “nope”" in page
    assert "is not a month" in page


def test_the_archive_takes_the_same_queries_for_more_reports(
    reports, client_for, viewer, django_assert_max_num_queries
):
    client = client_for(viewer)
    client.get(reverse("report_list"))
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("report_list"))
    for _number in range(20):
        MonthlyReport.objects.create(team=TeamFactory(), month=MAY.first_day)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("report_list"))


def test_a_report_page_shows_the_email_in_a_frame_with_its_images(reports, client_for, viewer):
    client = client_for(viewer)
    page = client.get("/reports/payments/2026-05/").content.decode()
    assert "Payments: May 2026" in page
    assert 'src="/reports/payments/2026-05/email/"' in page
    email = client.get("/reports/payments/2026-05/email/")
    assert email["X-Frame-Options"] == "SAMEORIGIN"
    html = email.content.decode()
    assert "cid:" not in html
    assert 'src="/reports/payments/2026-05/images/budget-remaining.png"' in html
    # Links to each figure's page in the portal.
    assert "/incidents/metrics/?team=payments&amp;month=2026-05" in html
    assert "/services/payments-api/slos/latency/" in html
    image = client.get("/reports/payments/2026-05/images/budget-remaining.png")
    assert image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/reports/nope/2026-05/",
        "/reports/payments/2026-13/",
        "/reports/payments/2025-01/",
        "/reports/payments/2026-05/images/nothing.png",
    ],
)
def test_an_unknown_report_or_image_is_a_404(reports, client_for, viewer, path):
    assert client_for(viewer).get(path).status_code == 404


def test_a_report_page_takes_a_fixed_number_of_queries(
    reports, client_for, viewer, django_assert_max_num_queries
):
    client = client_for(viewer)
    with django_assert_max_num_queries(10):
        client.get("/reports/org/2026-05/")


def test_an_sre_lead_regenerates_a_report_and_asks_for_a_copy(reports, client_for, sre_lead):
    client = client_for(sre_lead)
    response = client.post("/reports/payments/2026-05/regenerate/", follow=True)
    assert "generated again" in response.content.decode()
    report = MonthlyReport.objects.get(team__slug="payments")
    assert report.generated_by == sre_lead
    assert not ReportDelivery.objects.exists()
    response = client.post("/reports/payments/2026-05/copy/", follow=True)
    assert "A copy is on its way to sasha@example.test" in response.content.decode()
    assert ReportDelivery.objects.get().user == sre_lead


def test_others_may_not_regenerate_or_ask_for_copies(reports, client_for, owner):
    client = client_for(owner)
    assert client.post("/reports/payments/2026-05/regenerate/").status_code == 403
    assert client.post("/reports/payments/2026-05/copy/").status_code == 403
    assert client.get("/reports/payments/2026-05/").content.decode().count("Regenerate") == 0


def test_subscribing_and_unsubscribing_on_the_reports_page(reports, client_for, outsider, payments):
    client = client_for(outsider)
    response = client.post(reverse("report_subscription_add"), {"scope": "org"}, follow=True)
    assert "You will get the organisation&#x27;s report each month." in response.content.decode()
    assert ReportSubscription.objects.filter(user=outsider, team=None).exists()
    response = client.post(reverse("report_subscription_add"), {"scope": "org"}, follow=True)
    assert "already subscribed" in response.content.decode()
    client.post(reverse("report_subscription_add"), {"scope": "payments"})
    assert ReportSubscription.objects.filter(user=outsider).count() == 2
    client.post(reverse("report_subscription_remove"), {"scope": "org"})
    assert list(
        ReportSubscription.objects.filter(user=outsider).values_list("team", flat=True)
    ) == [payments.pk]
    response = client.post(reverse("report_subscription_add"), {"scope": "nobody"}, follow=True)
    assert "No team “nobody”" in response.content.decode()


def test_the_reports_pages_need_a_sign_in(reports, client):
    assert client.get(reverse("report_list")).status_code == 302
    assert client.get("/reports/org/2026-05/email/").status_code == 302
