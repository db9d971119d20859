"""The site shell: signing in and out, the password change, the layout, and the home page."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


# --- Signing in and out ------------------------------------------------------------------


def test_the_login_page_needs_no_sign_in_and_says_what_the_portal_is(client):
    response = client.get(reverse("login"))
    assertContains(response, "<h1>Sign in</h1>", html=True)
    assertContains(response, "The Reliability Portal")
    # No navigation before signing in: it would only lead back here.
    assertNotContains(response, reverse("service_list"))


def test_signing_in_through_the_form_leads_to_the_page_asked_for(client, owner):
    response = client.post(
        f"{reverse('login')}?next=/services/",
        {"username": "olivia", "password": PASSWORD, "next": "/services/"},
    )
    assertRedirects(response, "/services/")
    assert client.session[SESSION_KEY] == str(owner.pk)


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(reverse("login"), {"username": "olivia", "password": "wrong"})
    assertContains(response, "Please enter a correct username and password.")
    assert SESSION_KEY not in client.session


def test_signing_out_is_a_post_that_ends_the_session(client_for, owner):
    client = client_for(owner)
    response = client.post(reverse("logout"))
    assertRedirects(response, reverse("login"))
    assert SESSION_KEY not in client.session


def test_the_password_change_page_needs_sign_in(client):
    url = reverse("password_change")
    assertRedirects(client.get(url), f"{reverse('login')}?next={url}")


def test_a_user_changes_their_password(client_for, viewer):
    client = client_for(viewer)
    assertContains(client.get(reverse("password_change")), "Change your password")
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
        follow=True,
    )
    assertContains(response, "<h1>Password changed</h1>", html=True)
    viewer.refresh_from_db()
    assert viewer.check_password("a much longer passphrase 42")


# --- Layout ------------------------------------------------------------------------------


def test_the_layout_loads_htmx_locally_and_sends_the_csrf_token_with_htmx(client_for, viewer):
    response = client_for(viewer).get(reverse("home"))
    assertContains(response, '<script src="/static/django_htmx/htmx-2.min.js"')
    assertContains(response, 'hx-headers=\'{"X-CSRFToken": "')
    assertContains(response, '<link rel="stylesheet" href="/static/css/portal.css">', html=True)


def test_the_layout_signs_out_with_a_csrf_protected_post(client_for, viewer):
    response = client_for(viewer).get(reverse("home"))
    logout_form = response.text.split(f'<form method="post" action="{reverse("logout")}">')[1]
    assert 'name="csrfmiddlewaretoken"' in logout_form.split("</form>")[0]
    assertContains(response, f'<a href="{reverse("password_change")}">Change password</a>')
    assertContains(response, "Vera Viewer")


@pytest.mark.parametrize(
    "user, sees_admin",
    [("sre_lead", True), ("owner", False), ("teammate", False), ("outsider", False)],
)
def test_the_navigation_shows_the_admin_link_only_to_sre_leads(
    request, client_for, user, sees_admin
):
    response = client_for(request.getfixturevalue(user)).get(reverse("service_list"))
    assertContains(response, f'<a href="{reverse("service_list")}" aria-current="page">')
    assertContains(response, f'<a href="{reverse("team_list")}">Teams</a>')
    assertContains(response, f'<a href="{reverse("api_docs")}">API docs</a>')
    assert (f'<a href="{reverse("admin:index")}">Admin</a>' in response.text) is sees_admin


def test_times_are_shown_in_the_configured_time_zone(client_for, service, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    response = client_for(service.owner_team.manager).get(service.get_absolute_url())
    assert any(zone in response.text for zone in ("CET", "CEST"))


# --- Home page ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_from_home_to_sign_in(client):
    assertRedirects(client.get(reverse("home")), f"{reverse('login')}?next=/")


@pytest.mark.parametrize("user", ["owner", "teammate", "outsider", "viewer", "sre_lead"])
def test_every_signed_in_user_is_welcomed_by_name_with_the_way_in(request, client_for, user):
    person = request.getfixturevalue(user)
    response = client_for(person).get(reverse("home"))
    assertContains(response, f"Welcome, {person.first_name}")
    assertContains(response, f'<a href="{reverse("service_list")}">Browse the service catalog</a>')


def test_home_counts_services_and_teams(client_for, service, search_team, viewer):
    response = client_for(viewer).get(reverse("home"))
    assertContains(response, '<span class="stat-value">1</span> service in the catalog')
    assertContains(response, '<span class="stat-value">2</span> teams')


def test_home_lists_an_engineers_teams_linking_to_their_pages(client_for, service, owner):
    response = client_for(owner).get(reverse("home"))
    assertContains(response, f'<a href="{service.owner_team.get_absolute_url()}">Payments</a>')
    assertContains(response, "you edit its records")
    assertContains(response, f'<a href="{reverse("service_add")}">Add a service</a>')


def test_home_tells_a_viewer_they_read_and_offers_no_add_link(client_for, service, viewer):
    response = client_for(viewer).get(reverse("home"))
    assertContains(response, "you can read its records")
    assertNotContains(response, reverse("service_add"))


def test_home_tells_someone_without_a_team_how_to_get_one(client_for, db):
    response = client_for(UserFactory(username="newcomer")).get(reverse("home"))
    assertContains(response, "You are not a member of any team yet.")
    assertContains(response, "Welcome, newcomer")


def test_home_shows_an_sre_lead_the_admin_and_import_links(client_for, sre_lead):
    response = client_for(sre_lead).get(reverse("home"))
    assertContains(response, "You are an <strong>SRE lead</strong>")
    assertContains(response, f'<a href="{reverse("admin:index")}">Admin site</a>')
    assertContains(response, f'<a href="{reverse("backstage_import")}">')
    assertContains(response, f'<a href="{reverse("api_docs")}">API documentation</a>')


@pytest.mark.parametrize("count", [3, 30])
def test_home_costs_the_same_queries_for_3_or_30_services(
    client_for, owner, payments, django_assert_max_num_queries, count
):
    for number in range(count):
        ServiceFactory(owner_team=payments if number % 2 else TeamFactory())
    client = client_for(owner)
    # The attention blocks read one query each (tests/portal/test_home.py counts them).
    with django_assert_max_num_queries(17):
        response = client.get(reverse("home"))
    assertContains(response, f'<span class="stat-value">{count}</span> services')
