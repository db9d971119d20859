"""The post-mortem UI for every kind of user: the page and its workflow, inline action
items, the search of published post-mortems and "my action items"."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from incidents.actions.incidents import incident_change_status, incident_declare
from incidents.actions.postmortems import (
    postmortem_publish,
    postmortem_start,
    postmortem_submit_for_review,
    postmortem_update,
)
from incidents.choices import ActionItemStatus, PostMortemStatus, Severity
from incidents.models.postmortems import ActionItem, PostMortem
from portal.timezones import COOKIE
from services.models.slos import MaintenanceWindow, SLIBucket
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    engineer,
)
from tests.services.slo_data import make_slo

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
REFERENCE_ROUTES = [
    "postmortem_detail",
    "postmortem_start",
    "postmortem_edit",
    "postmortem_submit",
    "postmortem_publish",
    "postmortem_return",
    "action_item_add",
]
SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
# The payments team's engineers (the teammate also commands and wrote it) and SRE leads.
EDITORS = ["owner", "teammate", "sre_lead"]
NON_EDITORS = ["outsider", "viewer"]
HTMX = {"HTTP_HX_REQUEST": "true"}

XSS_ATTEMPTS = {
    "script": "<script>alert('xss')</script>",
    "onerror": '<img src="x.png" onerror="alert(1)">',
    "javascript link": "[click](javascript:alert(1))",
    "data image": "![chart](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
}


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def as_user(request, client_for):
    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def incident(service, teammate):
    incident = incident_declare(
        title="Checkout fails",
        severity=Severity.SEV2,
        services=[service],
        declared_by=teammate,
        commander=teammate,
        started_at=NOW - dt.timedelta(hours=1),
    )
    return incident_change_status(incident=incident, status="resolved", by=teammate)


@pytest.fixture
def draft(incident, teammate):
    return postmortem_start(incident=incident, by=teammate)


@pytest.fixture
def in_review(draft, teammate, reviewer):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    return postmortem_submit_for_review(postmortem=draft, by=teammate)


def url(name, reference, *args):
    return reverse(name, args=[reference, *args])


# --- sign-in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFERENCE_ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in_from_every_postmortem_route(client, draft, name):
    address = url(name, draft.incident.reference)
    response = client.get(address)
    assertRedirects(response, f"{reverse('login')}?next={address}", fetch_redirect_response=False)


@pytest.mark.parametrize("name", ["postmortem_list", "action_item_mine"])
def test_anonymous_visitors_are_sent_to_sign_in_from_the_lists(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitors_are_sent_to_sign_in_from_an_action_item(client, draft):
    item = ActionItemFactory(postmortem=draft)
    response = client.get(url("action_item_edit", draft.incident.reference, item.pk))
    assert response.status_code == 302


# --- the post-mortem page --------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_reads_a_postmortem(as_user, draft, user):
    response = as_user(user).get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, "Post-mortem: Checkout fails")
    assertContains(response, "Time to resolve")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_see_edit_and_submit(as_user, draft, user):
    response = as_user(user).get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, url("postmortem_edit", draft.incident.reference))
    assertContains(response, "Submit for review")


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_see_no_edit_or_workflow_buttons(as_user, draft, user):
    response = as_user(user).get(url("postmortem_detail", draft.incident.reference))
    assertNotContains(response, url("postmortem_edit", draft.incident.reference))
    assertNotContains(response, "Submit for review")
    assertNotContains(response, "Add an action item")


@pytest.mark.parametrize("section", PostMortem.SECTIONS)
@pytest.mark.parametrize("attempt", XSS_ATTEMPTS.values(), ids=XSS_ATTEMPTS.keys())
def test_no_script_in_any_section_reaches_the_page(as_user, draft, section, attempt):
    postmortem_update(postmortem=draft, by=draft.author, **{section: f"Before {attempt} after"})
    response = as_user("viewer").get(url("postmortem_detail", draft.incident.reference))
    html = response.content.decode().lower()
    assert "before" in html
    for fragment in ("<script>alert", "onerror", "javascript:alert", "data:image"):
        assert fragment not in html


def test_sections_are_rendered_as_markdown(as_user, draft):
    postmortem_update(
        postmortem=draft, by=draft.author, root_cause="A **missing index** on `orders`."
    )
    response = as_user("viewer").get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, "A <strong>missing index</strong> on <code>orders</code>.")


def test_a_postmortem_past_due_shows_overdue(as_user, draft, frozen_time):
    frozen_time.move_to(NOW + dt.timedelta(days=8), tick=False)
    response = as_user("viewer").get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, '<span class="badge overdue">Overdue</span>', html=True)


def test_the_page_says_when_the_services_have_no_slos(as_user, draft):
    response = as_user("viewer").get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, "The affected services have no SLOs")


def test_an_unknown_incident_is_not_found(as_user, db):
    response = as_user("viewer").get(url("postmortem_detail", "INC-1999-0001"))
    assert response.status_code == 404


@pytest.mark.parametrize("count", [1, 15])
def test_the_postmortem_page_takes_the_same_queries_for_any_size(
    as_user, draft, django_assert_max_num_queries, count, sre_lead
):
    reviewers = [engineer() for _ in range(count)]
    postmortem_update(postmortem=draft, by=draft.author, reviewers=reviewers)
    for number in range(count):
        ActionItemFactory(postmortem=draft, owner=UserFactory())
        affected = ServiceFactory(owner_team=draft.incident.team)
        draft.incident.services.add(affected)
        slo = make_slo(affected, number)
        SLIBucket.objects.create(slo=slo, start=NOW - dt.timedelta(minutes=30), good=9, total=10)
        MaintenanceWindow.objects.create(
            slo=slo, start=NOW - dt.timedelta(minutes=10), end=NOW, reason="Upgrade"
        )
    client = as_user("owner")
    with django_assert_max_num_queries(13):
        response = client.get(url("postmortem_detail", draft.incident.reference))
    assert response.context["action_items"][count - 1].owner is not None
    assert len(response.context["budget_impacts"]) == count


# --- starting one ----------------------------------------------------------------------------


@pytest.mark.parametrize("user", EDITORS)
def test_editors_are_offered_to_start_a_postmortem_of_a_resolved_incident(as_user, incident, user):
    response = as_user(user).get(url("postmortem_detail", incident.reference))
    assertContains(response, "This incident has no post-mortem yet.")
    assertContains(response, "Start the post-mortem")


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_are_not_offered_to_start_one(as_user, incident, user):
    response = as_user(user).get(url("postmortem_detail", incident.reference))
    assertNotContains(response, "Start the post-mortem")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_start_a_postmortem_and_land_on_its_form(as_user, incident, user, request):
    response = as_user(user).post(url("postmortem_start", incident.reference))
    assertRedirects(response, url("postmortem_edit", incident.reference))
    assert PostMortem.objects.get().author == request.getfixturevalue(user)


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_start_one(as_user, incident, user):
    response = as_user(user).post(url("postmortem_start", incident.reference))
    assert response.status_code == 403
    assert not PostMortem.objects.exists()


def test_starting_one_for_an_unresolved_incident_says_why_it_cannot(as_user, service, owner):
    incident = IncidentFactory(services=[service])
    response = as_user("owner").post(url("postmortem_start", incident.reference), follow=True)
    assertContains(response, "A post-mortem starts once the incident is resolved.")
    assert not PostMortem.objects.exists()


def test_starting_is_a_post_only(as_user, incident):
    response = as_user("owner").get(url("postmortem_start", incident.reference))
    assert response.status_code == 405


# --- editing ---------------------------------------------------------------------------------


def edit_data(**changes):
    data = dict.fromkeys(PostMortem.SECTIONS, "")
    data.update(summary="Card payments failed.", root_cause="A missing index.")
    data.update(changes)
    return data


@pytest.mark.parametrize("user", EDITORS)
def test_editors_save_sections_and_reviewers(as_user, draft, user, reviewer):
    response = as_user(user).post(
        url("postmortem_edit", draft.incident.reference), edit_data(reviewers=[reviewer.pk])
    )
    assertRedirects(response, url("postmortem_detail", draft.incident.reference))
    draft.refresh_from_db()
    assert (draft.root_cause, list(draft.reviewers.all())) == ("A missing index.", [reviewer])


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_edit(as_user, draft, user):
    client = as_user(user)
    assert client.get(url("postmortem_edit", draft.incident.reference)).status_code == 403
    response = client.post(url("postmortem_edit", draft.incident.reference), edit_data())
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.root_cause == ""


def test_an_unknown_reviewer_is_a_form_error_not_a_crash(as_user, draft):
    response = as_user("owner").post(
        url("postmortem_edit", draft.incident.reference), edit_data(reviewers=["999999"])
    )
    assert response.status_code == 200
    assert "reviewers" in response.context["form"].errors


def test_naming_the_author_as_reviewer_is_shown_on_the_field(as_user, draft, teammate):
    response = as_user("owner").post(
        url("postmortem_edit", draft.incident.reference), edit_data(reviewers=[teammate.pk])
    )
    assert response.context["form"].errors["reviewers"] == [
        "Tom Teammate wrote this post-mortem and cannot review it."
    ]


def test_nobody_edits_a_published_postmortem(as_user, in_review, reviewer):
    postmortem_publish(postmortem=in_review, by=reviewer)
    response = as_user("sre_lead").get(url("postmortem_edit", in_review.incident.reference))
    assert response.status_code == 403


# --- the workflow ----------------------------------------------------------------------------


def test_submitting_without_reviewers_says_what_is_missing(as_user, draft):
    response = as_user("owner").post(url("postmortem_submit", draft.incident.reference))
    assert messages_of(response) == ["Name at least one reviewer first."]
    draft.refresh_from_db()
    assert draft.status == PostMortemStatus.DRAFT


@pytest.mark.parametrize("user", EDITORS)
def test_editors_submit_a_draft_with_a_reviewer(as_user, draft, reviewer, user):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    response = as_user(user).post(url("postmortem_submit", draft.incident.reference))
    assertRedirects(response, url("postmortem_detail", draft.incident.reference))
    draft.refresh_from_db()
    assert draft.status == PostMortemStatus.IN_REVIEW


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_submit(as_user, draft, reviewer, user):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    response = as_user(user).post(url("postmortem_submit", draft.incident.reference))
    assert response.status_code == 403


@pytest.mark.parametrize("user", ["reviewer", "sre_lead"])
def test_a_reviewer_or_an_sre_lead_publishes(as_user, in_review, user):
    response = as_user(user).post(url("postmortem_publish", in_review.incident.reference))
    assertRedirects(response, url("postmortem_detail", in_review.incident.reference))
    in_review.refresh_from_db()
    assert in_review.status == PostMortemStatus.PUBLISHED


@pytest.mark.parametrize("user", ["owner", "teammate", "outsider", "viewer"])
def test_nobody_else_publishes_not_even_the_author(as_user, in_review, user):
    response = as_user(user).post(url("postmortem_publish", in_review.incident.reference))
    assert response.status_code == 403
    in_review.refresh_from_db()
    assert in_review.status == PostMortemStatus.IN_REVIEW


def test_the_reviewer_sees_the_publish_and_return_buttons(as_user, in_review):
    response = as_user("reviewer").get(url("postmortem_detail", in_review.incident.reference))
    assertContains(response, ">Publish</button>")
    assertContains(response, ">Return to draft</button>")


@pytest.mark.parametrize("user", ["reviewer", "owner", "sre_lead"])
def test_reviewers_and_editors_return_it_to_draft(as_user, in_review, user):
    as_user(user).post(url("postmortem_return", in_review.incident.reference))
    in_review.refresh_from_db()
    assert in_review.status == PostMortemStatus.DRAFT


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_return_it(as_user, in_review, user):
    response = as_user(user).post(url("postmortem_return", in_review.incident.reference))
    assert response.status_code == 403


# --- action items inline ---------------------------------------------------------------------


def item_data(owner, **changes):
    data = {
        "title": "Add the missing index",
        "owner": owner.pk,
        "due_date": "2026-12-01",
        "priority": "P1",
        "kind": "prevent",
        "status": "open",
        "wont_do_reason": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("user", EDITORS)
def test_editors_open_the_inline_form(as_user, draft, user):
    response = as_user(user).get(url("action_item_add", draft.incident.reference), **HTMX)
    assertContains(response, 'id="action-items"')
    assertContains(response, "Save the action item")
    assertNotContains(response, "<html")


@pytest.mark.parametrize("user", EDITORS)
def test_editors_add_an_action_item_inline(as_user, draft, owner, user):
    response = as_user(user).post(
        url("action_item_add", draft.incident.reference), item_data(owner), **HTMX
    )
    assertContains(response, "Add the missing index")
    assertNotContains(response, "Save the action item")
    item = ActionItem.objects.get()
    assert (item.postmortem, item.owner, item.kind) == (draft, owner, "prevent")


def test_without_javascript_adding_redirects_to_the_postmortem(as_user, draft, owner):
    response = as_user("owner").post(
        url("action_item_add", draft.incident.reference), item_data(owner)
    )
    assertRedirects(response, url("postmortem_detail", draft.incident.reference))
    assert messages_of(response) == ["The action item was added."]


def test_wont_do_without_a_reason_is_refused_in_the_form(as_user, draft, owner):
    response = as_user("owner").post(
        url("action_item_add", draft.incident.reference),
        item_data(owner, status="wont_do"),
        **HTMX,
    )
    assertContains(response, "Say why it won")
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_add_action_items(as_user, draft, owner, user):
    client = as_user(user)
    response = client.post(url("action_item_add", draft.incident.reference), item_data(owner))
    assert response.status_code == 403
    assert not ActionItem.objects.exists()


def test_action_items_can_be_added_after_publishing(as_user, in_review, reviewer, owner):
    postmortem_publish(postmortem=in_review, by=reviewer)
    response = as_user("owner").post(
        url("action_item_add", in_review.incident.reference), item_data(owner), **HTMX
    )
    assertContains(response, "Add the missing index")


def test_the_owner_of_an_item_edits_it_though_outside_the_team(as_user, draft, outsider):
    item = ActionItemFactory(postmortem=draft, owner=outsider)
    response = as_user("outsider").post(
        url("action_item_edit", draft.incident.reference, item.pk),
        item_data(outsider, status="done"),
        **HTMX,
    )
    assertContains(response, "Add the missing index")
    item.refresh_from_db()
    assert (item.status, item.completed_at) == (ActionItemStatus.DONE, NOW)


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_edit_an_item(as_user, draft, owner, user):
    item = ActionItemFactory(postmortem=draft, owner=owner)
    response = as_user(user).get(url("action_item_edit", draft.incident.reference, item.pk))
    assert response.status_code == 403


@pytest.mark.parametrize("user", EDITORS)
def test_editors_edit_any_item_of_the_postmortem(as_user, draft, outsider, user):
    item = ActionItemFactory(postmortem=draft, owner=outsider)
    response = as_user(user).get(url("action_item_edit", draft.incident.reference, item.pk), **HTMX)
    assertContains(response, "Save the action item")


def test_an_item_of_another_postmortem_is_not_found(as_user, draft):
    other = ActionItemFactory()
    response = as_user("sre_lead").get(url("action_item_edit", draft.incident.reference, other.pk))
    assert response.status_code == 404


def test_overdue_items_are_marked_on_the_postmortem(as_user, draft, owner):
    ActionItemFactory(postmortem=draft, owner=owner, due_date=NOW.date() - dt.timedelta(days=1))
    response = as_user("viewer").get(url("postmortem_detail", draft.incident.reference))
    assertContains(response, '<span class="badge overdue">Overdue</span>', html=True)


# --- search ----------------------------------------------------------------------------------


def published(title, **sections):
    postmortem = PostMortemFactory(
        incident=IncidentFactory(title=title),
        status=PostMortemStatus.PUBLISHED,
        published_at=NOW,
        **sections,
    )
    return postmortem


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_searches_published_postmortems(as_user, user):
    published("Checkout outage", root_cause="Connection pool exhausted by retries")
    response = as_user(user).get(reverse("postmortem_list"), {"q": "pool exhausted"})
    assertContains(response, "Checkout outage")


def test_search_finds_published_postmortems_and_never_drafts(as_user):
    published("Checkout outage", root_cause="Connection pool exhausted")
    PostMortemFactory(incident=IncidentFactory(title="Secret draft"), root_cause="pool exhausted")
    in_review = PostMortemFactory(
        incident=IncidentFactory(title="Under review"),
        status=PostMortemStatus.IN_REVIEW,
        root_cause="pool exhausted",
    )
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "pool"})
    assertContains(response, "Checkout outage")
    assertNotContains(response, "Secret draft")
    assertNotContains(response, in_review.incident.title)
    response = as_user("viewer").get(reverse("postmortem_list"))
    assertNotContains(response, "Secret draft")


def test_search_reads_every_section_and_ranks_title_matches_first(as_user):
    published("Database failover", lessons="Test the failover monthly")
    published("Queue backlog", got_lucky="The database failover happened at night")
    published("Unrelated", summary="Nothing to see")
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "failover"})
    titles = [item.incident.title for item in response.context["page_obj"]]
    assert titles == ["Database failover", "Queue backlog"]


def test_search_understands_word_forms(as_user):
    published("Payments", five_whys="Because the certificates expired")
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "certificate expiry"})
    assert [item.incident.title for item in response.context["page_obj"]] == []
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "certificate expired"})
    assert [item.incident.title for item in response.context["page_obj"]] == ["Payments"]


def test_search_answers_htmx_with_the_results_only(as_user):
    published("Checkout outage")
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "checkout"}, **HTMX)
    assertContains(response, "Checkout outage")
    assertNotContains(response, "<html")


def test_a_row_names_the_incident_its_services_times_and_open_items(as_user):
    with_services = published("Checkout outage")
    with_services.incident.services.set(
        [ServiceFactory(name="Payments API"), ServiceFactory(name="Basket")]
    )
    ActionItemFactory(postmortem=with_services)
    ActionItemFactory(postmortem=with_services, status=ActionItemStatus.DONE)
    published("Quiet failure")
    response = as_user("viewer").get(reverse("postmortem_list"), **HTMX)
    html = response.text
    checkout = html.split("Checkout outage</a>")[1].split("</tr>")[0]
    assert "<td>Basket, Payments API</td>" in checkout
    assert '<time datetime="2026-11-20T10:00:00+00:00">' in checkout
    assert '<td class="number">1</td>' in checkout
    quiet = html.split("Quiet failure</a>")[1].split("</tr>")[0]
    assert "<td>—</td>" in quiet
    assert "bound method" not in html


def test_a_postmortem_still_being_written_shows_its_status_and_lateness(as_user):
    PostMortemFactory(
        incident=IncidentFactory(title="Late draft"), due_at=NOW - dt.timedelta(days=1)
    )
    response = as_user("viewer").get(reverse("postmortem_list"), {"past_due": "true"}, **HTMX)
    row = response.text.split("Late draft</a>")[1].split("</tr>")[0]
    assert '<span class="badge">Draft</span>' in row
    assert '<span class="badge overdue">Overdue</span>' in row
    assert '<span class="muted">—</span>' in row  # not published


def test_a_search_without_results_says_so(as_user):
    published("Checkout outage")
    response = as_user("viewer").get(reverse("postmortem_list"), {"q": "kangaroo"})
    assertContains(response, "No published post-mortem matches this search.")


def test_an_empty_list_explains_where_postmortems_come_from(as_user):
    response = as_user("viewer").get(reverse("postmortem_list"))
    assertContains(response, "No post-mortem has been published yet.")


@pytest.mark.parametrize("bad", [{"severity": "SEV9"}, {"ordering": "nonsense"}, {"page": "x"}])
def test_bad_filter_values_never_break_the_list(as_user, bad):
    published("Checkout outage")
    assert as_user("viewer").get(reverse("postmortem_list"), bad).status_code == 200


@pytest.mark.parametrize("count", [1, 20])
def test_the_search_takes_the_same_queries_for_any_size(
    as_user, django_assert_max_num_queries, count, service
):
    for number in range(count):
        postmortem = published(f"Outage {number}", root_cause="pool exhausted")
        postmortem.incident.services.add(service)
        ActionItemFactory(postmortem=postmortem)
    client = as_user("viewer")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("postmortem_list"), {"q": "pool"})
    assert response.context["page_obj"].paginator.count == count


@pytest.mark.parametrize("count", [1, 30])
def test_the_results_fragment_takes_the_same_queries_for_any_size(
    as_user, django_assert_max_num_queries, count, service
):
    for number in range(count):
        published(f"Outage {number}").incident.services.add(service)
    client = as_user("viewer")
    # The session, the user, the count, the page of post-mortems and their services.
    with django_assert_max_num_queries(5):
        response = client.get(reverse("postmortem_list"), **HTMX)
    assertContains(response, f"{count} post-mortem")
    assertContains(response, f"<td>{service.name}</td>", count=min(count, 25))


# --- my action items -------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_has_a_my_action_items_page(as_user, user, request):
    ActionItemFactory(owner=request.getfixturevalue(user), title="Mine to do")
    ActionItemFactory(title="Someone else's")
    response = as_user(user).get(reverse("action_item_mine"))
    assertContains(response, "Mine to do")
    assertNotContains(response, "Someone else")


def test_my_overdue_items_are_marked_and_stay_after_the_incident_closes(as_user, owner):
    incident = IncidentFactory(severity=Severity.SEV3, resolved_at=NOW, status="resolved")
    postmortem = PostMortemFactory(incident=incident)
    ActionItemFactory(
        postmortem=postmortem, owner=owner, title="Late", due_date=NOW.date() - dt.timedelta(1)
    )
    incident_change_status(incident=incident, status="closed", by=owner)
    response = as_user("owner").get(reverse("action_item_mine"), {"overdue": "true"})
    assertContains(response, "Late")
    assertContains(response, '<span class="badge overdue">Overdue</span>', html=True)


def test_a_person_without_items_is_told_where_they_come_from(as_user):
    response = as_user("viewer").get(reverse("action_item_mine"))
    assertContains(response, "You own no action items.")


def test_filters_that_match_none_of_my_items_say_so(as_user, owner):
    ActionItemFactory(owner=owner)
    response = as_user("owner").get(reverse("action_item_mine"), {"status": "done"})
    assertContains(response, "None of your action items matches these filters.")


@pytest.mark.parametrize("count", [1, 20])
def test_my_action_items_take_the_same_queries_for_any_size(
    as_user, owner, django_assert_max_num_queries, count
):
    for _ in range(count):
        ActionItemFactory(owner=owner)
    client = as_user("owner")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("action_item_mine"))
    assert response.context["page_obj"].paginator.count == count


# --- days and deadlines in the portal's zone ------------------------------------------------

FRIDAY_LATE = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "UTC", "America/Los_Angeles"])
def test_the_due_date_does_not_depend_on_who_starts_the_postmortem(
    client_for, teammate, service, frozen_time, settings, zone
):
    """Resolved on Friday 23:30 UTC: for a Tokyo viewer that is already Saturday, but the
    deadline is counted in the portal's zone (UTC here): five working days on, Friday."""
    settings.TIME_ZONE = "UTC"
    frozen_time.move_to(FRIDAY_LATE - dt.timedelta(hours=1), tick=False)
    incident = incident_declare(
        title="Checkout fails", severity=Severity.SEV2, services=[service], declared_by=teammate
    )
    frozen_time.move_to(FRIDAY_LATE, tick=False)
    incident_change_status(incident=incident, status="resolved", by=teammate)
    client = client_for(teammate)
    client.cookies[COOKIE] = zone

    client.post(url("postmortem_start", incident.reference))

    assert PostMortem.objects.get().due_at == dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "UTC"])
