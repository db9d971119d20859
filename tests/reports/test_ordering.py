"""The report archive sorts as every list of the portal does: team names and usernames whatever
their case ("Alpha", "beta", "Charlie"), in both directions, and ties broken the same way
every time, on the page and in the API (which share their FilterSet)."""

import datetime as dt

import pytest
from django.urls import reverse

from portal.reports.adapters import Field, team_rows
from portal.reports.choices import DeliveryReason, DeliveryStatus
from portal.reports.models import MonthlyReport, ReportDelivery
from portal.reports.months import month_of
from portal.reports.scope import ReportScope
from services.models.catalog import Team
from tests.factories import TeamFactory, UserFactory
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

APRIL, MAY = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
# Made in this order; byte order (the C collation) would put "Charlie" before "beta".
NAMES = ["beta", "Alpha", "Charlie"]
SORTED = ["Alpha", "beta", "Charlie"]


@pytest.fixture
def reports(db):
    """Reports of beta, Alpha and Charlie for May, then for April: the later made, the
    earlier month."""
    teams = [TeamFactory(name=name, slug=name.lower()) for name in NAMES]
    return {
        (team.name, month): MonthlyReport.objects.create(team=team, month=month)
        for month in (MAY, APRIL)
        for team in teams
    }


def page_rows(client, ordering):
    response = client.get(reverse("report_list"), {"ordering": ordering})
    assert response.status_code == 200
    return [(report.scope_name, report.month) for report in response.context["page_obj"]]


def api_rows(api, ordering):
    response = api.get("/api/reports/", {"ordering": ordering})
    assert response.status_code == 200, response.content
    return [
        (row["scope_name"], dt.date.fromisoformat(f"{row['month']}-01"))
        for row in response.json()["results"]
    ]


def test_reports_sort_by_scope_whatever_the_case_in_both_directions_latest_month_first(
    reports, client_for, api_client_for, viewer
):
    ascending = [(name, month) for name in SORTED for month in (MAY, APRIL)]
    descending = [(name, month) for name in SORTED[::-1] for month in (MAY, APRIL)]
    for rows in (page_rows, api_rows):
        client = client_for(viewer) if rows is page_rows else api_client_for(viewer)
        assert rows(client, "scope") == ascending
        assert rows(client, "-scope") == descending


def test_reports_of_the_same_month_are_ordered_by_team_name_whatever_the_case(
    reports, client_for, api_client_for, viewer
):
    for rows in (page_rows, api_rows):
        client = client_for(viewer) if rows is page_rows else api_client_for(viewer)
        assert rows(client, "month") == [(name, APRIL) for name in SORTED] + [
            (name, MAY) for name in SORTED
        ]
        assert rows(client, "-month") == [(name, MAY) for name in SORTED] + [
            (name, APRIL) for name in SORTED
        ]
        # Not generated yet: all alike, latest month first, then by team name.
        assert rows(client, "generated") == [(name, MAY) for name in SORTED] + [
            (name, APRIL) for name in SORTED
        ]


def test_unsorted_reports_are_listed_latest_month_first_then_by_team_name_whatever_the_case(
    reports, client_for, api_client_for, viewer
):
    expected = [(name, MAY) for name in SORTED] + [(name, APRIL) for name in SORTED]
    assert page_rows(client_for(viewer), "") == expected
    assert api_rows(api_client_for(viewer), "") == expected


def test_the_archive_offers_the_teams_by_name_whatever_the_case(reports, client_for, viewer):
    teams = client_for(viewer).get(reverse("report_list")).context["teams"]
    assert [name for _pk, _slug, name in teams] == ["Alpha", "beta", "Charlie", "Payments"]


def test_a_report_lists_its_recipients_by_username_whatever_the_case(reports, client_for, viewer):
    report = reports[("Alpha", MAY)]
    for username in ["bob", "Anna", "Carl"]:
        user = UserFactory(username=username)
        ReportDelivery.objects.create(
            report=report,
            user=user,
            address=f"{username.lower()}@example.test",
            reason=DeliveryReason.MEMBER,
            status=DeliveryStatus.FAILED,
        )
    response = client_for(viewer).get(report.get_absolute_url())
    assert [d.user.username for d in response.context["recipients"]] == ["Anna", "bob", "Carl"]
    assert [d.user.username for d in response.context["problems"]] == ["Anna", "bob", "Carl"]


def rows_of_the_test_teams():
    """Shaped like maturity_levels_by_team(): a row per team, in the order they were made."""
    teams = Team.objects.filter(name__in=NAMES).order_by("pk")
    return [{"team_id": team.pk, "count": 1} for team in teams]


def test_a_section_of_team_rows_lists_the_teams_by_name_whatever_the_case(reports):
    build = team_rows(
        "tests.reports.test_ordering.rows_of_the_test_teams",
        [Field("count", "Count")],
        monthly=False,
    )
    data = build(ReportScope(team=None, month=month_of(MAY), now=NOW))
    assert [row["team"] for row in data["rows"]] == SORTED
