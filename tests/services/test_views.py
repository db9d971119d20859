"""The catalog UI: services, teams and the Backstage upload, for every kind of user."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from services.actions.catalog import service_update
from services.choices import Lifecycle, Tier
from services.models.catalog import Service, Team
from services.selectors.catalog import teams_of_person_and_counts
from services.selectors.slos import slo_report_rows
from services.views import catalog as catalog_views
from tests.factories import MembershipFactory, ServiceFactory, TagFactory, TeamFactory, UserFactory
from tests.services.slo_data import make_slo

pytestmark = pytest.mark.django_db

SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
# Who may change the payments team's services: its engineers and SRE leads.
EDITORS = ["owner", "teammate", "sre_lead"]
NON_EDITORS = ["outsider", "viewer"]
NOT_SRE_LEADS = ["owner", "teammate", "outsider", "viewer"]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(request, client_for):
    """A client signed in as the fixture user of that name: as_user("owner")."""

    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def service_url(name, service):
    return reverse(name, args=[service.slug])


def make_catalog(count, team):
    """count services with tags and dependencies on one another, as a real catalog has."""
    tags = [TagFactory(name="python"), TagFactory(name="pci")]
    services = []
    for number in range(count):
        services.append(
            ServiceFactory(
                name=f"Svc {number:02d}",
                slug=f"svc-{number:02d}",
                owner_team=team,
                tags=tags,
                depends_on=services[-2:],
            )
        )
    return services


# --- Every page needs sign-in -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, needs_slug",
    [
        ("service_list", False),
        ("service_add", False),
        ("backstage_import", False),
        ("service_detail", True),
        ("service_edit", True),
        ("service_delete", True),
        ("team_list", False),
        ("team_add", False),
        ("team_detail", True),
        ("team_edit", True),
        ("team_delete", True),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_from_every_catalog_page(
    client, service, name, needs_slug
):
    slug = service.owner_team.slug if name.startswith("team") else service.slug
    url = reverse(name, args=[slug] if needs_slug else [])
    response = client.get(url)
    assertRedirects(response, f"{reverse('login')}?next={url}")


def test_import_is_routed_before_the_service_slug(as_user):
    response = as_user("viewer").get("/services/import/")
    # A viewer is refused the upload page rather than told there is no service "import".
    assert response.status_code == 403


# --- Service list ------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_the_catalog(as_user, service, user):
    response = as_user(user).get(reverse("service_list"))
    assertContains(response, "Service catalog")
    assertContains(response, f'<a href="{service.get_absolute_url()}">Payments API</a>', html=True)
    assertContains(response, f'<a href="{service.owner_team.get_absolute_url()}">Payments</a>')


@pytest.mark.parametrize("user, shown", [("owner", True), ("outsider", True), ("viewer", False)])
def test_the_add_button_shows_only_to_users_who_edit_some_team(as_user, service, user, shown):
    response = as_user(user).get(reverse("service_list"))
    assert (reverse("service_add") in response.text) is shown


def test_a_row_shows_team_tier_lifecycle_tags_and_dependents(as_user, service):
    service.tags.set([TagFactory(name="pci")])
    ServiceFactory(name="Checkout", depends_on=[service])
    response = as_user("viewer").get(reverse("service_list"), {"q": "payments"})
    row = response.text.split(service.get_absolute_url())[1].split("</tr>")[0]
    assert "Tier 2" in row
    assert "Production" in row
    assert ">pci</a>" in row
    assert '<td class="number">1</td>' in row


def test_the_results_fragment_escapes_names_and_tags_and_links_each_tag(as_user, payments):
    ServiceFactory(
        name="Ops <b> & co",
        slug="ops",
        owner_team=payments,
        tags=[TagFactory(name="Zed <i>", slug="zed"), TagFactory(name="Alpha&b", slug="alpha")],
    )
    response = as_user("viewer").get(reverse("service_list"), {"q": "ops"}, **HTMX)
    html = response.text
    assert "<b>" not in html and "<i>" not in html
    assert ">Ops &lt;b&gt; &amp; co</a>" in html
    # Tags in name order, each a link to the catalog filtered by it.
    assert html.index(">Alpha&amp;b</a>") < html.index(">Zed &lt;i&gt;</a>")
    assert f'href="{reverse("service_list")}?tag=zed"' in html
    assert "bound method" not in html


def test_search_narrows_the_catalog_by_name_description_and_system(as_user, service):
    ServiceFactory(name="Search indexer", description="Feeds the index", system="discovery")
    client = as_user("viewer")
    response = client.get(reverse("service_list"), {"q": "index"})
    assertContains(response, "Search indexer")
    assertNotContains(response, "Payments API")
    response = client.get(reverse("service_list"), {"q": "discovery"})
    assertContains(response, "Search indexer")
    assertContains(response, "1 service<")


def test_an_htmx_search_answers_with_the_results_block_only(as_user, service):
    response = as_user("viewer").get(reverse("service_list"), {"q": "pay"}, **HTMX)
    assert "<html" not in response.text
    assert "<form" not in response.text
    assertContains(response, "Payments API")
    assertContains(response, "1 service<")
    assert "HX-Request" in response["Vary"]


def test_a_boosted_or_history_restore_request_gets_the_full_page(as_user, service):
    client = as_user("viewer")
    boosted = client.get(reverse("service_list"), HTTP_HX_BOOSTED="true", **HTMX)
    restore = client.get(reverse("service_list"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in boosted.text
    assert "<html" in restore.text


def test_the_search_box_asks_htmx_for_the_results_as_the_user_types(as_user, service):
    response = as_user("viewer").get(reverse("service_list"))
    assertContains(response, 'hx-trigger="input changed delay:300ms, search"')
    assertContains(response, 'hx-target="#results"')
    assertContains(response, 'hx-push-url="true"')
    assertContains(response, '<div id="results"')


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"team": "search"}, "Indexer"),
        ({"tier": "1"}, "Indexer"),
        ({"lifecycle": "deprecated"}, "Indexer"),
        ({"tag": "java"}, "Indexer"),
        ({"team": "payments"}, "Payments API"),
    ],
)
def test_filters_by_team_tier_lifecycle_and_tag(as_user, service, search_team, params, expected):
    ServiceFactory(
        name="Indexer",
        owner_team=search_team,
        tier=Tier.TIER_1,
        lifecycle=Lifecycle.DEPRECATED,
        tags=[TagFactory(name="java")],
    )
    response = as_user("viewer").get(reverse("service_list"), params, **HTMX)
    other = {"Indexer", "Payments API"} - {expected}
    assertContains(response, f">{expected}</a>")
    assertNotContains(response, f">{other.pop()}</a>")


def test_the_filter_selects_show_the_chosen_values(as_user, service):
    response = as_user("viewer").get(reverse("service_list"), {"team": "payments", "tier": "2"})
    assertContains(response, '<option value="payments" selected>Payments</option>', html=True)
    assertContains(response, '<option value="2" selected>Tier 2 (important)</option>', html=True)


def test_column_headers_sort_and_toggle_the_direction(as_user, payments):
    ServiceFactory(name="Alpha", owner_team=payments, tier=Tier.TIER_3)
    ServiceFactory(name="Beta", owner_team=payments, tier=Tier.TIER_1)
    client = as_user("viewer")

    by_tier = client.get(reverse("service_list"), {"ordering": "tier"})
    assert by_tier.text.index(">Beta<") < by_tier.text.index(">Alpha<")
    # The header of the active column now offers the other direction, and says so.
    assertContains(by_tier, 'href="?ordering=-tier"')
    assertContains(by_tier, 'aria-sort="ascending"')

    by_tier_desc = client.get(reverse("service_list"), {"ordering": "-tier"})
    assert by_tier_desc.text.index(">Alpha<") < by_tier_desc.text.index(">Beta<")
    assertContains(by_tier_desc, 'aria-sort="descending"')


def test_sorting_by_dependents_puts_the_most_depended_on_first(as_user, payments):
    core = ServiceFactory(name="Core", owner_team=payments)
    ServiceFactory(name="Edge", owner_team=payments, depends_on=[core])
    ServiceFactory(name="Web", owner_team=payments, depends_on=[core])
    response = as_user("viewer").get(reverse("service_list"), {"ordering": "-dependents"})
    assert response.text.index(">Core<") < response.text.index(">Edge<")


def test_pages_hold_25_services_and_page_links_keep_the_filters(as_user, payments):
    make_catalog(27, payments)
    client = as_user("viewer")
    first = client.get(reverse("service_list"), {"team": "payments", "ordering": "name"})
    assertContains(first, "Page 1 of 2")
    assertContains(first, ">Svc 24<")
    assertNotContains(first, ">Svc 25<")
    assertContains(first, 'href="?team=payments&amp;ordering=name&amp;page=2"')

    second = client.get(
        reverse("service_list"), {"team": "payments", "ordering": "name", "page": "2"}
    )
    assertContains(second, ">Svc 25<")
    assertContains(second, ">Svc 26<")
    assertNotContains(second, ">Svc 24<")


def test_a_sort_link_starts_again_at_the_first_page(as_user, payments):
    make_catalog(27, payments)
    response = as_user("viewer").get(reverse("service_list"), {"page": "2"})
    assertContains(response, 'href="?ordering=tier"')


def test_an_empty_catalog_invites_an_engineer_to_add_the_first_service(as_user, owner):
    response = as_user("owner").get(reverse("service_list"))
    assertContains(response, "The catalog has no services yet.")
    assertContains(response, "Add the first service")


def test_an_empty_catalog_tells_a_viewer_who_adds_services(as_user, viewer):
    response = as_user("viewer").get(reverse("service_list"))
    assertContains(response, "The catalog has no services yet.")
    assertNotContains(response, "Add the first service")


def test_a_search_without_matches_says_so_and_offers_to_clear_it(as_user, service):
    response = as_user("owner").get(reverse("service_list"), {"q": "nothing like this"})
    assertContains(response, "No service matches this search.")
    assertContains(response, "Clear the search and filters")
    assertNotContains(response, "The catalog has no services yet.")


@pytest.mark.parametrize("count", [3, 30])
def test_the_service_list_costs_the_same_queries_for_3_or_30_services(
    as_user, payments, django_assert_max_num_queries, count
):
    make_catalog(count, payments)
    client = as_user("viewer")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("service_list"), {"tag": "python"})
    assertContains(response, ">Svc 02<")


@pytest.mark.parametrize("count", [3, 30])
def test_the_catalog_results_fragment_costs_the_same_queries_for_3_or_30_services(
    as_user, payments, django_assert_max_num_queries, count
):
    make_catalog(count, payments)
    client = as_user("viewer")
    # The session, the user, the teams the viewer edits (for the add link), the count, the
    # page of services and their tags.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("service_list"), **HTMX)
    assertContains(response, f"{count} services<")
    assertContains(response, ">pci</a>", count=min(count, 25))


# --- Service page ------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_a_service_page(as_user, service, user):
    response = as_user(user).get(service.get_absolute_url())
    assertContains(response, "<h1>Payments API</h1>", html=True)
    assertContains(response, "Takes money.")
    assertContains(response, f'<a href="{service.owner_team.get_absolute_url()}">Payments</a>')
    assertContains(response, "Olivia Owner")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_see_edit_and_delete_buttons(as_user, service, user):
    response = as_user(user).get(service.get_absolute_url())
    assertContains(response, service_url("service_edit", service))
    assertContains(response, service_url("service_delete", service))


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_see_no_edit_or_delete_buttons(as_user, service, user):
    response = as_user(user).get(service.get_absolute_url())
    assertNotContains(response, service_url("service_edit", service))
    assertNotContains(response, service_url("service_delete", service))


def test_a_service_page_shows_links_personal_data_tags_and_system(as_user, service):
    service_update(
        service=service,
        repository_url="https://git.example.test/payments-api",
        runbook_url="https://wiki.example.test/runbooks/payments",
        handles_personal_data=True,
        data_retention_days=30,
        system="billing",
        tags=["pci"],
    )
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, 'href="https://git.example.test/payments-api"')
    assertContains(response, 'href="https://wiki.example.test/runbooks/payments"')
    assertContains(response, "Handles personal data, kept for <strong>30 days</strong>.")
    assertContains(response, "billing")
    assertContains(response, ">pci</a>")
    # Links not set are said to be missing, not left blank.
    assertContains(response, "Not set", count=2)


def test_a_service_page_lists_both_directions_of_dependencies(as_user, service, search_team):
    ledger = ServiceFactory(name="Ledger", owner_team=search_team)
    checkout = ServiceFactory(name="Checkout", owner_team=search_team, depends_on=[service])
    service.depends_on.set([ledger])
    response = as_user("viewer").get(service.get_absolute_url())
    depends_on, depended_on_by = response.text.split("Depended on by")
    assert ledger.get_absolute_url() in depends_on.split("Depends on")[1]
    assert checkout.get_absolute_url() in depended_on_by
    assert ledger.get_absolute_url() not in depended_on_by


def test_a_service_page_keeps_honest_empty_panels_for_later_features(as_user, service):
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, "No SLOs defined yet.")
    assertContains(response, "No readiness review yet.")
    assertContains(response, "No incidents recorded yet.")
    assertContains(response, "This service depends on no other service in the catalog.")
    assertContains(response, "No service in the catalog depends on this one.")


def test_an_unknown_service_is_not_found(as_user, service):
    response = as_user("viewer").get(reverse("service_detail", args=["no-such-service"]))
    assert response.status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_the_service_page_costs_the_same_queries_for_3_or_30_neighbours(
    as_user, payments, django_assert_max_num_queries, count
):
    services = make_catalog(count, payments)
    hub = services[0]
    hub.depends_on.set(services[1:])
    client = as_user("owner")
    # 10, one for the compliance panel, up to 6 for the readiness and maturity panels
    # (services/templatetags/readiness.py), and three for the changes panel (toil's
    # service_changes_panel: the freezes, the gate's latest decisions, the DORA snapshots).
    with django_assert_max_num_queries(20):
        response = client.get(hub.get_absolute_url())
    assertContains(response, services[-1].get_absolute_url())


# --- Adding a service --------------------------------------------------------------------


def valid_service_data(team, **changes):
    data = {
        "name": "Refunds",
        "slug": "",
        "owner_team": team.pk,
        "tier": Tier.TIER_1,
        "lifecycle": Lifecycle.EXPERIMENTAL,
        "description": "Gives money back.",
        "tags": "payments, PCI , ",
        "data_retention_days": "",
    }
    return data | changes


@pytest.mark.parametrize("user", ["owner", "teammate", "outsider", "sre_lead"])
def test_engineers_and_sre_leads_get_the_add_form(as_user, service, user):
    response = as_user(user).get(reverse("service_add"))
    assertContains(response, "<h1>Add a service</h1>", html=True)
    assertContains(response, 'name="tags"')


def test_a_viewer_may_not_add_a_service(as_user, viewer):
    assert as_user("viewer").get(reverse("service_add")).status_code == 403
    assert as_user("viewer").post(reverse("service_add"), {}).status_code == 403


def test_the_team_page_link_preselects_the_team(as_user, payments, owner):
    response = as_user("owner").get(reverse("service_add"), {"owner_team": payments.pk})
    assertContains(response, f'<option value="{payments.pk}" selected>Payments</option>', html=True)


def test_adding_a_service_saves_it_with_tags_and_dependencies(as_user, service, payments):
    response = as_user("owner").post(
        reverse("service_add"), valid_service_data(payments, depends_on=[service.pk])
    )
    refunds = Service.objects.get(slug="refunds")
    assertRedirects(response, refunds.get_absolute_url())
    assert refunds.owner_team == payments
    assert sorted(refunds.tags.values_list("name", flat=True)) == ["PCI", "payments"]
    assert list(refunds.depends_on.all()) == [service]
    assert messages_of(response) == ["Service “Refunds” was added to the catalog."]


def test_an_engineer_cannot_give_a_new_service_to_another_team(as_user, outsider, payments):
    response = as_user("outsider").post(reverse("service_add"), valid_service_data(payments))
    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")
    assert not Service.objects.filter(slug="refunds").exists()


def test_the_add_form_explains_what_is_wrong(as_user, service, payments):
    data = valid_service_data(
        payments, name="", slug="payments-api", handles_personal_data="on", repository_url="nope"
    )
    response = as_user("owner").post(reverse("service_add"), data)
    assert response.status_code == 200
    assertContains(response, "This field is required.")
    assertContains(response, "Enter a valid URL.")
    assertContains(response, "Required when the service handles personal data.")
    assertContains(response, "Service with this Slug already exists.")
    assert Service.objects.count() == 1


def test_an_error_from_the_action_is_shown_on_the_form_not_as_a_500(
    as_user, owner, payments, monkeypatch
):
    def refuse(**fields):
        raise ValidationError({"name": "Taken by a service being imported.", "other": "Later."})

    monkeypatch.setattr(catalog_views, "service_create", refuse)
    response = as_user("owner").post(reverse("service_add"), valid_service_data(payments))
    assert response.status_code == 200
    assertContains(response, "Taken by a service being imported.")
    assertContains(response, "Later.")


# --- Editing a service -------------------------------------------------------------------


@pytest.mark.parametrize("user", EDITORS)
def test_editors_get_the_edit_form_filled_in(as_user, service, user):
    service.tags.set([TagFactory(name="pci"), TagFactory(name="python")])
    response = as_user(user).get(service_url("service_edit", service))
    assertContains(response, "<h1>Edit Payments API</h1>", html=True)
    assertContains(response, 'value="pci, python"')
    assertContains(response, "Takes money.")


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_edit_a_service(as_user, service, user):
    client = as_user(user)
    assert client.get(service_url("service_edit", service)).status_code == 403
    data = valid_service_data(service.owner_team, name="Hijacked")
    assert client.post(service_url("service_edit", service), data).status_code == 403
    service.refresh_from_db()
    assert service.name == "Payments API"


def test_editing_an_unknown_service_is_not_found(as_user, owner):
    assert as_user("owner").get(reverse("service_edit", args=["nope"])).status_code == 404


def test_a_service_cannot_be_offered_as_its_own_dependency(as_user, service):
    other = ServiceFactory(name="Ledger")
    response = as_user("owner").get(service_url("service_edit", service))
    assertContains(response, f'name="depends_on" value="{other.pk}"')
    assertNotContains(response, f'name="depends_on" value="{service.pk}"')


def test_editing_changes_tier_and_description_and_replaces_tags(as_user, service, payments):
    service.tags.set([TagFactory(name="old")])
    data = valid_service_data(
        payments,
        name="Payments API",
        slug="payments-api",
        tier=Tier.TIER_3,
        description="Takes money, politely.",
        tags="new",
    )
    response = as_user("teammate").post(service_url("service_edit", service), data)
    assertRedirects(response, service.get_absolute_url())
    service.refresh_from_db()
    assert service.tier == Tier.TIER_3
    assert service.description == "Takes money, politely."
    assert list(service.tags.values_list("name", flat=True)) == ["new"]
    assert messages_of(response) == ["Service “Payments API” was saved."]


def test_an_invalid_edit_keeps_the_page_links_on_the_saved_slug(as_user, service, payments):
    data = valid_service_data(payments, name="", slug="renamed")
    response = as_user("owner").post(service_url("service_edit", service), data)
    assertContains(response, "This field is required.")
    assertContains(response, f'<a href="{service.get_absolute_url()}">Cancel</a>', html=True)
    assert Service.objects.filter(slug="payments-api").exists()


# --- Deleting a service ------------------------------------------------------------------


def test_the_delete_page_says_which_services_depend_on_this_one(as_user, service):
    ServiceFactory(name="Checkout", depends_on=[service])
    response = as_user("owner").get(service_url("service_delete", service))
    assertContains(response, "<h1>Delete Payments API?</h1>", html=True)
    assertContains(response, "1 service depends on it")
    assertContains(response, ">Checkout</a>")
    assert Service.objects.filter(pk=service.pk).exists()


def test_the_delete_page_of_a_service_nothing_depends_on_says_so(as_user, service):
    response = as_user("sre_lead").get(service_url("service_delete", service))
    assertContains(response, "No other service depends on it.")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_delete_a_service_after_confirming(as_user, service, user):
    response = as_user(user).post(service_url("service_delete", service))
    assertRedirects(response, reverse("service_list"))
    assert not Service.objects.filter(pk=service.pk).exists()
    assert messages_of(response) == ["Service “Payments API” was deleted."]


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_may_not_delete_a_service(as_user, service, user):
    client = as_user(user)
    assert client.get(service_url("service_delete", service)).status_code == 403
    assert client.post(service_url("service_delete", service)).status_code == 403
    assert Service.objects.filter(pk=service.pk).exists()


def test_deleting_an_unknown_service_is_not_found(as_user, owner):
    assert as_user("owner").post(reverse("service_delete", args=["nope"])).status_code == 404


# --- Team list ---------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_the_teams_with_their_counts(
    as_user, service, teammate, viewer, user
):
    response = as_user(user).get(reverse("team_list"))
    row = response.text.split('<a href="/teams/payments/">Payments</a>')[1].split("</tr>")[0]
    assert "Olivia Owner" in row
    # One service; three members: owner, teammate and viewer.
    assert '<td class="number">1</td>' in row
    assert '<td class="number">3</td>' in row


@pytest.mark.parametrize("user, shown", [("sre_lead", True), ("owner", False), ("viewer", False)])
def test_only_sre_leads_are_offered_to_add_a_team(as_user, payments, user, shown):
    response = as_user(user).get(reverse("team_list"))
    assert (reverse("team_add") in response.text) is shown


def test_team_search_narrows_the_list_and_answers_htmx_with_the_results(
    as_user, payments, search_team, viewer
):
    response = as_user("viewer").get(reverse("team_list"), {"q": "sea"}, **HTMX)
    assert "<html" not in response.text
    assertContains(response, ">Search</a>")
    assertNotContains(response, ">Payments</a>")


def test_teams_sort_by_service_count(as_user, service, search_team, viewer):
    response = as_user("viewer").get(reverse("team_list"), {"ordering": "-services"})
    assert response.text.index(">Payments</a>") < response.text.index(">Search</a>")
    response = as_user("viewer").get(reverse("team_list"), {"ordering": "services"})
    assert response.text.index(">Search</a>") < response.text.index(">Payments</a>")


def test_teams_are_paginated(as_user, sre_lead):
    for number in range(26):
        TeamFactory(name=f"Team {number:02d}", slug=f"team-{number:02d}")
    client = as_user("sre_lead")
    assertContains(client.get(reverse("team_list")), "Page 1 of 2")
    second = client.get(reverse("team_list"), {"page": 2})
    assertContains(second, ">Team 25</a>")
    assertNotContains(second, ">Team 00</a>")


def test_the_team_list_explains_an_empty_result(as_user, payments, viewer):
    response = as_user("viewer").get(reverse("team_list"), {"q": "zzz"})
    assertContains(response, "No team matches this search.")


def test_without_teams_the_list_invites_an_sre_lead_to_add_one(as_user, sre_lead):
    response = as_user("sre_lead").get(reverse("team_list"))
    assertContains(response, "There are no teams yet.")
    assertContains(response, "Add the first team")


@pytest.mark.parametrize("count", [3, 30])
def test_the_team_list_costs_the_same_queries_for_3_or_30_teams(
    as_user, viewer, django_assert_max_num_queries, count
):
    for _ in range(count):
        ServiceFactory(owner_team=TeamFactory())
    client = as_user("viewer")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("team_list"))
    assert response.status_code == 200


# --- Team page ---------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_a_team_with_members_and_services(
    as_user, service, teammate, viewer, user
):
    response = as_user(user).get(reverse("team_detail", args=["payments"]))
    assertContains(response, "<h1>Payments</h1>", html=True)
    assertContains(response, "Tom Teammate</td>")
    assertContains(response, "<td>Viewer</td>", html=True)
    assertContains(response, "<td>Engineer</td>", html=True, count=2)
    assertContains(response, f'<a href="{service.get_absolute_url()}">Payments API</a>')


@pytest.mark.parametrize(
    "user, manages, adds_service",
    [
        ("sre_lead", True, True),
        ("owner", False, True),
        ("teammate", False, True),
        ("outsider", False, False),
        ("viewer", False, False),
    ],
)
def test_a_team_page_offers_the_actions_the_user_may_take(
    as_user, payments, owner, user, manages, adds_service
):
    response = as_user(user).get(reverse("team_detail", args=["payments"]))
    assert (reverse("team_edit", args=["payments"]) in response.text) is manages
    assert (reverse("team_delete", args=["payments"]) in response.text) is manages
    assert (f"{reverse('service_add')}?owner_team=" in response.text) is adds_service


def test_a_team_without_services_or_members_says_so(as_user, search_team, sre_lead):
    response = as_user("sre_lead").get(reverse("team_detail", args=["search"]))
    assertContains(response, "This team owns no services yet.")
    assertContains(response, "No members yet.")


def test_an_unknown_team_is_not_found(as_user, viewer):
    assert as_user("viewer").get(reverse("team_detail", args=["nope"])).status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_the_team_page_costs_the_same_queries_for_3_or_30_services(
    as_user, payments, owner, django_assert_max_num_queries, count
):
    make_catalog(count, payments)
    client = as_user("owner")
    # Nine, the toil panel's one (its stored month), up to 5 for the maturity panel with
    # campaigns (services/templatetags/readiness.py) and 2 for the attention roll-up
    # (incidents/templatetags/incidents.py).
    with django_assert_max_num_queries(17):
        response = client.get(reverse("team_detail", args=["payments"]))
    assertContains(response, f">Svc {count - 1:02d}</a>")


# --- Managing teams: SRE leads only ------------------------------------------------------


@pytest.mark.parametrize("user", NOT_SRE_LEADS)
@pytest.mark.parametrize("name", ["team_add", "team_edit", "team_delete"])
def test_only_sre_leads_add_edit_or_delete_teams(as_user, payments, user, name):
    url = reverse(name, args=[] if name == "team_add" else ["payments"])
    client = as_user(user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Renamed", "slug": "renamed"}).status_code == 403
    assert Team.objects.filter(slug="payments", name="Payments").exists()


def test_an_sre_lead_creates_a_team(as_user, sre_lead):
    response = as_user("sre_lead").post(
        reverse("team_add"),
        {"name": "Identity", "slug": "identity", "email": "id@example.test", "manager": ""},
    )
    assertRedirects(response, reverse("team_detail", args=["identity"]))
    assert messages_of(response) == ["Team “Identity” was created."]


def test_the_team_form_explains_what_is_wrong(as_user, payments, sre_lead):
    response = as_user("sre_lead").post(
        reverse("team_add"), {"name": "Payments", "slug": "", "email": "not an email"}
    )
    assertContains(response, "Team with this Name already exists.")
    assertContains(response, "Enter a valid email address.")
    assert Team.objects.count() == 1


def test_an_sre_lead_edits_a_team(as_user, payments, owner, sre_lead):
    client = as_user("sre_lead")
    form = client.get(reverse("team_edit", args=["payments"]))
    assertContains(form, 'value="Payments"')
    response = client.post(
        reverse("team_edit", args=["payments"]),
        {"name": "Payments", "slug": "payments", "chat_channel": "#pay", "manager": owner.pk},
    )
    assertRedirects(response, payments.get_absolute_url())
    payments.refresh_from_db()
    assert payments.chat_channel == "#pay"


def test_deleting_a_team_that_owns_services_is_refused_with_a_reason(as_user, service, sre_lead):
    client = as_user("sre_lead")
    confirm = client.get(reverse("team_delete", args=["payments"]))
    assertContains(confirm, "This team still owns 1 service")
    # Nothing to confirm while it owns services.
    assertNotContains(confirm, '<button type="submit" class="button danger">')

    response = client.post(reverse("team_delete", args=["payments"]))
    assertRedirects(response, reverse("team_detail", args=["payments"]))
    assert messages_of(response) == [
        "This team still owns services: move them to another team before deleting it."
    ]
    assert Team.objects.filter(slug="payments").exists()


def test_an_sre_lead_deletes_a_team_without_services(as_user, search_team, outsider, sre_lead):
    client = as_user("sre_lead")
    confirm = client.get(reverse("team_delete", args=["search"]))
    assertContains(confirm, "The team and its 1 membership are removed.")
    response = client.post(reverse("team_delete", args=["search"]))
    assertRedirects(response, reverse("team_list"))
    assert not Team.objects.filter(slug="search").exists()
    assert messages_of(response) == ["Team “Search” was deleted."]


# --- Backstage upload --------------------------------------------------------------------

CATALOG_INFO = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: identity
  title: Identity
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: login-service
  description: Signs people in.
  tags: [python]
spec:
  type: service
  lifecycle: production
  owner: group:identity
"""