def test_an_action_item_is_overdue_by_the_portals_calendar_not_the_viewers(
    client_for, owner, draft, frozen_time, settings, zone
):
    """Due on Friday 20th; at 20:00 UTC it is Saturday in Tokyo, and still not overdue."""
    settings.TIME_ZONE = "UTC"
    item = ActionItemFactory(postmortem=draft, owner=owner, due_date=dt.date(2026, 11, 20))
    frozen_time.move_to(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False)
    client = client_for(owner)
    client.cookies[COOKIE] = zone

    listed = client.get("/api/action-items/", {"overdue": "true"}).json()
    shown = client.get(f"/api/action-items/{item.pk}/").json()
    page = client.get(reverse("action_item_mine"))

    assert (listed["count"], shown["overdue"]) == (0, False)
    assertNotContains(page, '<span class="badge overdue">Overdue</span>', html=True)


def test_an_sre_lead_who_started_the_postmortem_is_told_a_reviewer_publishes_it(
    as_user, service, sre_lead, reviewer
):
    incident = incident_declare(
        title="Gateway errors", severity=Severity.SEV2, services=[service], declared_by=sre_lead
    )
    incident_change_status(incident=incident, status="resolved", by=sre_lead)
    postmortem = postmortem_start(incident=incident, by=sre_lead)
    postmortem_update(postmortem=postmortem, by=sre_lead, reviewers=[reviewer])
    postmortem_submit_for_review(postmortem=postmortem, by=sre_lead)
    client = as_user("sre_lead")

    page = client.get(url("postmortem_detail", incident.reference))
    refused = client.post(url("postmortem_publish", incident.reference))

    assertNotContains(page, ">Publish</button>")
    assertContains(
        page, "You started this post-mortem: a reviewer who did not write it publishes it."
    )
    assert refused.status_code == 403
    postmortem.refresh_from_db()
    assert postmortem.status == PostMortemStatus.IN_REVIEW
    assertContains(
        as_user("reviewer").get(url("postmortem_detail", incident.reference)), ">Publish</button>"
    )


@pytest.mark.parametrize(
    ("due_date", "message"),
    [
        ("9999-12-31", "The due date must be by 2029-11-20 at the latest (3 years)."),
        ("1999-01-01", "The due date cannot be before the incident started (2026-11-20)."),
    ],
)
def test_an_implausible_due_date_is_explained_on_the_field(
    as_user, draft, owner, due_date, message
):
    response = as_user("teammate").post(
        url("action_item_add", draft.incident.reference),
        item_data(owner, due_date=due_date),
        **HTMX,
    )
    assert response.context["item_form"].errors["due_date"] == [message]
    assert not ActionItem.objects.exists()
