"""The change approvals UI for every kind of user: the list with what awaits the viewer and the
14-day calendar, writing and editing a change, its page (approvals, moves, checklist, gate
preview), freezes, gate decisions and overrides, deployments, the DORA page, and the panels on
the service and incident pages; with constant query counts."""

import datetime as dt

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from incidents.choices import Severity
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import (
    ChangeFactory,
    DeploymentFactory,
    FreezeFactory,
    approved_change,
    budget_in_tier,
    make_change_approver,
    readiness_approved,
)
from toil.actions.deployments import dora_snapshots_recompute
from toil.actions.gate import gate_evaluate
from toil.models.changes import ChangeRequest, FreezeWindow, GateOverride
from toil.models.deployments import IncidentCause

pytestmark = pytest.mark.django_db

SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def as_user(request, client_for):
    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


@pytest.fixture
def change(service, owner):
    return ChangeFactory(
        services=[service],
        author=owner,
        title="Rotate the card vault keys",
        window_start=NOW + dt.timedelta(days=2),
        window_end=NOW + dt.timedelta(days=2, hours=1),
    )


PAGES = [
    "/changes/",
    "/changes/freezes/",
    "/changes/gate/",
    "/changes/gate/overrides/",
    "/changes/deployments/",
    "/changes/dora/",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("user", SIGNED_IN)
@pytest.mark.parametrize("path", PAGES)
def test_every_signed_in_user_reads_every_page(as_user, change, user, path):
    assert as_user(user).get(path).status_code == 200


def test_the_navigation_leads_to_the_changes(as_user, db):
    assertContains(as_user("viewer").get("/"), 'href="/changes/"')


# --- the list and the calendar ------------------------------------------------------------------


def test_the_list_shows_what_awaits_my_approval_before_the_rest(as_user, owner, service):
    awaiting = ChangeFactory(services=[service], author=owner, status="submitted", title="Mine")
    ChangeFactory(services=[service], author=owner, title="A draft")
    response = as_user("teammate").get("/changes/")
    assertNotContains(response, "Awaiting your approval")  # standard: not a change approver
    make_change_approver(UserFactory(username="ada"))
    client = as_user("sre_lead")
    response = client.get("/changes/")
    assertContains(response, "Awaiting your approval")
    assert response.context["awaiting"] == [awaiting]


def test_the_calendar_shows_the_next_14_days_of_changes_and_freezes(as_user, change, service):
    change.status = "scheduled"
    change.save()
    FreezeFactory(
        name="Weekend",
        time_zone="UTC",
        start=dt.datetime(2026, 3, 13, 16, tzinfo=dt.UTC),
        end=dt.datetime(2026, 3, 16, 8, tzinfo=dt.UTC),
        recurrence="FREQ=WEEKLY;BYDAY=FR",
    )
    ChangeFactory(services=[service], title="Far away", window_start=NOW + dt.timedelta(days=30))
    response = as_user("viewer").get("/changes/")
    calendar = response.context["calendar"]
    assert len(calendar) == 14 and calendar[0].date == dt.date(2026, 3, 10)
    assert [c.title for c in calendar[2].changes] == ["Rotate the card vault keys"]
    frozen = [day.date.day for day in calendar if day.freezes]
    assert frozen == [13, 14, 15, 16, 20, 21, 22, 23]
    assert "Far away" not in [change.title for day in calendar for change in day.changes]
    assertContains(response, '<li class="calendar-day frozen"><h3><time datetime="2026-03-13">')
    assertContains(response, f'<a href="/changes/{change.pk}/">#{change.pk} Rotate the card')
    assertContains(response, "❄ Weekend")


def test_the_service_filter_offers_a_renamed_service_at_once(as_user, change, service):
    client = as_user("viewer")
    assertContains(client.get("/changes/"), '<option value="payments-api">Payments API</option>')
    service.name = "Payments Gateway"
    service.save()
    response = client.get("/changes/", {"service": "payments-api"})
    assertContains(response, '<option value="payments-api" selected>Payments Gateway</option>')


def test_the_list_filters_and_sorts_and_htmx_gets_the_results_only(as_user, change, service):
    ChangeFactory(services=[service], title="Bump the TLS library", category="low-risk")
    client = as_user("viewer")
    response = client.get("/changes/", {"category": "low-risk"})
    assertContains(response, "Bump the TLS library")
    assertNotContains(response, "Rotate the card vault keys")
    response = client.get("/changes/", {"q": "vault"}, **HTMX)
    assertContains(response, "Rotate the card vault keys")
    assertNotContains(response, "<html")
    assert client.get("/changes/", {"ordering": "-risk"}).status_code == 200
    assert client.get("/changes/", {"status": "bogus"}).status_code == 200


def test_an_empty_list_says_how_changes_get_there(as_user, db):
    assertContains(as_user("owner").get("/changes/"), "write a change request")


def test_names_and_titles_are_escaped_in_the_calendar_and_the_filters(as_user, owner, payments):
    hostile = ServiceFactory(owner_team=payments, name='<img src=x onerror="alert(1)">')
    ChangeFactory(services=[hostile], author=owner, status="scheduled", title="<b>Bold</b> & co")
    FreezeFactory(name="<script>freeze()</script>")
    response = as_user("viewer").get("/changes/")
    content = response.content.decode()
    assert "<b>Bold</b>" not in content and "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in content
    assert "<script>freeze()" not in content and "&lt;script&gt;freeze()" in content
    assert (
        "<img src=x" not in content and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in content
    )


def test_a_busy_day_links_to_the_rest_of_its_changes(as_user, owner, service):
    for number in range(8):
        ChangeFactory(
            services=[service],
            author=owner,
            status="scheduled",
            title=f"Busy {number}",
            window_start=NOW + dt.timedelta(days=1),
            window_end=NOW + dt.timedelta(days=1, hours=1),
        )
    # One that began the day before and runs into the busy day is one of its "more" too.
    ChangeFactory(
        services=[service],
        author=owner,
        status="in_progress",
        title="Overnight migration",
        window_start=NOW + dt.timedelta(hours=6),
        window_end=NOW + dt.timedelta(days=1, hours=2),
    )
    ChangeFactory(services=[service], author=owner, status="draft", title="Only a draft")
    response = as_user("viewer").get("/changes/")
    statuses = "&amp;status=".join(
        [
            "",
            "submitted",
            "approved",
            "scheduled",
            "in_progress",
            "completed",
            "failed",
            "rolled_back",
            "reviewed",
        ]
    )
    link = f"/changes/?runs_on=2026-03-11{statuses}"
    assertContains(response, f'{link}">and 3 more')

    listed = as_user("viewer").get(link.replace("&amp;", "&"))
    titles = [change.title for change in listed.context["page_obj"]]
    assert sorted(titles) == sorted(["Overnight migration", *(f"Busy {n}" for n in range(8))])
    # The status filter shows every status of the link, so that changing another filter
    # sends them all again rather than the one a single-choice select would show.
    assertContains(listed, '<select name="status" id="id_status" multiple size="6">')
    assert listed.text.count("selected>") == 8
    # The calendar's day is the portal's, so is the filter's: a change that ends at the
    # day's first moment does not run on it.
    ChangeFactory(
        services=[service],
        author=owner,
        status="scheduled",
        title="Ends at midnight",
        window_start=dt.datetime(2026, 3, 10, 22, tzinfo=dt.UTC),
        window_end=dt.datetime(2026, 3, 11, tzinfo=dt.UTC),
    )
    listed = as_user("viewer").get("/changes/", {"runs_on": "2026-03-11"})
    assert "Ends at midnight" not in [change.title for change in listed.context["page_obj"]]


def test_the_filter_form_sent_as_it_stands_lists_every_change(as_user, owner, service):
    """A browser sends every select of the form, those left at "Any …" with an empty value:
    that is no filter, not a choice to refuse."""
    ChangeFactory(services=[service], author=owner, status="scheduled", title="Disk swap")
    ChangeFactory(services=[service], author=owner, status="draft", title="Cache resize")
    untouched = {
        "q": "",
        "status": "",
        "category": "",
        "risk_level": "",
        "team": "",
        "service": "",
        "window_after": "",
        "window_before": "",
        "runs_on": "",
        "awaiting": "",
    }
    for headers in ({}, HTMX):
        listed = as_user("viewer").get("/changes/", untouched, **headers)
        assert sorted(change.title for change in listed.context["page_obj"]) == [
            "Cache resize",
            "Disk swap",
        ]
        assertNotContains(listed, "errorlist")
        assertNotContains(listed, " multiple ")
    listed = as_user("viewer").get("/changes/", {**untouched, "status": "draft"})
    assert [change.title for change in listed.context["page_obj"]] == ["Cache resize"]


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_takes_the_same_queries_at_any_size(
    as_user, owner, service, django_assert_max_num_queries, count
):
    for number in range(count):
        ChangeFactory(
            services=[service],
            author=owner,
            status="scheduled",
            window_start=NOW + dt.timedelta(days=number % 14),
        )
    FreezeFactory()
    client = as_user("sre_lead")
    with django_assert_max_num_queries(11):
        assert client.get("/changes/").status_code == 200


# --- writing a change ---------------------------------------------------------------------------


def form_data(service, **fields):
    return {
        "title": "Move the card vault",
        "category": "standard",
        "services": [service.pk],
        "window_start": "2026-03-11T09:00",
        "window_end": "2026-03-11T11:00",
        "time_zone": "Europe/Paris",
        "rollback_plan": "Point the DNS back.",
        "tested_in_staging": "on",
        **fields,
    }


def test_an_engineer_writes_a_change_in_the_zone_it_is_planned_in(as_user, service):
    response = as_user("owner").post("/changes/new/", form_data(service))
    change = ChangeRequest.objects.get()
    assertRedirects(response, change.get_absolute_url())
    assert change.window_start == dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
    assert change.time_zone == "Europe/Paris"
    assert change.tested_in_staging and not change.rollback_tested
    assert change.status == "draft"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"window_end": "2026-03-11T08:00"}, "The end must come after the start."),
        ({"category": "emergency"}, "An emergency change needs the incident it answers."),
        ({"rollback_plan": ""}, "required unless low-risk"),
        ({"time_zone": "Atlantis/Capital"}, "Unknown time zone"),
        ({"incident": "INC-1999-0001"}, "Select a valid choice"),
    ],
)
def test_a_bad_change_form_explains_itself_and_saves_nothing(as_user, service, fields, message):
    response = as_user("owner").post("/changes/new/", form_data(service, **fields))
    assert response.status_code == 400
    assertContains(response, message, status_code=400)
    assert not ChangeRequest.objects.exists()


