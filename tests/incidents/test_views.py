"""The incident UI for every kind of user: the list, declaring, the incident page with its
live timeline and in-place changes, status updates, the metrics page and the service page's
incident panel."""

import datetime as dt
import re

import pytest
import redis
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from incidents.actions import incidents as incidents_actions
from incidents.actions.incidents import incident_add_note, incident_assign_role, incident_declare
from incidents.choices import IncidentRole, IncidentStatus, Severity, StatusUpdateKind, TimelineKind
from incidents.models.incidents import Incident, StatusUpdate, TimelineEntry
from incidents.templatetags.incidents import duration
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import (
    IncidentFactory,
    PostMortemFactory,
    StatusUpdateFactory,
    TimelineEntryFactory,
    resolved_incident,
)

pytestmark = pytest.mark.django_db

SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def broker(redis_url):
    """The suite's Redis, with the default queue emptied before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.delete("celery")
    yield client
    client.delete("celery")
    client.close()


@pytest.fixture
def as_user(request, client_for):
    """A client signed in as the fixture user of that name: as_user("owner")."""

    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


@pytest.fixture
def incident(service, teammate):
    """A SEV2 on the payments service that Tom (teammate) commands."""
    return incident_declare(
        title="Checkout fails",
        severity=Severity.SEV2,
        services=[service],
        declared_by=teammate,
        commander=teammate,
        started_at=NOW - dt.timedelta(minutes=40),
        impact="Card payments fail.",
    )


def url(name, incident, *args):
    return reverse(name, args=[incident.reference, *args])


# --- Sign-in everywhere --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, needs_reference",
    [
        ("incident_list", False),
        ("incident_declare", False),
        ("incident_metrics", False),
        ("incident_detail", True),
        ("incident_change_status", True),
        ("incident_change_severity", True),
        ("incident_reopen", True),
        ("incident_assign_role", True),
        ("incident_add_note", True),
        ("incident_edit", True),
        ("incident_follow", True),
        ("status_update_new", True),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_from_every_incident_page(
    client, incident, name, needs_reference
):
    path = reverse(name, args=[incident.reference] if needs_reference else [])
    response = client.get(path)
    assertRedirects(response, f"{reverse('login')}?next={path}")


def test_declare_and_metrics_are_routed_before_the_reference(as_user):
    assert as_user("viewer").get("/incidents/metrics/").status_code == 200
    # A viewer is refused the declare form rather than told there is no incident "declare".
    assert as_user("viewer").get("/incidents/declare/").status_code == 403


# --- The list -------------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_the_incident_list(as_user, incident, user):
    response = as_user(user).get(reverse("incident_list"))
    assertContains(response, f'<a href="{incident.get_absolute_url()}">{incident.reference}</a>')
    assertContains(response, "Checkout fails")
    assertContains(response, '<a href="/services/payments-api/">Payments API</a>', html=True)


@pytest.mark.parametrize("user, shown", [("owner", True), ("sre_lead", True), ("viewer", False)])
def test_the_declare_button_shows_only_to_engineers_and_sre_leads(as_user, incident, user, shown):
    response = as_user(user).get(reverse("incident_list"))
    assert (reverse("incident_declare") in response.text) is shown


def test_open_incidents_come_first_then_the_most_recent(as_user, service):
    old_open = IncidentFactory(
        title="Old but open", started_at=NOW - dt.timedelta(days=9), services=[service]
    )
    IncidentFactory(
        title="Recent and resolved",
        status=IncidentStatus.RESOLVED,
        started_at=NOW - dt.timedelta(hours=2),
        resolved_at=NOW - dt.timedelta(hours=1),
    )
    IncidentFactory(title="Newest open", started_at=NOW - dt.timedelta(minutes=5))
    text = as_user("viewer").get(reverse("incident_list")).text
    positions = [
        text.index(title) for title in ("Newest open", old_open.title, "Recent and resolved")
    ]
    assert positions == sorted(positions)


def test_the_list_filters_by_status_severity_service_team_and_start_date(as_user, service):
    search_service = ServiceFactory(
        name="Search", slug="search", owner_team=TeamFactory(slug="search")
    )
    IncidentFactory(title="Payments SEV1", severity=Severity.SEV1, services=[service])
    IncidentFactory(
        title="Search SEV3 resolved",
        services=[search_service],
        status=IncidentStatus.RESOLVED,
        started_at=NOW - dt.timedelta(days=40),
        resolved_at=NOW - dt.timedelta(days=39),
    )
    client = as_user("viewer")

    def titles(**params):
        text = client.get(reverse("incident_list"), params).text
        return [title for title in ("Payments SEV1", "Search SEV3 resolved") if title in text]

    assert titles(severity="SEV1") == ["Payments SEV1"]
    assert titles(status="resolved") == ["Search SEV3 resolved"]
    assert titles(service="search") == ["Search SEV3 resolved"]
    assert titles(team="payments") == ["Payments SEV1"]
    assert titles(started_after=(NOW - dt.timedelta(days=7)).date().isoformat()) == [
        "Payments SEV1"
    ]
    assert titles(started_before=(NOW - dt.timedelta(days=7)).date().isoformat()) == [
        "Search SEV3 resolved"
    ]


def test_htmx_filtering_returns_only_the_results_block(as_user, incident):
    response = as_user("viewer").get(reverse("incident_list"), {"severity": "SEV2"}, **HTMX)
    assertContains(response, incident.reference)
    assertNotContains(response, "<html")
    assert "HX-Request" in response["Vary"]


def test_bad_filter_values_get_a_page_not_a_500(as_user, incident):
    response = as_user("viewer").get(
        reverse("incident_list"),
        {"severity": "SEV9", "started_after": "yesterday", "page": "x", "ordering": "nonsense"},
    )
    assert response.status_code == 200


def test_an_empty_list_says_how_incidents_get_there(as_user, db):
    response = as_user("owner").get(reverse("incident_list"))
    assertContains(response, "No incidents recorded yet.")
    assertContains(response, "declare an incident")


def test_a_search_matching_nothing_offers_to_clear_it(as_user, incident):
    response = as_user("viewer").get(reverse("incident_list"), {"severity": "SEV4"})
    assertContains(response, "No incident matches this search.")


def test_the_list_pages_through_many_incidents(as_user, service):
    for number in range(30):
        IncidentFactory(services=[service], started_at=NOW - dt.timedelta(hours=number + 1))
    first = as_user("viewer").get(reverse("incident_list"))
    assertContains(first, "30 incidents")
    assertContains(first, "Page 1 of 2")
    second = as_user("viewer").get(reverse("incident_list"), {"page": 2})
    assert second.text.count("<tr") == 1 + 5


def test_a_list_row_links_its_services_by_name_and_its_team(as_user):
    team = TeamFactory(name="Payments <core>")
    zeta, alpha = ServiceFactory(name="Zeta & co"), ServiceFactory(name="Alpha")
    incident = IncidentFactory(services=[zeta, alpha], team=team, title="Card <declines>")
    IncidentFactory(services=[])
    html = as_user("viewer").get(reverse("incident_list"), **HTMX).content.decode()
    row = html[html.index(incident.reference) :]
    row = row[: row.index("</tr>")]
    assert (
        f'<a href="/services/{alpha.slug}/">Alpha</a>, '
        f'<a href="/services/{zeta.slug}/">Zeta &amp; co</a>'
    ) in row
    assert f'<a href="/teams/{team.slug}/">Payments &lt;core&gt;</a>' in row
    assert "Card &lt;declines&gt;" in row
    assert '<span class="muted">—</span>' in html  # the incident without services


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_the_same_number_of_queries_at_any_size(
    as_user, service, django_assert_max_num_queries, count
):
    for _ in range(count):
        incident = IncidentFactory(services=[service, ServiceFactory()], commander=UserFactory())
    client = as_user("viewer")
    with django_assert_max_num_queries(9):
        response = client.get(reverse("incident_list"))
    assertContains(response, incident.reference)


# --- Declaring ------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["outsider", "sre_lead"])
def test_engineers_and_sre_leads_declare_an_incident_in_a_few_fields(as_user, service, user):
    response = as_user(user).post(
        reverse("incident_declare"),
        {"title": "Search is slow", "severity": "SEV3", "services": [service.pk]},
    )
    incident = Incident.objects.get()
    assertRedirects(response, incident.get_absolute_url())
    assert incident.title == "Search is slow"
    assert incident.started_at == NOW
    assert list(incident.services.all()) == [service]
    assert incident.declared_by.username == {"outsider": "oscar", "sre_lead": "sasha"}[user]


def test_the_declare_form_says_what_each_severity_means(as_user, db):
    response = as_user("owner").get(reverse("incident_declare"))
    assertContains(response, "Which severity?")
    assertContains(response, "Critical")
    assertContains(response, "Someone responds within 5 minutes.")


def test_a_viewer_may_not_declare(as_user, service):
    assert as_user("viewer").get(reverse("incident_declare")).status_code == 403
    response = as_user("viewer").post(
        reverse("incident_declare"), {"title": "x", "severity": "SEV3"}
    )
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_declaring_without_a_title_or_with_a_start_in_the_future_explains_why(as_user):
    response = as_user("owner").post(
        reverse("incident_declare"),
        {"title": "", "severity": "SEV3", "started_at": "2026-03-11T09:00"},
    )
    assertContains(response, "This field is required.")
    response = as_user("owner").post(
        reverse("incident_declare"),
        {"title": "Late", "severity": "SEV3", "started_at": "2026-03-11T09:00"},
    )
    assertContains(response, "An incident cannot start in the future.")
    assert not Incident.objects.exists()


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00", "2019-01-01T09:00"])
def test_declaring_with_an_implausible_start_explains_why(as_user, started_at):
    response = as_user("owner").post(
        reverse("incident_declare"),
        {"title": "Typo in the year", "severity": "SEV3", "started_at": started_at},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["started_at"] == [
        "The started at time cannot be before 2021-03-11: check the year."
    ]
    assert not Incident.objects.exists()


def test_the_edit_form_keeps_texts_to_the_apis_maxima(as_user, incident):
    response = as_user("teammate").get(url("incident_edit", incident))
    form = response.context["form"]
    assert (form.fields["summary"].max_length, form.fields["impact"].max_length) == (5000, 5000)


# --- The incident page ----------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_reads_the_incident_page(as_user, incident, user):
    response = as_user(user).get(incident.get_absolute_url())
    assertContains(response, f"{incident.reference}: Checkout fails")
    assertContains(response, '<a href="/services/payments-api/">Payments API</a>', html=True)
    assertContains(response, "Card payments fail.")
    assertContains(response, "Declared SEV2 by Tom Teammate.")
    assertNotContains(response, "to resolve)")  # not resolved yet
    assertContains(response, "Open for")


@pytest.mark.parametrize(
    "user, may_command, may_write",
    [
        ("teammate", True, True),  # the commander
        ("sre_lead", True, True),
        ("owner", False, True),  # an engineer of the team, not commanding
        ("outsider", False, False),
        ("viewer", False, False),
    ],
)
def test_the_page_offers_only_the_changes_the_user_may_make(
    as_user, incident, user, may_command, may_write
):
    text = as_user(user).get(incident.get_absolute_url()).text
    assert (url("incident_change_status", incident) in text) is may_command
    assert (url("incident_assign_role", incident) in text) is may_command
    assert (url("status_update_new", incident) in text) is may_command
    assert (url("incident_add_note", incident) in text) is may_write


def test_an_unknown_reference_is_a_404(as_user, db):
    assert as_user("viewer").get("/incidents/INC-2026-9999/").status_code == 404


def test_the_live_timeline_refreshes_itself_every_ten_seconds(as_user, incident):
    page = as_user("viewer").get(incident.get_absolute_url()).text
    assert re.search(r'id="timeline"[^>]*hx-trigger="every 10s"', page)
    TimelineEntryFactory(incident=incident, text="Rolled back the deploy.")
    fragment = as_user("viewer").get(incident.get_absolute_url(), **HTMX, HTTP_HX_TARGET="timeline")
    assertContains(fragment, "Rolled back the deploy.")
    assertNotContains(fragment, "<html")
    assertNotContains(fragment, "Status and severity")


def test_a_closed_incident_stops_polling(as_user, incident):
    Incident.objects.filter(pk=incident.pk).update(
        status=IncidentStatus.CLOSED, resolved_at=NOW, mitigated_at=NOW, closed_at=NOW
    )
    assertNotContains(as_user("viewer").get(incident.get_absolute_url()), 'hx-trigger="every')


@pytest.mark.parametrize("entries", [2, 40])
def test_the_incident_page_takes_the_same_number_of_queries_at_any_size(
    as_user, incident, django_assert_max_num_queries, entries
):
    for _ in range(entries):
        TimelineEntryFactory(incident=incident)
        StatusUpdateFactory(incident=incident, created_by=UserFactory())
    incident.services.add(*ServiceFactory.create_batch(3))
    client = as_user("teammate")
    # The role holders come in a query of their own: five joins of the user table cost
    # PostgreSQL more to plan than the extra query (incidents.selectors.incidents.with_people).
    # And two for the panel of the deployment that caused it (toil's incident_cause_panel:
    # the cause, then the candidates; together cheaper than one query with an OR).
    # Whether the viewer follows the incident comes with the incident, not as its followers.
    with django_assert_max_num_queries(10):
        response = client.get(incident.get_absolute_url())
    assert response.status_code == 200
    with django_assert_max_num_queries(6):
        client.get(incident.get_absolute_url(), **HTMX, HTTP_HX_TARGET="timeline")


# --- In-place changes -----------------------------------------------------------------------


@pytest.mark.parametrize("user", ["teammate", "sre_lead"])
def test_the_commander_and_sre_leads_change_the_status_in_place(as_user, incident, user):
    response = as_user(user).post(
        url("incident_change_status", incident), {"status": "identified"}, **HTMX
    )
    assert response.status_code == 200
    assertContains(response, 'id="incident"')
    assertNotContains(response, "<html")
    assertContains(response, "Status: Investigating → Identified")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED


@pytest.mark.parametrize("user", ["owner", "outsider", "viewer"])
def test_others_may_not_change_status_severity_or_roles(as_user, incident, user, teammate):
    client = as_user(user)
    assert (
        client.post(url("incident_change_status", incident), {"status": "identified"}).status_code
        == 403
    )
    assert (
        client.post(url("incident_change_severity", incident), {"severity": "SEV1"}).status_code
        == 403
    )
    assert (
        client.post(
            url("incident_assign_role", incident), {"role": "scribe", "person": teammate.pk}
        ).status_code
        == 403
    )
    incident.refresh_from_db()
    assert (incident.status, incident.severity, incident.scribe) == (
        IncidentStatus.INVESTIGATING,
        Severity.SEV2,
        None,
    )


def test_a_change_without_htmx_redirects_back_with_a_message(as_user, incident):
    response = as_user("teammate").post(
        url("incident_change_severity", incident), {"severity": "SEV1"}
    )
    assertRedirects(response, incident.get_absolute_url())
    incident.refresh_from_db()
    assert incident.severity == Severity.SEV1


def test_a_refused_transition_explains_itself_in_place(as_user, incident):
    response = as_user("teammate").post(
        url("incident_change_status", incident), {"status": "closed"}, **HTMX
    )
    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING


def test_closing_a_sev2_without_a_published_postmortem_is_refused_with_the_reason(
    as_user, incident
):
    client = as_user("teammate")
    client.post(url("incident_change_status", incident), {"status": "resolved"})
    response = client.post(url("incident_change_status", incident), {"status": "closed"})
    assert response.status_code == 400
    assertContains(response, "closes only once its post-mortem is published", status_code=400)


def status_options(response) -> list[tuple[str, bool]]:
    """The options of the "New status" control: (value, preselected)."""
    control = re.search(
        r'<select name="status" id="id_status">(.*?)</select>', response.content.decode(), re.S
    )
    return [
        (value, bool(selected))
        for value, selected in re.findall(r'<option value="(\w+)"( selected)?>', control.group(1))
    ]


@pytest.mark.parametrize(
    ("path", "forward"),
    [
        ([], ["identified", "monitoring", "resolved"]),
        (["identified"], ["monitoring", "resolved"]),
        (["monitoring"], ["resolved"]),
        (["resolved"], ["closed"]),
    ],
)
def test_the_status_control_offers_only_the_next_forward_states(as_user, incident, path, forward):
    """Moving back is never one slip away: it has its own form, with a reason."""
    for status in path:
        incidents_actions.incident_change_status(incident=incident, status=status, by=None)
    incident.severity = Severity.SEV3  # a SEV3 closes without a post-mortem
    incident.save()
    response = as_user("teammate").get(incident.get_absolute_url())
    options = status_options(response)
    assert [value for value, _ in options] == forward
    assert not any(selected and value == "investigating" for value, selected in options)


def test_a_resolved_incident_is_reopened_only_with_a_reason_and_a_confirmation(as_user, incident):
    client = as_user("teammate")
    client.post(url("incident_change_status", incident), {"status": "resolved"})
    page = client.get(incident.get_absolute_url())
    assertContains(page, "Reopen the incident…")
    assertContains(page, "Yes, reopen the resolved incident")

    unconfirmed = client.post(
        url("incident_reopen", incident),
        {"reopen-status": "investigating", "reopen-note": "Errors are back."},
        **HTMX,
    )
    assertContains(unconfirmed, "This field is required.")
    no_reason = client.post(
        url("incident_reopen", incident),
        {"reopen-status": "investigating", "reopen-note": "", "reopen-confirm": "on"},
        **HTMX,
    )
    assertContains(no_reason, "This field is required.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED

    reopened = client.post(
        url("incident_reopen", incident),
        {
            "reopen-status": "investigating",
            "reopen-note": "Errors are back.",
            "reopen-confirm": "on",
        },
        **HTMX,
    )
    assertContains(reopened, "Reopened: Resolved → Investigating (Tom Teammate).")
    assertContains(reopened, "Reason: Errors are back.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING


@pytest.mark.parametrize("user", ["owner", "outsider", "viewer"])
def test_others_may_not_reopen(as_user, incident, user):
    incidents_actions.incident_change_status(incident=incident, status="resolved", by=None)
    response = as_user(user).post(
        url("incident_reopen", incident),
        {"reopen-status": "investigating", "reopen-note": "Back.", "reopen-confirm": "on"},
    )
    assert response.status_code == 403


def test_the_role_control_offers_only_people_who_may_act_in_the_incident(
    as_user, incident, owner, viewer, outsider, sre_lead
):
    response = as_user("teammate").get(incident.get_absolute_url())
    offered = {value for value, _ in response.context["role_form"].fields["person"].choices}
    assert offered == {"", owner.pk, incident.commander.pk, sre_lead.pk}
    refused = as_user("teammate").post(
        url("incident_assign_role", incident), {"role": "tech_lead", "person": viewer.pk}, **HTMX
    )
    assertContains(refused, "Select a valid choice.")
    incident.refresh_from_db()
    assert incident.tech_lead is None


def test_the_commander_assigns_and_clears_a_role(as_user, incident, owner):
    client = as_user("teammate")
    client.post(
        url("incident_assign_role", incident),
        {"role": IncidentRole.SCRIBE, "person": owner.pk},
        **HTMX,
    )
    incident.refresh_from_db()
    assert incident.scribe == owner
    client.post(
        url("incident_assign_role", incident), {"role": IncidentRole.SCRIBE, "person": ""}, **HTMX
    )
    incident.refresh_from_db()
    assert incident.scribe is None
    texts = list(
        TimelineEntry.objects.filter(kind=TimelineKind.ROLE_CHANGE).values_list("text", flat=True)
    )
    assert texts == [
        "Olivia Owner is now scribe (Tom Teammate).",
        "No one is scribe any more (Tom Teammate).",
    ]


def test_while_nobody_commands_the_teams_engineers_may_take_command(as_user, service, owner):
    incident = IncidentFactory(services=[service])
    response = as_user("owner").post(
        url("incident_assign_role", incident), {"role": "commander", "person": owner.pk}
    )
    assertRedirects(response, incident.get_absolute_url())
    incident.refresh_from_db()
    assert incident.commander == owner


def test_bad_role_input_is_explained_not_a_500(as_user, incident):
    response = as_user("teammate").post(
        url("incident_assign_role", incident), {"role": "captain", "person": "999999"}, **HTMX
    )
    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")


def test_changes_only_take_posts(as_user, incident):
    assert as_user("teammate").get(url("incident_change_status", incident)).status_code == 405


def test_the_commander_edits_the_details_and_the_timeline_says_what_changed(
    as_user, incident, service
):
    other = ServiceFactory(name="Ledger")
    response = as_user("teammate").post(
        url("incident_edit", incident),
        {
            "title": "Checkout fails for cards",
            "summary": "",
            "impact": "Card payments fail.",
            "users_affected": "1200",
            "services": [service.pk, other.pk],
            "started_at": "2026-03-10 11:20",
            "detected_at": "2026-03-10 11:25",
        },
    )
    assertRedirects(response, incident.get_absolute_url())
    incident.refresh_from_db()
    assert incident.title == "Checkout fails for cards"
    assert incident.users_affected == 1200
    assert set(incident.services.all()) == {service, other}
    entry = TimelineEntry.objects.get(kind=TimelineKind.DETAILS_CHANGE)
    assert "affected services" in entry.text and "title" in entry.text


def test_details_out_of_order_are_refused_on_the_field(as_user, incident):
    response = as_user("teammate").post(
        url("incident_edit", incident),
        {"title": "x", "started_at": "2026-03-10 11:30", "detected_at": "2026-03-10 11:00"},
    )
    assertContains(response, "The detected at time cannot be before the started at time.")
    incident.refresh_from_db()
    assert incident.title == "Checkout fails"


@pytest.mark.parametrize("user", ["owner", "outsider", "viewer"])
def test_only_whoever_commands_edits_the_details(as_user, incident, user):
    assert as_user(user).get(url("incident_edit", incident)).status_code == 403
    assert as_user(user).post(url("incident_edit", incident), {"title": "x"}).status_code == 403


@pytest.mark.parametrize("user", SIGNED_IN)
def test_anyone_signed_in_follows_and_unfollows_an_incident(as_user, incident, user, request):
    person = request.getfixturevalue(user)
    client = as_user(user)
    incident.subscribers.remove(person)
    response = client.post(url("incident_follow", incident), {"following": "true"}, **HTMX)
    assertContains(response, "Stop following")
    assert person in incident.subscribers.all()
    client.post(url("incident_follow", incident), {"following": "false"}, **HTMX)
    assert person not in incident.subscribers.all()


def test_the_page_points_to_the_postmortem_once_resolved(as_user, incident):
    client = as_user("teammate")
    assertContains(client.get(incident.get_absolute_url()), "Written once the incident is resolved")
    client.post(url("incident_change_status", incident), {"status": "resolved"})
    response = client.get(incident.get_absolute_url())
    assertContains(response, "a SEV2 incident needs one, and closes once it is published")
    assertContains(response, "(40\xa0minutes to resolve)")
    assertContains(response, reverse("postmortem_detail", args=[incident.reference]))


def test_a_resolved_incidents_page_shows_its_times_post_mortem_updates_and_follow_state(
    as_user, service, teammate
):
    incident = resolved_incident(service, started=NOW - dt.timedelta(hours=2), minutes=50)
    incident.subscribers.add(teammate)
    PostMortemFactory(incident=incident)
    StatusUpdateFactory(
        incident=incident, created_by=teammate, sent_at=NOW, recipients=["a@x.test", "b@x.test"]
    )
    TimelineEntryFactory(incident=incident, text="Rolled back.\nErrors gone.", pinned=True)
    page = as_user("teammate").get(incident.get_absolute_url()).text
    # The page's Jinja2 parts call what Django's engine would have called by itself.
    assert "bound method" not in page and "<function" not in page
    assert "(5\xa0minutes to detect)" in page and "(2\xa0minutes to acknowledge)" in page
    assert "(50\xa0minutes of impact)" in page and "Open for" not in page
    assert "is draft.</p>" in page
    assert re.search(r"sent <time[^>]*>[^<]+</time> to 2 recipients · by Tom", page)
    assert "Rolled back.<br>Errors gone." in page and "Unpin" in page
    assert "Stop following" in page
    assert "Stop following" not in as_user("owner").get(incident.get_absolute_url()).text


def test_the_forms_of_the_incident_page_share_one_csrf_token(as_user, incident):
    TimelineEntryFactory.create_batch(3, incident=incident)
    page = as_user("teammate").get(incident.get_absolute_url()).text
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    assert len(re.findall(r'name="csrfmiddlewaretoken"', page)) > 5
    # Django's (navigation, cause panel) and one for each of the two Jinja2 parts.
    assert len(tokens) <= 3


# --- Notes and key events -------------------------------------------------------------------


@pytest.mark.parametrize("user", ["owner", "teammate", "sre_lead"])
def test_the_teams_engineers_and_sre_leads_add_notes(as_user, incident, user):
    response = as_user(user).post(
        url("incident_add_note", incident),
        {"text": "Errors started at 11:20.", "pinned": "on"},
        **HTMX,
    )
    assertContains(response, "Errors started at 11:20.")
    note = TimelineEntry.objects.get(kind=TimelineKind.NOTE)
    assert note.pinned


@pytest.mark.parametrize("user", ["outsider", "viewer"])
def test_others_may_not_write_the_timeline(as_user, incident, user):
    entry = TimelineEntry.objects.get(incident=incident)
    client = as_user(user)
    assert client.post(url("incident_add_note", incident), {"text": "Hi"}).status_code == 403
    assert (
        client.post(url("timeline_entry_pin", incident, entry.pk), {"pinned": "true"}).status_code
        == 403
    )
    assert TimelineEntry.objects.filter(kind=TimelineKind.NOTE).count() == 0
    entry.refresh_from_db()
    assert not entry.pinned


def test_an_empty_note_is_refused_with_a_message(as_user, incident):
    response = as_user("owner").post(url("incident_add_note", incident), {"text": "  "}, **HTMX)
    assertContains(response, "This field is required.")


def test_entries_are_pinned_and_unpinned_as_key_events(as_user, incident):
    entry = TimelineEntry.objects.get(incident=incident)
    client = as_user("owner")
    response = client.post(
        url("timeline_entry_pin", incident, entry.pk), {"pinned": "true"}, **HTMX
    )
    assertContains(response, "Unpin")
    entry.refresh_from_db()
    assert entry.pinned
    client.post(url("timeline_entry_pin", incident, entry.pk), {"pinned": "false"}, **HTMX)
    entry.refresh_from_db()
    assert not entry.pinned


def test_an_entry_of_another_incident_cannot_be_pinned_through_this_one(as_user, incident):
    other = TimelineEntryFactory()
    response = as_user("sre_lead").post(
        url("timeline_entry_pin", incident, other.pk), {"pinned": "true"}
    )
    assert response.status_code == 404


def test_notes_are_shown_as_text_not_html(as_user, incident):
    incident_add_note(incident=incident, text="<script>alert(1)</script>", by=None)
    response = as_user("viewer").get(incident.get_absolute_url())
    assertNotContains(response, "<script>alert(1)</script>")
    assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")


# --- Status updates -------------------------------------------------------------------------


def test_writing_a_status_update_starts_with_choosing_its_kind(as_user, incident):
    response = as_user("teammate").get(url("status_update_new", incident))
    assertContains(response, "Write a status update")
    assertContains(response, 'value="initial"')
    assertContains(response, 'value="resolution"')


def test_the_draft_is_prefilled_from_the_incident(as_user, incident, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    response = as_user("teammate").get(url("status_update_new", incident), {"kind": "initial"})
    assertContains(response, "[SEV2] Investigating: Checkout fails (INC-2026-0001)")
    assertContains(response, "Severity: SEV2 (Major)")
    assertContains(response, "Incident commander: Tom Teammate")
    assertContains(response, "https://portal.example.test/incidents/INC-2026-0001/")
    assertContains(response, "<code>payments@example.test</code>", html=True)


def test_the_page_offers_the_drafts_that_fit_the_incident_now(as_user, incident):
    client = as_user("teammate")
    new_update_url = url("status_update_new", incident)
    open_page = client.get(incident.get_absolute_url()).text
    assert f"{new_update_url}?kind=initial" in open_page
    assert f"{new_update_url}?kind=resolution" not in open_page
    client.post(url("incident_change_status", incident), {"status": "resolved"})
    resolved_page = client.get(incident.get_absolute_url()).text
    assert f"{new_update_url}?kind=resolution" in resolved_page
    assert f"{new_update_url}?kind=initial" not in resolved_page


def a_finished_update(**changes):
    return {
        "kind": "update",
        "subject": "[SEV2] Identified: Checkout fails",
        "body": "We found a bad deploy & are rolling back.",
        **changes,
    }


def test_the_preview_shows_the_email_as_it_will_go_out(as_user, incident):
    response = as_user("teammate").post(
        url("status_update_new", incident), a_finished_update(step="preview")
    )
    assertContains(response, "We found a bad deploy &amp; are rolling back.")
    assertContains(response, "Send to 2 recipients")
    assertContains(response, "payments@example.test, tom@example.test")
    assert not StatusUpdate.objects.exists()


def test_prompts_left_in_the_draft_block_the_preview(as_user, incident):
    response = as_user("teammate").post(
        url("status_update_new", incident),
        a_finished_update(body="What changed: [[What we found]]", step="preview"),
    )
    assertContains(response, "Fill in or remove the prompts in [[…]]: “What we found”.")


def test_sending_queues_the_email_after_commit_and_returns_to_the_incident(
    as_user, incident, django_capture_on_commit_callbacks, broker
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_user("teammate").post(
            url("status_update_new", incident), a_finished_update(step="send")
        )
    assertRedirects(response, incident.get_absolute_url(), fetch_redirect_response=False)
    status_update = StatusUpdate.objects.get()
    assert status_update.kind == StatusUpdateKind.UPDATE
    assert status_update.created_by.username == "tom"
    assert status_update.sent_at is None
    assert len(callbacks) == 1
    assert broker.llen("celery") == 1
    page = as_user("teammate").get(incident.get_absolute_url())
    assertContains(page, "waiting for the worker to send it")


def test_the_communications_lead_may_send_updates_too(as_user, incident, owner):
    incident_assign_role(incident=incident, role=IncidentRole.COMMUNICATIONS_LEAD, user=owner)
    assert as_user("owner").get(url("status_update_new", incident)).status_code == 200


@pytest.mark.parametrize("user", ["owner", "outsider", "viewer"])
def test_others_may_not_send_status_updates(as_user, incident, user):
    client = as_user(user)
    assert client.get(url("status_update_new", incident)).status_code == 403
    response = client.post(url("status_update_new", incident), a_finished_update(step="send"))
    assert response.status_code == 403
    assert not StatusUpdate.objects.exists()


def test_an_update_nobody_would_receive_is_refused(as_user, sre_lead, db):
    incident = IncidentFactory(team=TeamFactory(email=""))
    response = as_user("sre_lead").post(
        url("status_update_new", incident), a_finished_update(step="send")
    )
    assertContains(response, "No one would receive it")
    assert not StatusUpdate.objects.exists()


def test_an_unknown_kind_goes_back_to_choosing_one(as_user, incident):
    response = as_user("teammate").get(url("status_update_new", incident), {"kind": "gossip"})
    assertContains(response, "Select a valid choice.")


# --- Metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_every_signed_in_user_sees_the_metrics(as_user, service, user):
    resolved_incident(service, started=NOW - dt.timedelta(days=20), minutes=30)
    resolved_incident(
        service, started=NOW - dt.timedelta(days=10), minutes=90, severity=Severity.SEV1
    )
    response = as_user(user).get(reverse("incident_metrics"))
    text = response.text
    assert "MTTD mean" in text and "MTTA mean" in text and "MTTR mean" in text
    assertContains(response, "1 h")  # MTTR mean of 30 and 90 minutes
    assertContains(response, "10 d")  # MTBF: ten days between the two starts
    assertContains(response, "<td>Payments API</td>", html=True)
    assertContains(response, 'id="incident-chart-data"')
    assertContains(response, "chart.umd.min.js")


def test_metrics_narrow_to_a_team_and_a_period(as_user, service):
    resolved_incident(service, started=NOW - dt.timedelta(days=200), minutes=30)
    other = ServiceFactory(owner_team=TeamFactory(slug="search-team"))
    resolved_incident(other, started=NOW - dt.timedelta(days=5), minutes=30)
    client = as_user("viewer")
    assertContains(client.get(reverse("incident_metrics"), {"months": 3}), ": <strong>1</strong>")
    assertContains(
        client.get(reverse("incident_metrics"), {"team": "payments"}), ": <strong>1</strong>"
    )
    assertContains(client.get(reverse("incident_metrics")), ": <strong>2</strong>")


def test_metrics_without_incidents_say_so_and_bad_input_is_ignored(as_user, db):
    response = as_user("viewer").get(
        reverse("incident_metrics"), {"months": "many", "team": "nope"}
    )
    assert response.status_code == 200
    assertContains(response, "No incidents in this period.")


@pytest.mark.parametrize("count", [2, 25])
def test_the_metrics_page_takes_the_same_number_of_queries_at_any_size(
    as_user, service, django_assert_max_num_queries, count
):
    for number in range(count):
        resolved_incident(
            ServiceFactory(owner_team=service.owner_team),
            started=NOW - dt.timedelta(days=number + 1),
            minutes=20,
        )
    client = as_user("viewer")
    # No snapshot yet: the page looks for it, then computes from the incidents in two queries.
    with django_assert_max_num_queries(9):
        assert client.get(reverse("incident_metrics")).status_code == 200


# --- The service page's panel ---------------------------------------------------------------


def test_the_service_page_lists_its_recent_incidents_and_how_many_are_open(
    as_user, incident, service
):
    resolved_incident(service, started=NOW - dt.timedelta(days=3), minutes=45)
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, "1 open incident")
    assertContains(
        response, f'<a href="{incident.get_absolute_url()}">{incident.reference}</a>', html=True
    )
    assertContains(response, "lasted 45 min")
    assertContains(response, f"{reverse('incident_list')}?service=payments-api")


def test_a_service_without_incidents_says_so(as_user, service):
    assertContains(as_user("viewer").get(service.get_absolute_url()), "No incidents recorded yet.")


@pytest.mark.parametrize("count", [1, 12])
def test_the_panel_costs_the_same_queries_at_any_size(
    as_user, service, django_assert_max_num_queries, count
):
    for number in range(count):
        resolved_incident(service, started=NOW - dt.timedelta(days=number + 1), minutes=10)
    client = as_user("viewer")
    client.get(service.get_absolute_url())  # warm the session and the caches
    with django_assert_max_num_queries(20):
        response = client.get(service.get_absolute_url())
    assert response.text.count("/incidents/INC-") == min(count, 5)


@pytest.mark.parametrize(
    "delta, shown",
    [
        (None, "—"),
        (dt.timedelta(seconds=40), "40 s"),
        (dt.timedelta(minutes=45), "45 min"),
        (dt.timedelta(hours=2), "2 h"),
        (dt.timedelta(hours=1, minutes=25), "1 h 25 min"),
        (dt.timedelta(days=3), "3 d"),
        (dt.timedelta(days=2, hours=3, minutes=59), "2 d 3 h"),
    ],
)
def test_durations_read_as_people_say_them(delta, shown):
    assert duration(delta) == shown
