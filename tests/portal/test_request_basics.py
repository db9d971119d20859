"""What every signed-in request does before its page: read the session, the user and the
user's role (portal.sessions, portal.roles.RoleBackend), and build links (portal.links)."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from portal.links import link
from portal.roles import RoleBackend, is_sre_lead
from portal.sessions import SessionStore

pytestmark = pytest.mark.django_db


# --- Sessions ------------------------------------------------------------------------------


def test_a_saved_session_reads_back_with_its_data():
    session = SessionStore()
    session["answer"] = 42
    session.save()
    assert SessionStore(session.session_key).load() == {"answer": 42}


def test_an_expired_session_reads_as_empty_and_gets_a_new_key_when_saved():
    session = SessionStore()
    session["answer"] = 42
    session.save()
    Session.objects.filter(pk=session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    stale = SessionStore(session.session_key)
    assert stale.load() == {}
    stale["answer"] = 43
    stale.save()
    assert stale.session_key != session.session_key


def test_an_expired_session_signs_the_person_out(client_for, owner):
    client = client_for(owner)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assertRedirects(client.get("/services/"), f"{reverse('login')}?next=/services/")


def test_signing_out_ends_the_session_for_every_later_request(client_for, owner):
    client = client_for(owner)
    key = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = key  # the old cookie, replayed
    assertRedirects(client.get("/services/"), f"{reverse('login')}?next=/services/")
    assert SESSION_KEY not in SessionStore(key).load()


# --- The user and the role -----------------------------------------------------------------


def test_the_user_and_whether_they_are_an_sre_lead_come_in_one_query(
    sre_lead, owner, django_assert_num_queries
):
    backend = RoleBackend()
    with django_assert_num_queries(1):
        lead = backend.get_user(sre_lead.pk)
        assert is_sre_lead(lead) is True
    with django_assert_num_queries(1):
        engineer = backend.get_user(owner.pk)
        assert is_sre_lead(engineer) is False
    assert (lead.username, engineer.username) == (sre_lead.username, owner.username)


def test_an_inactive_or_unknown_user_is_not_signed_in(owner):
    owner.is_active = False
    owner.save()
    assert RoleBackend().get_user(owner.pk) is None
    assert RoleBackend().get_user(owner.pk + 1000) is None


def test_the_role_of_a_user_loaded_elsewhere_is_asked_once(
    owner, sre_lead, django_assert_num_queries
):
    # API tokens load their user without the backend: the role is asked when needed.
    lead, engineer = (type(user).objects.get(pk=user.pk) for user in (sre_lead, owner))
    with django_assert_num_queries(2):
        assert is_sre_lead(lead) is True
        assert is_sre_lead(lead) is True
        assert is_sre_lead(engineer) is False
        assert is_sre_lead(engineer) is False


def test_only_sre_leads_see_the_admin_in_the_navigation(client_for, sre_lead, owner):
    assertContains(client_for(sre_lead).get("/"), reverse("admin:index"))
    assertNotContains(client_for(owner).get("/"), reverse("admin:index"))


# --- Links ---------------------------------------------------------------------------------


def test_a_remembered_link_is_the_path_django_builds():
    assert link("service_detail", "payments-api") == reverse(
        "service_detail", args=["payments-api"]
    )
    assert link("home") == reverse("home")
    # Remembered per arguments: another record gets its own path.
    assert link("service_detail", "search-api") == "/services/search-api/"


def test_a_link_to_a_route_that_does_not_take_the_arguments_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        link("service_detail", "not a slug")


def test_links_follow_the_script_prefix():
    from django.urls import set_script_prefix

    link("service_detail", "payments-api")
    set_script_prefix("/portal/")
    try:
        assert link("service_detail", "payments-api") == "/portal/services/payments-api/"
    finally:
        set_script_prefix("/")


def test_the_url_tag_builds_the_same_links_as_django_s():
    rendered = Template(
        "{% url 'service_detail' slug %}|{% url 'home' as home %}{{ home }}|"
        "{% url 'service_detail' slug=slug %}|{% url 'admin:index' %}|"
        "{% url 'no_such_route' as missing %}[{{ missing }}]"
    ).render(Context({"slug": "payments-api"}))
    assert rendered == "/services/payments-api/|/|/services/payments-api/|/admin/|[]"