def test_an_engineer_cannot_write_a_change_to_another_teams_service(as_user, service):
    response = as_user("outsider").post("/changes/new/", form_data(service))
    assertContains(response, "Choose at least one service of your teams.", status_code=400)


def test_a_viewer_may_not_write_changes(as_user, service):
    assert as_user("viewer").get("/changes/new/").status_code == 403


def test_the_form_offers_services_as_checkboxes_with_a_filter(as_user, service):
    response = as_user("owner").get("/changes/new/")
    assertContains(response, 'type="checkbox" name="services"')
    assertContains(response, "data-filterable")
    assertContains(response, "checkbox-filter.js")


def test_a_draft_is_edited_with_its_window_shown_in_its_zone(as_user, change):
    change.time_zone = "Asia/Tokyo"
    change.save()
    client = as_user("owner")
    response = client.get(f"/changes/{change.pk}/edit/")
    assertContains(response, 'value="2026-03-12T21:00"')  # 12:00 UTC in Tokyo
    response = client.post(
        f"/changes/{change.pk}/edit/",
        form_data(
            change.services.get(),
            title="Rotate the keys",
            time_zone="Asia/Tokyo",
            window_start="2026-03-12T21:00",
            window_end="2026-03-12T22:00",
        ),
    )
    assertRedirects(response, change.get_absolute_url())
    change.refresh_from_db()
    assert change.title == "Rotate the keys"
    assert change.window_start == dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)


