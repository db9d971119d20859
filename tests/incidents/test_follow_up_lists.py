"""Follow-ups across teams: /action-items/ (every team's, filtered), the post-mortem list's
drafts / in review / past due, and declaring an incident from a paging SLO."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from incidents.choices import PostMortemStatus
from tests.factories import ServiceFactory
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory
from tests.services.slo_data import make_slo, make_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(service, search_team, owner, outsider):
    """An overdue item of Payments owned by Olivia, a later one of Search owned by Oscar."""
    today = timezone.localdate()
    search_service = ServiceFactory(owner_team=search_team, name="Search API")
    return {
        "payments": ActionItemFactory(
            postmortem=PostMortemFactory(incident=IncidentFactory(services=[service])),
            owner=owner,
            title="Add a retry",
            due_date=today - dt.timedelta(days=3),
        ),
        "search": ActionItemFactory(
            postmortem=PostMortemFactory(incident=IncidentFactory(services=[search_service])),
            owner=outsider,
            title="Shard the index",
            due_date=today + dt.timedelta(days=9),
        ),
    }


def test_the_action_item_list_shows_every_teams_items_with_links_to_each(client_for, viewer, items):
    response = client_for(viewer).get(reverse("action_item_list"))
    item = items["payments"]
    incident = item.postmortem.incident
    assertContains(
        response,
        f'<a href="{reverse("postmortem_detail", args=[incident.reference])}'
        f'#action-item-{item.pk}">Add a retry</a>',
    )
    assertContains(response, "Shard the index")
    assertContains(response, "Olivia Owner")
    assertContains(response, '<span class="badge overdue">Overdue</span>')


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ({"team": "payments"}, "Add a retry", "Shard the index"),
        ({"team": "search"}, "Shard the index", "Add a retry"),
        ({"owner": "oscar"}, "Shard the index", "Add a retry"),
        ({"overdue": "true"}, "Add a retry", "Shard the index"),
        ({"status": "open", "overdue": "false"}, "Shard the index", "Add a retry"),
    ],
)
def test_the_action_item_list_filters_by_team_owner_status_and_overdue(
    client_for, viewer, items, query, shown, hidden
):
    response = client_for(viewer).get(reverse("action_item_list"), query)
    assertContains(response, shown)
    assertNotContains(response, hidden)


def test_the_action_item_list_says_when_nothing_matches(client_for, viewer, items):
    response = client_for(viewer).get(reverse("action_item_list"), {"owner": "nobody"})
    assertContains(response, "No action item matches these filters.")


def test_the_action_item_list_answers_htmx_with_its_results_alone(client_for, viewer, items):
    response = client_for(viewer).get(reverse("action_item_list"), HTTP_HX_REQUEST="true")
    assertContains(response, "Add a retry")
    assertNotContains(response, "<html")


def test_my_action_items_link_each_title_to_the_item(client_for, owner, items):
    item = items["payments"]
    response = client_for(owner).get(reverse("action_item_mine"))
    assertContains(response, f'#action-item-{item.pk}">Add a retry</a>')


@pytest.mark.parametrize("count", [3, 30])
def test_the_action_item_list_costs_the_same_queries_for_3_or_30_items(
    client_for, viewer, service, django_assert_max_num_queries, count
):
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]))
    for _ in range(count):
        ActionItemFactory(postmortem=postmortem)
    client = client_for(viewer)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("action_item_list"))
    assert response.status_code == 200


def test_the_api_lists_action_items_of_a_team(api_client_for, viewer, items):
    response = api_client_for(viewer).get("/api/action-items/", {"team": "search"})
    assert [row["title"] for row in response.json()["results"]] == ["Shard the index"]


# --- the post-mortem list's states ---------------------------------------------------------


@pytest.fixture
def postmortems(service, search_team):
    now = timezone.now()
    return {
        "draft": PostMortemFactory(
            incident=IncidentFactory(services=[service], title="Draft one"),
            status=PostMortemStatus.DRAFT,
            due_at=now + dt.timedelta(days=2),
        ),
        "late": PostMortemFactory(
            incident=IncidentFactory(services=[service], title="Late one"),
            status=PostMortemStatus.IN_REVIEW,
            due_at=now - dt.timedelta(days=2),
        ),
        "published": PostMortemFactory(
            incident=IncidentFactory(services=[service], title="Published one"),
            status=PostMortemStatus.PUBLISHED,
            published_at=now - dt.timedelta(days=1),
            due_at=now - dt.timedelta(days=3),
        ),
    }


@pytest.mark.parametrize(
    "query, shown",
    [
        ({}, {"Published one"}),
        ({"status": "draft"}, {"Draft one"}),
        ({"status": "in_review"}, {"Late one"}),
        ({"past_due": "true"}, {"Late one"}),
        ({"team": "payments", "status": "draft"}, {"Draft one"}),
        ({"team": "search", "status": "draft"}, set()),
    ],
)
def test_the_post_mortem_list_shows_published_ones_unless_asked_for_drafts_reviews_or_late(
    client_for, viewer, postmortems, query, shown
):
    response = client_for(viewer).get(reverse("postmortem_list"), query)
    for title in {"Draft one", "Late one", "Published one"}:
        assert (title in response.text) is (title in shown), title


def test_a_late_post_mortem_is_marked_overdue_in_the_list(client_for, viewer, postmortems):
    response = client_for(viewer).get(reverse("postmortem_list"), {"past_due": "true"})
    assertContains(response, '<span class="badge overdue">Overdue</span>')
    assertContains(response, "<h1>Post-mortems</h1>", html=True)


def test_the_api_filters_post_mortems_past_due(api_client_for, viewer, postmortems):
    response = api_client_for(viewer).get("/api/postmortems/", {"past_due": "true"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [postmortems["late"].pk]


def test_a_post_mortem_page_highlights_post_mortems_in_the_navigation(
    client_for, viewer, postmortems
):
    incident = postmortems["draft"].incident
    response = client_for(viewer).get(reverse("postmortem_detail", args=[incident.reference]))
    assertContains(
        response, f'<a href="{reverse("postmortem_list")}" aria-current="page">Post-mortems</a>'
    )
    assertNotContains(
        response, f'<a href="{reverse("incident_list")}" aria-current="page">Incidents</a>'
    )


# --- declaring from a paging SLO -------------------------------------------------------------


def test_a_paging_slo_links_engineers_to_declare_an_incident_with_it_filled_in(
    client_for, owner, viewer, service
):
    slo = make_slo(service, 1, name="Checkout availability")
    make_status(slo, alert="page")
    link = f"{reverse('incident_declare')}?service=payments-api&amp;slo={slo.slug}"
    assertContains(client_for(owner).get(slo.get_absolute_url()), link)
    assertNotContains(client_for(viewer).get(slo.get_absolute_url()), link)
    form = client_for(owner).get(
        reverse("incident_declare"), {"service": "payments-api", "slo": slo.slug}
    )
    assertContains(form, "Payments API: Checkout availability burns its error budget")
    # The affected services are a ChoicePicker: the service comes ticked and among the chosen.
    page = form.text
    assert f'value="{service.pk}"' in page
    ticked = page.split(f'value="{service.pk}"', 1)[1].split(">", 1)[0]
    assert "checked" in ticked
    assert '<span class="chip">Payments API</span>' in page


def test_a_quiet_slo_offers_no_declare_link(client_for, owner, service):
    slo = make_slo(service, 1)
    make_status(slo, alert="ticket")
    assertNotContains(client_for(owner).get(slo.get_absolute_url()), "Declare an incident")


def test_the_declare_form_ignores_an_unknown_service_in_its_link(client_for, owner, service):
    response = client_for(owner).get(reverse("incident_declare"), {"service": "nope"})
    assert response.status_code == 200
    assertNotContains(response, "burns its error budget")


# --- the team page's roll-up ---------------------------------------------------------------


def test_the_team_page_rolls_up_slos_met_and_missed_this_month_and_open_follow_ups(
    client_for, viewer, service, items
):
    met = make_status(make_slo(service, 1))
    met.monthly[-1]["met"] = True
    met.save()
    make_status(make_slo(service, 2), alert="page")  # its month so far is missed
    make_slo(service, 3)  # never computed
    IncidentFactory(services=[service])
    PostMortemFactory(
        incident=IncidentFactory(services=[service]),
        due_at=timezone.now() - dt.timedelta(hours=1),
    )
    response = client_for(viewer).get(reverse("team_detail", args=["payments"]))
    panel = response.text.split('aria-labelledby="team-attention-heading"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert '<span class="stat-value">1</span> SLO met this month' in panel
    assert '<span class="stat-value">1</span> missed' in panel
    assert '<span class="stat-value">1</span> without data' in panel
    assert '<span class="stat-value">1</span> paging' in panel
    # Three open: the item's incident (IncidentFactory's are open), this one, the post-mortem's.
    assert '<span class="stat-value">3</span> open incidents' in panel
    assert '<span class="stat-value">1</span> overdue action item' in panel
    assert '<span class="stat-value">1</span> post-mortem past due' in panel
    assert f"{reverse('action_item_list')}?overdue=true&amp;team=payments" in panel
    assert f"{reverse('incident_list')}?open=true&amp;team=payments" in panel
