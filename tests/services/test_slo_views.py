"""The SLO UI: scorecards, the service page's panel, the SLO page, SLO and maintenance forms."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from portal.celery import app as celery_app
from portal.demo.load import load_demo_data
from portal.demo.people import ADMIN_USERNAME
from services import demo as slo_demo
from services.actions.statuses import slo_statuses_recompute_dirty
from services.models.slos import SLO, DirtySLO, MaintenanceWindow, SLIBucket, SLOStatus
from tests.factories import ServiceFactory, TeamFactory
from tests.services.slo_data import make_slo, make_status

pytestmark = pytest.mark.django_db

SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
# Who may change the payments team's SLOs: its engineers and SRE leads.
EDITORS = ["owner", "teammate", "sre_lead"]
NON_EDITORS = ["outsider", "viewer"]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(request, client_for):
    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


@pytest.fixture
def slo(service):
    slo = make_slo(service, name="Checkout availability", slug="checkout")
    make_status(slo)
    return slo


def slo_url(name, slo):
    return reverse(name, args=[slo.service.slug, slo.slug])


def valid_slo_form(**changes):
    data = {
        "name": "Checkout latency",
        "slug": "",
        "sli_kind": "latency",
        "objective": "99.5",
        "window_kind": "rolling",
        "window_days": "28",
        "time_zone": "UTC",
        "budgeting_method": "occurrences",
        "source": "push",
        "query_kind": "good_total",
        "events_query": 'sum(rate(http_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))',
        "total_query": "sum(rate(http_request_duration_seconds_count[{{.window}}]))",
        "labels": "{}",
    }
    data.update(changes)
    return data


def make_slos(count, team):
    """count SLOs over several services of the team, each with a snapshot."""
    services = [ServiceFactory(owner_team=team) for _ in range(3)]
    tiers = ["healthy", "caution", "frozen"]
    for number in range(count):
        slo = make_slo(services[number % 3], number)
        make_status(slo, remaining=1 - number / 20, tier=tiers[number % 3])
    return services


# --- Every page needs sign-in ------------------------------------------------------------


@pytest.mark.parametrize("name", ["slo_detail", "slo_edit", "slo_delete", "maintenance_window_add"])
def test_anonymous_visitors_are_sent_to_sign_in_from_every_slo_page(client, slo, name):
    url = slo_url(name, slo)
    assertRedirects(client.get(url), f"{reverse('login')}?next={url}")


@pytest.mark.parametrize(
    "url",
    [
        lambda slo: reverse("slo_list"),
        lambda slo: reverse("team_scorecard", args=["payments"]),
        lambda slo: reverse("slo_add", args=[slo.service.slug]),
        lambda slo: reverse(
            "maintenance_window_delete",
            args=[
                slo.service.slug,
                slo.slug,
                MaintenanceWindow.objects.create(
                    slo=slo,
                    start=datetime(2026, 12, 1, 2, tzinfo=UTC),
                    end=datetime(2026, 12, 1, 4, tzinfo=UTC),
                    reason="Planned",
                ).pk,
            ],
        ),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_from_scorecards_and_the_add_form(client, slo, url):
    response = client.get(url(slo))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Service page panel -----------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_the_service_page_shows_each_slo_with_its_snapshot_figures(as_user, slo, user):
    response = as_user(user).get(slo.service.get_absolute_url())
    assertContains(response, slo.get_absolute_url())
    assertContains(response, "99.9 %")
    assertContains(response, "99.942 %")  # attainment
    assertContains(response, "42.0 %")  # budget remaining
    assertContains(response, "policy-caution")


def test_the_service_page_marks_stale_and_never_computed_slos(as_user, service):
    make_status(make_slo(service, 1), stale=True)
    make_slo(service, 2)
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, ">stale<")
    assertContains(response, "not computed yet")


def test_an_overspent_budget_shows_below_zero(as_user, service):
    make_status(make_slo(service), remaining=-0.25, tier="frozen")
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, "-25.0 %")
    assertContains(response, "overspent")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_see_an_empty_slo_panel_with_an_add_link(as_user, service, user):
    response = as_user(user).get(service.get_absolute_url())
    assertContains(response, "No SLOs defined yet.")
    assertContains(response, reverse("slo_add", args=[service.slug]))


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_see_an_empty_slo_panel_without_an_add_link(as_user, service, user):
    response = as_user(user).get(service.get_absolute_url())
    assertContains(response, "No SLOs defined yet.")
    assertNotContains(response, reverse("slo_add", args=[service.slug]))


@pytest.mark.parametrize("count", [3, 30])
def test_the_service_page_costs_the_same_queries_for_3_or_30_slos(
    as_user, payments, django_assert_max_num_queries, count
):
    service = make_slos(count, payments)[0]
    client = as_user("owner")
    # 12, up to 6 for the readiness and maturity panels, and three for the changes panel
    # (toil's service_changes_panel).
    with django_assert_max_num_queries(21):
        response = client.get(service.get_absolute_url())
    assertContains(response, "Availability 00")


# --- Scorecards -------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_reads_the_org_scorecard(as_user, slo, user):
    response = as_user(user).get(reverse("slo_list"))
    assertContains(response, "Checkout availability")
    assertContains(response, reverse("team_scorecard", args=["payments"]))


def test_the_org_scorecard_lists_the_worst_budget_first_and_uncomputed_last(as_user, service):
    make_status(make_slo(service, 1, name="Comfortable"), remaining=0.9)
    make_status(make_slo(service, 2, name="Exhausted"), remaining=-0.1)
    make_slo(service, 3, name="Brand new")
    content = as_user("viewer").get(reverse("slo_list")).content.decode()
    assert content.index("Exhausted") < content.index("Comfortable") < content.index("Brand new")


def test_the_scorecard_sorts_by_budget_remaining_descending_on_request_uncomputed_last(
    as_user, service
):
    make_slo(service, 3, name="Brand new")
    make_status(make_slo(service, 1, name="Comfortable"), remaining=0.9)
    make_status(make_slo(service, 2, name="Exhausted"), remaining=-0.1)
    content = as_user("viewer").get(reverse("slo_list"), {"ordering": "-budget"}).content.decode()
    assert content.index("Comfortable") < content.index("Exhausted") < content.index("Brand new")


def test_the_scorecard_shows_the_last_full_months_attainment(as_user, slo):
    response = as_user("viewer").get(reverse("slo_list"))
    assertContains(response, "99.950 %")  # the month before the one in progress
    assertContains(response, ">met<")
    assertNotContains(response, "99.810 %")


def test_the_scorecard_sorts_by_name(as_user, service):
    make_status(make_slo(service, 1, name="Zeta"), remaining=0.1)
    make_status(make_slo(service, 2, name="Alpha"), remaining=0.9)
    content = as_user("viewer").get(reverse("slo_list"), {"ordering": "name"}).content.decode()
    assert content.index(">Alpha<") < content.index(">Zeta<")


@pytest.mark.parametrize(
    "params, shown, hidden",
    [
        ({"policy_tier": "frozen"}, "Exhausted", "Comfortable"),
        ({"alert": "page"}, "Exhausted", "Comfortable"),
        ({"team": "search"}, "Elsewhere", "Exhausted"),
        ({"tier": "1"}, "Elsewhere", "Comfortable"),
        ({"q": "comfort"}, "Comfortable", "Exhausted"),
        ({"policy_tier": "unknown"}, "Brand new", "Comfortable"),
        ({"source": "push"}, "Brand new", "Comfortable"),
    ],
)
def test_the_scorecard_filters_by_team_tier_policy_tier_alert_and_source(
    as_user, service, search_team, params, shown, hidden
):
    make_status(make_slo(service, 1, name="Comfortable"), remaining=0.9, tier="healthy")
    make_status(make_slo(service, 2, name="Exhausted"), remaining=-0.1, tier="frozen", alert="page")
    SLO.objects.filter(pk=make_slo(service, 3, name="Brand new").pk).update(source="push")
    elsewhere = ServiceFactory(owner_team=search_team, tier=1)
    make_status(make_slo(elsewhere, 4, name="Elsewhere"), remaining=0.6, tier="healthy")
    response = as_user("viewer").get(reverse("slo_list"), params)
    assertContains(response, f">{shown}<")
    assertNotContains(response, f">{hidden}<")
    assertContains(response, 'name="source"')


def test_the_scorecard_shows_each_slos_state_as_the_service_page_does(as_user, service):
    make_status(make_slo(service, 1, name="Stale"), stale=True)
    make_status(make_slo(service, 2, name="Thin"), coverage=0.5)
    make_status(make_slo(service, 3, name="Overspent"), remaining=-0.25, tier="frozen")
    make_slo(service, 4, name="Brand new")
    client = as_user("viewer")
    scorecard = client.get(reverse("slo_list"), **HTMX).text
    service_page = client.get(service.get_absolute_url()).text

    def state_cells(html, name):
        row = html.split(f">{name}</a>")[1].split("</tr>")[0]
        return row[row.index('<td><span class="badge policy-') :].split()

    for name in ["Stale", "Thin", "Overspent", "Brand new"]:
        assert state_cells(scorecard, name) == state_cells(service_page, name)
    assert 'title="No data since ' in scorecard
    assert "low coverage: 50 %" in scorecard
    assert "not computed yet" in scorecard
    # Only the overspent budget is marked; one never computed has no figure to compare.
    assert scorecard.count("number overspent") == 1


def test_the_scorecard_answers_htmx_with_the_results_alone(as_user, slo):
    response = as_user("viewer").get(reverse("slo_list"), {"q": "checkout"}, **HTMX)
    assertContains(response, "Checkout availability")
    assertNotContains(response, "<html")


def test_bad_filter_values_give_an_empty_list_not_an_error(as_user, slo):
    response = as_user("viewer").get(
        reverse("slo_list"), {"alert": "loud", "ordering": "nonsense", "page": "x"}
    )
    assert response.status_code == 200


def test_the_org_scorecard_without_slos_says_where_they_come_from(as_user, db):
    response = as_user("viewer").get(reverse("slo_list"))
    assertContains(response, "No SLOs are defined yet.")


def test_a_search_without_matches_offers_to_clear_it(as_user, slo):
    response = as_user("viewer").get(reverse("slo_list"), {"q": "nothing like it"})
    assertContains(response, "No SLO matches this search.")


def test_the_scorecard_pages_25_slos_at_a_time(as_user, payments):
    make_slos(30, payments)
    first = as_user("viewer").get(reverse("slo_list"))
    assertContains(first, "Page 1 of 2")
    second = as_user("viewer").get(reverse("slo_list"), {"page": 2})
    assertContains(second, "Page 2 of 2")


@pytest.mark.parametrize("count", [3, 30])
def test_the_org_scorecard_costs_the_same_queries_for_3_or_30_slos(
    as_user, payments, django_assert_max_num_queries, count
):
    make_slos(count, payments)
    client = as_user("viewer")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("slo_list"))
    assertContains(response, f"{count} SLOs")


@pytest.mark.parametrize("count", [3, 30])
def test_the_scorecard_results_fragment_costs_the_same_queries_for_3_or_30_slos(
    as_user, payments, django_assert_max_num_queries, count
):
    make_slos(count, payments)
    client = as_user("viewer")
    # The session, the user, the count and the page of SLOs with their services, teams and
    # snapshots.
    with django_assert_max_num_queries(4):
        response = client.get(reverse("slo_list"), **HTMX)
    assertContains(response, f"{count} SLOs")
    assertContains(response, '<td class="number">99.9 %</td>', count=min(count, 25))


@pytest.mark.parametrize("user", SIGNED_IN)
def test_the_team_scorecard_lists_only_that_teams_slos(as_user, slo, search_team, user):
    make_status(make_slo(ServiceFactory(owner_team=search_team), 7, name="Elsewhere"))
    response = as_user(user).get(reverse("team_scorecard", args=["payments"]))
    assertContains(response, "Checkout availability")
    assertNotContains(response, ">Elsewhere<")


def test_a_team_without_slos_gets_a_clear_empty_scorecard(as_user, search_team, viewer):
    response = as_user("viewer").get(reverse("team_scorecard", args=["search"]))
    assertContains(response, "Search has no SLOs yet.")


def test_an_unknown_teams_scorecard_is_not_found(as_user, viewer):
    assert as_user("viewer").get(reverse("team_scorecard", args=["nobody"])).status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_the_team_scorecard_costs_the_same_queries_for_3_or_30_slos(
    as_user, payments, django_assert_max_num_queries, count
):
    make_slos(count, payments)
    client = as_user("viewer")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("team_scorecard", args=["payments"]))
    assertContains(response, f"{count} SLOs")


def test_the_team_page_links_to_its_scorecard(as_user, payments, viewer):
    response = as_user("viewer").get(payments.get_absolute_url())
    assertContains(response, reverse("team_scorecard", args=["payments"]))


def test_the_navigation_links_to_the_org_scorecard(as_user, viewer):
    assertContains(as_user("viewer").get(reverse("home")), f'href="{reverse("slo_list")}"')


# --- SLO page ---------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_reads_the_slo_page(as_user, slo, user):
    response = as_user(user).get(slo.get_absolute_url())
    assertContains(response, "<h1>Checkout availability</h1>", html=True)
    assertContains(response, "42.0 %")
    assertContains(response, "97.0 %")  # coverage
    assertContains(response, "2.50\u00d7")  # the 1h burn rate in the windows table
    assertContains(response, 'id="slo-series"')
    assertContains(response, "js/chart.umd.min.js")
    assertContains(response, 'hx-trigger="every 60s"')


def test_an_overspent_slo_says_its_budget_is_exhausted_not_zero_minutes_left(as_user, service):
    overspent = make_slo(service, name="Overspent", slug="overspent")
    make_status(overspent, remaining=-0.3, time_until_exhaustion=timedelta(0))

    response = as_user("viewer").get(overspent.get_absolute_url())

    assertContains(response, "budget exhausted")
    assertContains(response, "-30.0 %")
    assertNotContains(response, "until exhausted")
    assertNotContains(response, "0\xa0minutes")


def test_low_coverage_is_said_beside_every_figure(as_user, service):
    thin = make_slo(service, name="Thin", slug="thin")
    make_status(thin, coverage=0.4, time_until_exhaustion=timedelta(hours=5))

    response = as_user("viewer").get(thin.get_absolute_url())

    # Attainment, budget, policy tier, alert and time to exhaustion; the coverage says its bar.
    assertContains(response, "low coverage: figures from part of the window", count=5)
    assertContains(response, "below 90 %")


def test_the_service_page_and_scorecard_mark_an_slo_with_low_coverage(as_user, service):
    thin = make_slo(service, name="Thin", slug="thin")
    make_status(thin, coverage=0.4)

    for url in (service.get_absolute_url(), reverse("slo_list")):
        assertContains(as_user("viewer").get(url), "low coverage: 40 %")


def test_a_well_covered_slo_carries_no_low_coverage_note(as_user, slo):
    response = as_user("viewer").get(slo.get_absolute_url())

    assertNotContains(response, "low coverage")


def test_a_timeslice_slo_explains_that_burn_rates_count_events(as_user, service):
    sliced = make_slo(
        service,
        name="Sliced",
        slug="sliced",
        budgeting_method="timeslices",
        slice_minutes=5,
        slice_target=Decimal("95"),
    )
    make_status(sliced)

    response = as_user("viewer").get(sliced.get_absolute_url())

    assertContains(response, "budget counts 5-minute slices, but burn rates count events")


def test_the_charts_get_the_objective_and_the_30_day_alerting_thresholds(as_user, slo):
    response = as_user("viewer").get(slo.get_absolute_url())

    assert response.context["chart_context"] == {
        "objective": "99.9 %",
        "thresholds": [
            {"value": 14.4, "label": "page (1h)"},
            {"value": 6.0, "label": "page (6h)"},
            {"value": 3.0, "label": "ticket (1d)"},
            {"value": 1.0, "label": "ticket (3d)"},
        ],
    }
    assertContains(response, 'id="slo-chart-context"')


@pytest.mark.parametrize("user", EDITORS)
def test_editors_see_edit_delete_and_maintenance_controls(as_user, slo, user):
    response = as_user(user).get(slo.get_absolute_url())
    assertContains(response, slo_url("slo_edit", slo))
    assertContains(response, slo_url("slo_delete", slo))
    assertContains(response, slo_url("maintenance_window_add", slo))


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_see_no_edit_controls_on_the_slo_page(as_user, slo, user):
    response = as_user(user).get(slo.get_absolute_url())
    assertNotContains(response, slo_url("slo_edit", slo))
    assertNotContains(response, slo_url("maintenance_window_add", slo))


def test_the_slo_page_shows_the_definition(as_user, slo):
    response = as_user("viewer").get(slo.get_absolute_url())
    assertContains(response, "Rolling 30 days")
    assertContains(response, "[{{.window}}]")
    assertContains(response, "The default policy")


def test_monthly_attainment_is_named_by_month_in_the_slos_time_zone(as_user, slo):
    slo.time_zone = "Europe/Berlin"
    slo.save()
    response = as_user("viewer").get(slo.get_absolute_url())
    content = response.content.decode()
    assert "October 2026" in content and "November 2026" in content
    assert content.index("November 2026") < content.index("October 2026")
    assertContains(response, ">missed<")


def test_the_slo_page_says_when_the_budget_runs_out_at_the_current_burn(as_user, service):
    slo = make_slo(service)
    make_status(slo, time_until_exhaustion=timedelta(days=2, hours=3))
    assertContains(as_user("viewer").get(slo.get_absolute_url()), "2\xa0days, 3\xa0hours")


def test_monthly_attainment_starts_at_the_first_month_with_data(as_user, service):
    slo = make_slo(service)
    months = [
        {"start": f"2026-{month:02d}-01T00:00:00+00:00", "attainment": attainment, "met": met}
        for month, attainment, met in [(8, None, None), (9, 0.9995, True), (10, None, None)]
    ]
    make_status(slo, monthly=months)
    content = as_user("viewer").get(slo.get_absolute_url()).content.decode()
    assert "September 2026" in content and "October 2026" in content
    assert "August 2026" not in content


def test_the_slo_page_shows_a_failed_sync_and_staleness(as_user, service):
    slo = make_slo(service)
    make_status(slo, stale=True, last_sync_error="Prometheus answered 503")
    response = as_user("viewer").get(slo.get_absolute_url())
    assertContains(response, "Last sync failed: Prometheus answered 503")
    assertContains(response, ">stale<")


def test_the_slo_page_says_where_the_data_comes_from(as_user, service):
    slo = make_slo(service)
    make_status(slo, last_sync_at=datetime(2026, 11, 1, 11, 59, tzinfo=UTC))
    assertContains(as_user("viewer").get(slo.get_absolute_url()), "last sync")
    slo.source = "push"
    slo.save()
    response = as_user("viewer").get(slo.get_absolute_url())
    assertContains(response, "data pushed through the API")
    assertNotContains(response, "last sync")


def test_an_slo_never_computed_says_so_instead_of_showing_figures(as_user, service):
    slo = make_slo(service)
    response = as_user("viewer").get(slo.get_absolute_url())
    assertContains(response, "No status yet.")
    assertNotContains(response, 'id="slo-series"')


def test_htmx_refresh_returns_the_status_block_alone(as_user, slo):
    response = as_user("viewer").get(slo.get_absolute_url(), **HTMX)
    assertContains(response, 'id="slo-status"')
    assertNotContains(response, "<html")
    assertNotContains(response, "Maintenance windows")
    assert "HX-Request" in response["Vary"]


def test_an_unknown_slo_is_not_found(as_user, service):
    response = as_user("viewer").get(reverse("slo_detail", args=[service.slug, "nope"]))
    assert response.status_code == 404


def test_an_slo_is_found_only_under_its_own_service(as_user, slo, payments):
    other = ServiceFactory(owner_team=payments)
    response = as_user("viewer").get(reverse("slo_detail", args=[other.slug, slo.slug]))
    assert response.status_code == 404


@pytest.mark.parametrize("windows", [1, 20])
def test_the_slo_page_costs_the_same_queries_with_few_or_many_maintenance_windows(
    as_user, slo, django_assert_max_num_queries, windows
):
    for day in range(windows):
        MaintenanceWindow.objects.create(
            slo=slo,
            start=datetime(2026, 10, 1 + day, 2, tzinfo=UTC),
            end=datetime(2026, 10, 1 + day, 3, tzinfo=UTC),
            reason=f"Database upgrade {day}",
        )
    client = as_user("owner")
    with django_assert_max_num_queries(10):
        response = client.get(slo.get_absolute_url())
    assertContains(response, "Database upgrade 0")


@pytest.mark.parametrize("count", [3, 30])
def test_the_slo_page_costs_the_same_queries_for_3_or_30_slos(
    as_user, payments, django_assert_max_num_queries, count
):
    make_slos(count, payments)
    slo = SLO.objects.order_by("pk").first()
    client = as_user("owner")
    with django_assert_max_num_queries(10):
        response = client.get(slo.get_absolute_url())
    assert response.status_code == 200


# --- Adding, editing and deleting SLOs -----------------------------------------------------


@pytest.mark.parametrize("user", EDITORS)
def test_editors_add_an_slo_to_a_service(as_user, service, user):
    response = as_user(user).post(reverse("slo_add", args=[service.slug]), valid_slo_form())
    slo = SLO.objects.get(service=service, slug="checkout-latency")
    assertRedirects(response, slo.get_absolute_url())
    assert (slo.window_days, slo.source) == (28, "push")
    assert (
        slo.history.first().history_user.username
        == {"owner": "olivia", "teammate": "tom", "sre_lead": "sasha"}[user]
    )


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_add_an_slo(as_user, service, user):
    client = as_user(user)
    assert client.get(reverse("slo_add", args=[service.slug])).status_code == 403
    response = client.post(reverse("slo_add", args=[service.slug]), valid_slo_form())
    assert response.status_code == 403
    assert not SLO.objects.exists()


def test_an_invalid_slo_form_shows_the_errors_and_writes_nothing(as_user, service):
    response = as_user("owner").post(
        reverse("slo_add", args=[service.slug]),
        valid_slo_form(objective="100", total_query=valid_slo_form()["events_query"]),
    )
    assert response.status_code == 200
    assertContains(response, "The objective is a percentage above 0 and below 100.")
    assert not SLO.objects.exists()


def test_a_second_slo_with_the_same_slug_is_refused_with_a_message(as_user, slo):
    response = as_user("owner").post(
        reverse("slo_add", args=[slo.service.slug]),
        valid_slo_form(name="Checkout availability", slug="checkout"),
    )
    assert response.status_code == 200
    assertContains(response, "already exists")
    assert SLO.objects.count() == 1


@pytest.mark.parametrize("user", EDITORS)
def test_editors_edit_an_slo(as_user, slo, user):
    client = as_user(user)
    assertContains(client.get(slo_url("slo_edit", slo)), "Edit Checkout availability")
    response = client.post(
        slo_url("slo_edit", slo), valid_slo_form(name="Checkout availability", slug="checkout")
    )
    assertRedirects(response, slo.get_absolute_url())
    slo.refresh_from_db()
    assert slo.objective == 99.5


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_edit_an_slo(as_user, slo, user):
    client = as_user(user)
    assert client.get(slo_url("slo_edit", slo)).status_code == 403
    assert client.post(slo_url("slo_edit", slo), valid_slo_form()).status_code == 403
    slo.refresh_from_db()
    assert slo.name == "Checkout availability"


@pytest.mark.parametrize("user", EDITORS)
def test_editors_delete_an_slo_after_confirming(as_user, slo, user):
    client = as_user(user)
    assertContains(client.get(slo_url("slo_delete", slo)), "This cannot be undone.")
    assert SLO.objects.filter(pk=slo.pk).exists()
    assertRedirects(client.post(slo_url("slo_delete", slo)), slo.service.get_absolute_url())
    assert not SLO.objects.filter(pk=slo.pk).exists()


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_delete_an_slo(as_user, slo, user):
    client = as_user(user)
    assert client.get(slo_url("slo_delete", slo)).status_code == 403
    assert client.post(slo_url("slo_delete", slo)).status_code == 403
    assert SLO.objects.filter(pk=slo.pk).exists()


# --- Maintenance windows ----------------------------------------------------------------


@pytest.mark.parametrize("user", EDITORS)
def test_editors_add_a_maintenance_window_from_the_slo_page(as_user, slo, user):
    response = as_user(user).post(
        slo_url("maintenance_window_add", slo),
        {"start": "2026-12-01T02:00", "end": "2026-12-01T04:00", "reason": "Database upgrade"},
    )
    assertRedirects(response, slo.get_absolute_url())
    window = slo.maintenance_windows.get()
    assert window.start == datetime(2026, 12, 1, 2, tzinfo=UTC)
    assertContains(as_user(user).get(slo.get_absolute_url()), "Database upgrade")


def test_planning_or_dropping_maintenance_recomputes_the_snapshot_once_committed(
    as_user, slo, django_capture_on_commit_callbacks
):
    client = as_user("owner")
    with django_capture_on_commit_callbacks() as added:
        client.post(
            slo_url("maintenance_window_add", slo),
            {"start": "2026-12-01T02:00", "end": "2026-12-01T04:00", "reason": "Upgrade"},
        )
    window = slo.maintenance_windows.get()
    assert DirtySLO.objects.filter(slo=slo).exists()
    slo_statuses_recompute_dirty(now=timezone.now())  # what the ring sets off
    assert not DirtySLO.objects.exists()
    url = reverse("maintenance_window_delete", args=[slo.service.slug, slo.slug, window.pk])
    with django_capture_on_commit_callbacks() as deleted:
        client.post(url)
    assert (len(added), len(deleted)) == (1, 1)
    assert DirtySLO.objects.filter(slo=slo).exists()


def test_editing_an_slo_recomputes_its_snapshot_once_committed(
    as_user, slo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        as_user("owner").post(
            slo_url("slo_edit", slo), valid_slo_form(name="Checkout availability", slug="checkout")
        )
    # The snapshot's recompute, and the service's checks (which read its SLOs).
    assert [callback.args[0].name for callback in callbacks] == [
        "services.tasks.recompute_dirty_slos",
        "services.tasks.recompute_dirty_checks",
    ]


def test_a_maintenance_window_ending_before_it_starts_is_refused(as_user, slo):
    response = as_user("owner").post(
        slo_url("maintenance_window_add", slo),
        {"start": "2026-12-01T04:00", "end": "2026-12-01T02:00", "reason": "Backwards"},
    )
    assertContains(response, "A maintenance window ends after it starts.")
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_add_or_delete_maintenance_windows(as_user, slo, user):
    window = MaintenanceWindow.objects.create(
        slo=slo,
        start=datetime(2026, 12, 1, 2, tzinfo=UTC),
        end=datetime(2026, 12, 1, 4, tzinfo=UTC),
        reason="Planned",
    )
    client = as_user(user)
    response = client.post(
        slo_url("maintenance_window_add", slo),
        {"start": "2026-12-02T02:00", "end": "2026-12-02T04:00", "reason": "Sneaky"},
    )
    assert response.status_code == 403
    delete_url = reverse("maintenance_window_delete", args=[slo.service.slug, slo.slug, window.pk])
    assert client.post(delete_url).status_code == 403
    assert list(MaintenanceWindow.objects.values_list("reason", flat=True)) == ["Planned"]


@pytest.mark.parametrize("user", EDITORS)
def test_editors_delete_a_maintenance_window_after_confirming(as_user, slo, user):
    window = MaintenanceWindow.objects.create(
        slo=slo,
        start=datetime(2026, 12, 1, 2, tzinfo=UTC),
        end=datetime(2026, 12, 1, 4, tzinfo=UTC),
        reason="Planned",
    )
    url = reverse("maintenance_window_delete", args=[slo.service.slug, slo.slug, window.pk])
    client = as_user(user)
    assertContains(client.get(url), "counts against the error budget")
    assertRedirects(client.post(url), slo.get_absolute_url())
    assert not MaintenanceWindow.objects.exists()


def test_a_maintenance_window_of_another_slo_is_not_found(as_user, slo, service):
    other = make_slo(service, 5)
    window = MaintenanceWindow.objects.create(
        slo=other,
        start=datetime(2026, 12, 1, 2, tzinfo=UTC),
        end=datetime(2026, 12, 1, 4, tzinfo=UTC),
        reason="Planned",
    )
    url = reverse("maintenance_window_delete", args=[slo.service.slug, slo.slug, window.pk])
    assert as_user("owner").post(url).status_code == 404
    assert MaintenanceWindow.objects.exists()


def test_the_org_scorecard_shows_teams_other_than_payments(as_user, viewer):
    team = TeamFactory(name="Storage", slug="storage")
    make_status(make_slo(ServiceFactory(owner_team=team), name="Durability"))
    assertContains(as_user("viewer").get(reverse("slo_list")), ">Storage<")


# --- Demo data ---------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 11, 20, 12, 2, tzinfo=UTC), tick=False)
def test_the_demo_data_shows_healthy_burning_and_exhausted_slos_and_loads_again_unchanged(
    client, django_user_model, django_capture_on_commit_callbacks, monkeypatch
):
    # The worker's recompute, run in place once the load commits.
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        load_demo_data(password="correct horse battery staple")
    states = {
        status.slo.slug: (status.policy_tier, status.alert, status.stale)
        for status in SLOStatus.objects.select_related("slo")
    }
    assert states == {
        "checkout-availability": ("healthy", "none", False),
        "availability": ("caution", "page", False),
        "page-loads": ("healthy", "none", False),
        "order-placement": ("frozen", "ticket", False),
        "query-latency": ("frozen", "ticket", False),
        "event-delivery": ("healthy", "none", True),
        "scoring-availability": ("healthy", "none", False),
    }
    buckets = SLIBucket.objects.count()
    load_demo_data(password="correct horse battery staple")
    assert SLO.objects.count() == len(slo_demo.SLOS)
    assert SLIBucket.objects.count() == buckets
    assert MaintenanceWindow.objects.count() == 1
    client.force_login(django_user_model.objects.get(username=ADMIN_USERNAME))
    scorecard = client.get(reverse("slo_list"), {"alert": "page"})
    assertContains(scorecard, "Gateway availability")