def test_others_may_not_edit_or_delete_a_teams_change(as_user, change):
    for user in ("outsider", "viewer"):
        assert as_user(user).get(f"/changes/{change.pk}/edit/").status_code == 403
        assert as_user(user).post(f"/changes/{change.pk}/delete/").status_code == 403


def test_a_draft_is_deleted_after_asking(as_user, change):
    client = as_user("teammate")
    assertContains(client.get(f"/changes/{change.pk}/delete/"), "Delete")
    assertRedirects(client.post(f"/changes/{change.pk}/delete/"), "/changes/")
    assert not ChangeRequest.objects.exists()


# --- the change page ---------------------------------------------------------------------------


def test_the_page_shows_risk_with_its_weights_checklist_and_timeline(as_user, change):
    response = as_user("viewer").get(change.get_absolute_url())
    assertContains(response, "Rotate the card vault keys")
    assertContains(response, "How the score is made")
    assertContains(response, "Canary deployment succeeded")
    assertContains(response, "Rollback not tested")
    assertNotContains(response, "Record my decision")
    assertNotContains(response, "Submit for approval")


def test_the_author_submits_and_approvers_decide_on_the_page(as_user, change, owner):
    response = as_user("owner").post(f"/changes/{change.pk}/submit/")
    assertRedirects(response, change.get_absolute_url())
    make_change_approver(UserFactory(username="ada"))
    approver = as_user("sre_lead")
    page = approver.get(change.get_absolute_url())
    assertContains(page, "Record my decision")
    response = approver.post(f"/changes/{change.pk}/decide/", {"decision": "reject"})
    assertContains(response, "a rejection needs a comment", status_code=400)
    response = approver.post(
        f"/changes/{change.pk}/decide/", {"decision": "reject", "comment": "Not this week."}
    )
    assertRedirects(response, change.get_absolute_url())
    change.refresh_from_db()
    assert change.status == "rejected"