MISSING_OWNER = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orphan
spec:
  type: service
  lifecycle: production
"""


def upload(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="application/yaml")


@pytest.mark.parametrize("user", NOT_SRE_LEADS)
def test_only_sre_leads_may_import_a_backstage_catalog(as_user, payments, user):
    client = as_user(user)
    assert client.get(reverse("backstage_import")).status_code == 403
    response = client.post(
        reverse("backstage_import"), {"files": upload("catalog-info.yaml", CATALOG_INFO)}
    )
    assert response.status_code == 403
    assert not Service.objects.filter(slug="login-service").exists()


def test_an_sre_lead_gets_the_upload_form(as_user, sre_lead):
    response = as_user("sre_lead").get(reverse("backstage_import"))
    assertContains(response, 'enctype="multipart/form-data"')
    assertContains(
        response,
        '<input type="file" name="files" accept=".yaml,.yml" multiple required '
        'aria-describedby="id_files_helptext" id="id_files">',
        html=True,
    )


def test_an_uploaded_catalog_is_imported_and_reported(as_user, sre_lead):
    response = as_user("sre_lead").post(
        reverse("backstage_import"), {"files": upload("catalog-info.yaml", CATALOG_INFO)}
    )
    assertContains(response, "Import report")
    assertContains(response, "Teams: 1 created, 0 updated, 0 unchanged")
    assertContains(response, "Services: 1 created, 0 updated, 0 unchanged")
    login = Service.objects.get(slug="login-service")
    assert login.owner_team.name == "Identity"
    assert messages_of(response) == ["The catalog was imported."]


def test_a_malformed_catalog_is_refused_naming_file_document_and_field(as_user, sre_lead):
    response = as_user("sre_lead").post(
        reverse("backstage_import"),
        {
            "files": [
                upload("good.yaml", CATALOG_INFO),
                upload("orphan.yaml", MISSING_OWNER),
            ]
        },
    )
    assert response.status_code == 200
    assertContains(response, "orphan.yaml")
    assertContains(response, "document 1")
    assertContains(response, "spec.owner")
    assertNotContains(response, "Import report")
    # All or nothing: the good file was not imported either.
    assert not Team.objects.filter(slug="identity").exists()
    assert not Service.objects.exists()


def test_an_upload_without_files_asks_for_one(as_user, sre_lead):
    response = as_user("sre_lead").post(reverse("backstage_import"), {})
    assertContains(response, "This field is required.")


# --- Chat channels link out ------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel, base, shown",
    [
        ("#payments-oncall", "https://chat.example.test/channels/",
         '<a href="https://chat.example.test/channels/payments-oncall" rel="noopener">'
         "#payments-oncall</a>"),
        ("#payments-oncall", "", "<dd>#payments-oncall</dd>"),
        ("https://chat.example.test/c/42", "",
         '<a href="https://chat.example.test/c/42" rel="noopener">https://chat.example.test/c/42</a>'),
        ("<b>ops</b>", "https://chat.example.test/", "<dd>&lt;b&gt;ops&lt;/b&gt;</dd>"),
        ("", "https://chat.example.test/", "<dd>—</dd>"),
    ],
)  # fmt: skip
def test_a_teams_chat_channel_links_out_when_it_is_a_url_or_a_channel_with_a_base(
    as_user, payments, settings, channel, base, shown
):
    settings.CHAT_BASE_URL = base
    payments.chat_channel = channel
    payments.save()
    response = as_user("viewer").get(reverse("team_detail", args=["payments"]))
    assertContains(response, shown)


def test_names_sort_alike_whatever_their_case_in_the_home_teams_and_the_report_rows(db):
    """A lower-case name is not put after every capitalised one: the person's teams on the
    home page and the monthly report's SLO rows sort as the lists do."""
    person = UserFactory()
    for name in ("beta", "Gamma", "alpha"):
        MembershipFactory(user=person, team=TeamFactory(name=name, slug=name.lower()))
    teams, _ = teams_of_person_and_counts(person)
    assert [team[2] for team in teams] == ["alpha", "beta", "Gamma"]

    for number, name in enumerate(("Zeta", "eta", "theta")):
        make_slo(ServiceFactory(name=name, slug=name.lower()), number)
    assert [row["service_name"] for row in slo_report_rows()] == ["eta", "theta", "Zeta"]