def test_a_move_out_of_order_shows_why_on_the_page(as_user, change):
    response = as_user("owner").post(f"/changes/{change.pk}/start/")
    assertContains(response, "A draft change cannot be in progress", status_code=400)


def test_an_unknown_move_or_change_is_refused(as_user, change):
    assert as_user("owner").post(f"/changes/{change.pk}/explode/").status_code == 403
    assert as_user("owner").get("/changes/999/").status_code == 404


def test_scheduling_shows_the_conflicts_and_takes_an_acknowledgement(as_user, owner, service):
    change = approved_change(
        [service], author=owner, approvers=[], window_start=NOW + dt.timedelta(hours=1)
    )
    FreezeFactory(name="Board meeting", start=NOW, end=NOW + dt.timedelta(hours=3))
    client = as_user("sre_lead")
    page = client.get(change.get_absolute_url())
    assertContains(page, "Board meeting")
    assertContains(page, "Schedule it despite the conflicts listed")
    response = client.post(f"/changes/{change.pk}/schedule/")
    assertContains(response, "Schedule anyway only if you accept it", status_code=400)
    response = client.post(f"/changes/{change.pk}/schedule/", {"acknowledge_conflicts": "on"})
    assertRedirects(response, change.get_absolute_url())
    page = client.get(change.get_absolute_url())
    assertContains(page, "Conflicts accepted when it was scheduled")


def test_the_checklist_is_ticked_on_the_page(as_user, change):
    client = as_user("teammate")
    response = client.post(f"/changes/{change.pk}/checklist/", {"item": "canary", "done": "on"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert list(change.checklist) == ["canary"]
    assert (
        as_user("viewer").post(f"/changes/{change.pk}/checklist/", {"item": "canary"}).status_code
        == 403
    )


def test_the_page_previews_what_the_gate_would_answer(as_user, owner, service):
    change = approved_change([service], author=owner, approvers=[])
    budget_in_tier(service, "frozen")
    response = as_user("viewer").get(change.get_absolute_url())
    assertContains(response, "If it were deployed now")
    assertContains(response, 'class="gate-decision">deny')


@pytest.mark.parametrize("events", [1, 20])
def test_the_change_page_takes_the_same_queries_at_any_size(
    as_user, owner, service, payments, django_assert_max_num_queries, events
):
    change = approved_change(
        [service], author=owner, approvers=[make_change_approver(UserFactory()) for _ in range(2)]
    )
    for number in range(events):
        ServiceFactory(owner_team=payments, depends_on=[service])
        change.events.create(kind="edited", text=f"Edit {number}")
        DeploymentFactory(service=service, change=change)
    client = as_user("owner")
    with django_assert_max_num_queries(22):
        assert client.get(change.get_absolute_url()).status_code == 200


# --- freezes, gate decisions, overrides ---------------------------------------------------------


def freeze_form(**fields):
    return {
        "name": "Weekends",
        "scope": "service",
        "service": "payments-api",
        "start": "2026-03-13T16:00",
        "end": "2026-03-16T08:00",
        "time_zone": "Europe/Paris",
        "recurrence": "FREQ=WEEKLY;BYDAY=FR",
        **fields,
    }


def test_an_engineer_plans_a_weekly_freeze_of_their_service(as_user, service):
    response = as_user("owner").post("/changes/freezes/new/", freeze_form())
    freeze = FreezeWindow.objects.get()
    assertRedirects(response, freeze.get_absolute_url())
    assert freeze.start == dt.datetime(2026, 3, 13, 15, 0, tzinfo=dt.UTC)
    page = as_user("viewer").get(freeze.get_absolute_url())
    assertContains(page, "Next occurrences")
    assertContains(page, "FREQ=WEEKLY;BYDAY=FR")


def test_only_sre_leads_freeze_the_organisation(as_user, service):
    response = as_user("owner").post(
        "/changes/freezes/new/", freeze_form(scope="organisation", service="")
    )
    assertContains(response, "SRE leads freeze the whole organisation", status_code=400)
    response = as_user("sre_lead").post(
        "/changes/freezes/new/", freeze_form(scope="organisation", service="")
    )
    assert response.status_code == 302


def test_a_bad_freeze_explains_itself(as_user, service):
    response = as_user("owner").post("/changes/freezes/new/", freeze_form(service=""))
    assertContains(response, "Choose the service it freezes.", status_code=400)
    response = as_user("owner").post(
        "/changes/freezes/new/", freeze_form(recurrence="FREQ=MINUTELY", end="2026-03-13T15:00")
    )
    assertContains(response, "repeats daily, weekly, monthly or yearly", status_code=400)
    assertContains(response, "The end must come after the start.", status_code=400)


def test_others_may_not_edit_a_teams_freeze(as_user, service):
    freeze = FreezeFactory(scope="service", service=service)
    assert as_user("outsider").get(f"/changes/freezes/{freeze.pk}/edit/").status_code == 403
    assert as_user("teammate").get(f"/changes/freezes/{freeze.pk}/edit/").status_code == 200
    assertRedirects(
        as_user("teammate").post(f"/changes/freezes/{freeze.pk}/delete/"), "/changes/freezes/"
    )


def test_gate_decisions_are_listed_and_filtered(as_user, owner, service, payments):
    readiness_approved(service)
    other = ServiceFactory(owner_team=payments, slug="refunds")
    budget_in_tier(other, "frozen")
    gate_evaluate(services=[service], category="low-risk", change=None, by=owner)
    gate_evaluate(services=[other], category="low-risk", change=None, by=owner)
    response = as_user("viewer").get("/changes/gate/", {"decision": "deny"})
    assert [d.services.get().slug for d in response.context["page_obj"]] == ["refunds"]
    assertContains(response, "frozen budget tier")


def test_sre_leads_override_and_revoke_on_the_overrides_page(as_user, service):
    assertNotContains(as_user("owner").get("/changes/gate/overrides/"), "Override the gate")
    assert as_user("owner").post("/changes/gate/overrides/", {}).status_code == 403
    client = as_user("sre_lead")
    response = client.post(
        "/changes/gate/overrides/",
        {"service": "payments-api", "hours": 30, "reason": "Hotfix"},
    )
    assertContains(response, "An override lasts at most 24 hours.")
    response = client.post(
        "/changes/gate/overrides/", {"service": "payments-api", "hours": 2, "reason": "Hotfix"}
    )
    assertRedirects(response, "/changes/gate/overrides/")
    override = GateOverride.objects.get()
    assert override.expires_at == NOW + dt.timedelta(hours=2)
    client.post(f"/changes/gate/overrides/{override.pk}/revoke/")
    override.refresh_from_db()
    assert override.revoked_at == NOW


def test_an_override_that_has_not_started_says_so_instead_of_in_force(as_user, service):
    GateOverride.objects.create(
        service=service,
        reason="Friday's migration",
        created_by=UserFactory(),
        starts_at=NOW + dt.timedelta(hours=3),
        expires_at=NOW + dt.timedelta(hours=5),
    )
    response = as_user("viewer").get("/changes/gate/overrides/")
    assertContains(response, "scheduled from")
    assertNotContains(response, "<strong>in force</strong>")


# --- deployments and DORA ------------------------------------------------------------------------


def test_the_deployment_list_tells_an_empty_record_from_an_empty_search(as_user, service):
    response = as_user("viewer").get("/changes/deployments/", {"ordering": "-finished"})
    assertContains(response, "No deployments reported yet.")
    DeploymentFactory(service=service, status="succeeded")
    response = as_user("viewer").get("/changes/deployments/", {"status": "rolled_back"})
    assertContains(response, "No deployment matches this search.")
    assertContains(response, "Clear the search and filters")


def test_the_deployment_list_filters_by_service_and_outcome(as_user, service, payments):
    DeploymentFactory(service=service, version="9.9.9", status="rolled_back")
    DeploymentFactory(service=ServiceFactory(owner_team=payments), version="1.0.0")
    response = as_user("viewer").get("/changes/deployments/", {"status": "rolled_back"})
    assertContains(response, "9.9.9")
    assertNotContains(response, "1.0.0")


def test_the_dora_page_shows_the_keys_bands_and_chart_data(as_user, service):
    DeploymentFactory(
        service=service,
        finished_at=NOW - dt.timedelta(hours=2),
        first_commit_at=NOW - dt.timedelta(hours=5),
    )
    dora_snapshots_recompute(now=NOW)
    response = as_user("viewer").get("/changes/dora/")
    assertContains(response, 'class="dora-deployments">1<')
    assertContains(response, "dora-chart-data")
    # The charts' bound lines are the bands the figures are judged by, in the charts' units.
    chart = response.context["chart"]
    assert [(line["value"], line["label"]) for line in chart["time_bounds"]] == [
        (24.0, "Elite lead time: under a day"),
        (1.0, "Elite recovery: under an hour"),
    ]
    assert [(line["value"], line["label"]) for line in chart["rate_bounds"]] == [
        (5.0, "Elite: 5 % or less"),
        (15.0, "Medium: up to 15 %"),
    ]
    assertContains(response, "Accelerate State of DevOps")
    assertContains(response, "3 h")
    response = as_user("viewer").get("/changes/dora/", {"service": "payments-api"})
    assertContains(response, "DORA metrics: Payments API")


@pytest.mark.parametrize("teams", [1, 12])
def test_the_dora_page_takes_the_same_queries_at_any_size(
    as_user, service, django_assert_max_num_queries, teams
):
    for _ in range(teams):
        DeploymentFactory(service=ServiceFactory(), finished_at=NOW - dt.timedelta(days=3))
    dora_snapshots_recompute(now=NOW)
    client = as_user("viewer")
    with django_assert_max_num_queries(8):
        assert client.get("/changes/dora/").status_code == 200


# --- the panels on other apps' pages -----------------------------------------------------------


def test_the_service_page_says_it_is_frozen_until_when_with_its_decisions_and_keys(
    as_user, owner, service
):
    FreezeFactory(
        name="Quarter close", start=NOW - dt.timedelta(hours=1), end=NOW + dt.timedelta(hours=6)
    )
    budget_in_tier(service, "frozen")
    gate_evaluate(services=[service], category="standard", change=None, by=owner, version="2.0")
    DeploymentFactory(service=service, finished_at=NOW - dt.timedelta(hours=2))
    dora_snapshots_recompute(now=NOW)
    response = as_user("viewer").get(service.get_absolute_url())
    assertContains(response, "Frozen now")
    assertContains(response, "Quarter close")
    assertContains(response, "Latest gate decisions")
    assertContains(response, "frozen budget tier")
    assertContains(response, "DORA keys")


def test_the_incident_page_sets_the_deployment_that_caused_it(as_user, service, owner):
    incident = IncidentFactory(services=[service], severity=Severity.SEV2)
    deployment = DeploymentFactory(
        service=service, version="3.1.4", finished_at=incident.started_at - dt.timedelta(minutes=5)
    )
    client = as_user("teammate")
    page = client.get(incident.get_absolute_url())
    assertContains(page, "Caused by a deployment?")
    assertContains(page, "Payments API 3.1.4")
    response = client.post(f"/incidents/{incident.reference}/cause/", {"deployment": deployment.pk})
    assertRedirects(response, incident.get_absolute_url())
    assert IncidentCause.objects.get().deployment == deployment
    assertContains(client.get(incident.get_absolute_url()), "It counts in the change failure rate")
    client.post(f"/incidents/{incident.reference}/cause/", {"deployment": ""})
    assert not IncidentCause.objects.exists()


def test_the_cause_comes_first_and_chosen_then_the_candidates_newest_first(as_user, service, owner):
    incident = IncidentFactory(services=[service], severity=Severity.SEV2)
    before = incident.started_at - dt.timedelta(hours=1)
    older = DeploymentFactory(service=service, version="1.0", started_at=before, finished_at=before)
    newer = DeploymentFactory(
        service=service,
        version="1.1",
        started_at=before + dt.timedelta(minutes=30),
        finished_at=before + dt.timedelta(minutes=31),
    )
    # The recorded cause need not be a candidate (it began after the incident did).
    after = incident.started_at + dt.timedelta(minutes=1)
    cause = DeploymentFactory(service=service, version="2.0", started_at=after, finished_at=after)
    IncidentCause.objects.create(incident=incident, deployment=cause, linked_by=owner)
    DeploymentFactory(service=ServiceFactory(), started_at=before, finished_at=before)  # not its

    page = as_user("teammate").get(incident.get_absolute_url()).content.decode()

    assert f"linked by {owner.username}" in page
    select = page[page.index('id="id_cause_deployment"') :]
    select = select[: select.index("</select>")]
    options = [part.split('"')[0] for part in select.split('<option value="')[2:]]
    assert options == [str(cause.pk), str(newer.pk), str(older.pk)]
    assert f'value="{cause.pk}" selected' in select and select.count("selected") == 1


def test_viewers_see_the_cause_but_do_not_set_it(as_user, service):
    incident = IncidentFactory(services=[service], severity=Severity.SEV2)
    deployment = DeploymentFactory(
        service=service, finished_at=incident.started_at - dt.timedelta(minutes=5)
    )
    client = as_user("viewer")
    assertNotContains(client.get(incident.get_absolute_url()), 'name="deployment"')
    response = client.post(f"/incidents/{incident.reference}/cause/", {"deployment": deployment.pk})
    assert response.status_code == 403


def test_the_change_list_filters_what_awaits_my_approval(as_user, service, owner, change):
    from toil.choices.changes import ChangeStatus

    waiting = ChangeFactory(services=[service], author=owner, status=ChangeStatus.SUBMITTED)
    response = as_user("sre_lead").get("/changes/", {"awaiting": "true"})
    assert [row.pk for row in response.context["page_obj"]] == [waiting.pk]
    response = as_user("sre_lead").get("/changes/", {"awaiting": "false"})
    assert [row.pk for row in response.context["page_obj"]] == [change.pk]  # the draft
