"""The post-mortem and action-item API: the UI's rules for tokens, the workflow as actions,
filters, validation as 400s and constant-query lists."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from incidents.actions.incidents import incident_change_status, incident_declare
from incidents.actions.postmortems import (
    postmortem_publish,
    postmortem_start,
    postmortem_submit_for_review,
    postmortem_update,
)
from incidents.choices import ActionItemStatus, PostMortemStatus, Severity
from incidents.models.postmortems import ActionItem, PostMortem
from tests.factories import UserFactory
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
SIGNED_IN = ["owner", "teammate", "outsider", "viewer", "sre_lead"]
EDITORS = ["owner", "teammate", "sre_lead"]
NON_EDITORS = ["outsider", "viewer"]
POSTMORTEMS = "/api/postmortems/"
ACTION_ITEMS = "/api/action-items/"


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def api_as(request, api_client_for):
    def authenticate(name):
        return api_client_for(request.getfixturevalue(name))

    return authenticate


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


def detail(base, pk, suffix=""):
    return f"{base}{pk}/{suffix}"


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", POSTMORTEMS),
        ("post", POSTMORTEMS),
        ("get", ACTION_ITEMS),
        ("post", ACTION_ITEMS),
    ],
)
def test_anonymous_callers_are_refused(db, method, path):
    assert getattr(APIClient(), method)(path, {}).status_code == 401


def test_anonymous_callers_are_refused_on_records_and_workflow(draft):
    item = ActionItemFactory(postmortem=draft)
    client = APIClient()
    for path in (
        detail(POSTMORTEMS, draft.pk),
        detail(POSTMORTEMS, draft.pk, "submit/"),
        detail(POSTMORTEMS, draft.pk, "publish/"),
        detail(ACTION_ITEMS, item.pk),
        detail(ACTION_ITEMS, item.pk, "status/"),
    ):
        assert client.post(path, {}).status_code in {401, 405}
        assert client.get(path).status_code in {401, 405}


# --- post-mortems ----------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_reads_postmortems(api_as, draft, user):
    response = api_as(user).get(detail(POSTMORTEMS, draft.pk))
    assert response.status_code == 200
    body = response.json()
    assert (body["incident"], body["status"], body["author"], body["overdue"]) == (
        draft.incident.reference,
        "draft",
        "tom",
        False,
    )


@pytest.mark.parametrize("user", EDITORS)
def test_editors_start_a_postmortem_with_sections(api_as, incident, user):
    response = api_as(user).post(
        POSTMORTEMS, {"incident": incident.reference, "root_cause": "A missing index."}
    )
    assert response.status_code == 201, response.json()
    postmortem = PostMortem.objects.get()
    assert (postmortem.root_cause, response.json()["due_at"]) == (
        "A missing index.",
        "2026-11-27T10:00:00Z",
    )


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_start_one(api_as, incident, user):
    response = api_as(user).post(POSTMORTEMS, {"incident": incident.reference})
    assert response.status_code == 403
    assert not PostMortem.objects.exists()


def test_starting_a_second_one_is_a_400(api_as, draft):
    response = api_as("owner").post(POSTMORTEMS, {"incident": draft.incident.reference})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This incident already has a post-mortem."]}


def test_an_unknown_incident_is_a_400_naming_the_field(api_as, db):
    response = api_as("sre_lead").post(POSTMORTEMS, {"incident": "INC-1999-0001"})
    assert response.status_code == 400
    assert "incident" in response.json()


@pytest.mark.parametrize("user", EDITORS)
def test_editors_change_sections_and_reviewers(api_as, draft, reviewer, user):
    response = api_as(user).patch(
        detail(POSTMORTEMS, draft.pk), {"lessons": "Alert on pool use.", "reviewers": ["rita"]}
    )
    assert response.status_code == 200, response.json()
    draft.refresh_from_db()
    assert (draft.lessons, list(draft.reviewers.all())) == ("Alert on pool use.", [reviewer])


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_change_one(api_as, draft, user):
    response = api_as(user).patch(detail(POSTMORTEMS, draft.pk), {"lessons": "Mine now"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.lessons == ""


def test_naming_the_author_as_reviewer_is_a_400(api_as, draft):
    response = api_as("owner").patch(detail(POSTMORTEMS, draft.pk), {"reviewers": ["tom"]})
    assert response.status_code == 400
    assert response.json() == {
        "reviewers": ["Tom Teammate wrote this post-mortem and cannot review it."]
    }


def test_status_is_not_written_directly(api_as, draft):
    api_as("sre_lead").patch(detail(POSTMORTEMS, draft.pk), {"status": "published"})
    draft.refresh_from_db()
    assert draft.status == PostMortemStatus.DRAFT


def test_a_postmortem_stays_with_its_incident(api_as, draft):
    other = IncidentFactory()
    response = api_as("sre_lead").patch(
        detail(POSTMORTEMS, draft.pk), {"incident": other.reference}
    )
    assert response.status_code == 400
    assert response.json() == {"incident": ["A post-mortem stays with its incident."]}


def test_postmortems_cannot_be_deleted(api_as, draft):
    assert api_as("sre_lead").delete(detail(POSTMORTEMS, draft.pk)).status_code == 405


def test_submitting_without_reviewers_is_a_400(api_as, draft):
    response = api_as("owner").post(detail(POSTMORTEMS, draft.pk, "submit/"))
    assert response.status_code == 400
    assert response.json() == {"reviewers": ["Name at least one reviewer first."]}


@pytest.mark.parametrize("user", EDITORS)
def test_editors_submit_for_review(api_as, draft, reviewer, user):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    response = api_as(user).post(detail(POSTMORTEMS, draft.pk, "submit/"))
    assert (response.status_code, response.json()["status"]) == (200, "in_review")


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_submit(api_as, draft, reviewer, user):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    assert api_as(user).post(detail(POSTMORTEMS, draft.pk, "submit/")).status_code == 403


@pytest.mark.parametrize("user", ["reviewer", "sre_lead"])
def test_a_reviewer_or_an_sre_lead_publishes(api_as, in_review, user):
    response = api_as(user).post(detail(POSTMORTEMS, in_review.pk, "publish/"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["published_at"]) == (
        "published",
        "2026-11-20T10:00:00Z",
    )


@pytest.mark.parametrize("user", ["owner", "teammate", "outsider", "viewer"])
def test_nobody_else_publishes(api_as, in_review, user):
    assert api_as(user).post(detail(POSTMORTEMS, in_review.pk, "publish/")).status_code == 403


def test_publishing_a_draft_is_a_400(api_as, draft):
    response = api_as("sre_lead").post(detail(POSTMORTEMS, draft.pk, "publish/"))
    assert response.status_code == 400
    assert response.json() == {"status": ["A post-mortem that is draft cannot become published."]}


def test_a_reviewer_returns_it_to_draft(api_as, in_review):
    response = api_as("reviewer").post(detail(POSTMORTEMS, in_review.pk, "return-to-draft/"))
    assert (response.status_code, response.json()["status"]) == (200, "draft")


def test_a_published_postmortem_is_read_only(api_as, in_review, reviewer):
    postmortem_publish(postmortem=in_review, by=reviewer)
    response = api_as("sre_lead").patch(detail(POSTMORTEMS, in_review.pk), {"lessons": "Later"})
    assert response.status_code == 403


def test_postmortems_filter_by_status_and_search(api_as, in_review, reviewer):
    postmortem_publish(postmortem=in_review, by=reviewer)
    PostMortemFactory(root_cause="pool exhausted")
    client = api_as("viewer")
    published = client.get(POSTMORTEMS, {"status": "published"}).json()["results"]
    assert [row["id"] for row in published] == [in_review.pk]
    found = client.get(POSTMORTEMS, {"q": "pool"}).json()["results"]
    assert [row["root_cause"] for row in found] == ["pool exhausted"]


@pytest.mark.parametrize("count", [1, 20])
def test_the_postmortem_list_takes_the_same_queries_for_any_size(
    api_as, django_assert_max_num_queries, count, service
):
    for _ in range(count):
        postmortem = PostMortemFactory(author=UserFactory())
        postmortem.incident.services.add(service)
        postmortem.reviewers.add(UserFactory())
    client = api_as("viewer")
    with django_assert_max_num_queries(7):
        response = client.get(POSTMORTEMS)
    assert response.json()["count"] == count


# --- action items ----------------------------------------------------------------------------


def item_payload(postmortem, **changes):
    payload = {
        "postmortem": postmortem.pk,
        "title": "Add the missing index",
        "owner": "olivia",
        "due_date": "2026-12-01",
        "priority": "P1",
        "kind": "prevent",
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize("user", EDITORS)
def test_editors_add_action_items(api_as, draft, user, owner):
    response = api_as(user).post(ACTION_ITEMS, item_payload(draft))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["incident"], body["owner"], body["status"], body["overdue"]) == (
        draft.incident.reference,
        "olivia",
        "open",
        False,
    )


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_add_action_items(api_as, draft, user, owner):
    assert api_as(user).post(ACTION_ITEMS, item_payload(draft)).status_code == 403
    assert not ActionItem.objects.exists()


def test_a_bad_kind_and_a_missing_title_are_400s_naming_the_fields(api_as, draft, owner):
    response = api_as("owner").post(ACTION_ITEMS, item_payload(draft, kind="pray", title=""))
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "title"}


def test_wont_do_without_a_reason_is_a_400(api_as, draft, owner):
    item = ActionItemFactory(postmortem=draft, owner=owner)
    response = api_as("owner").post(detail(ACTION_ITEMS, item.pk, "status/"), {"status": "wont_do"})
    assert response.status_code == 400
    assert list(response.json()) == ["wont_do_reason"]
    item.refresh_from_db()
    assert item.status == ActionItemStatus.OPEN


def test_the_owner_sets_the_status_of_an_item_outside_their_team(api_as, draft, outsider):
    item = ActionItemFactory(postmortem=draft, owner=outsider)
    client = api_as("outsider")
    response = client.post(
        detail(ACTION_ITEMS, item.pk, "status/"), {"status": "wont_do", "reason": "Obsolete"}
    )
    assert (response.status_code, response.json()["status"]) == (200, "wont_do")
    response = client.post(detail(ACTION_ITEMS, item.pk, "status/"), {"status": "done"})
    assert (response.json()["status"], response.json()["completed_at"]) == (
        "done",
        "2026-11-20T10:00:00Z",
    )


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_change_an_item(api_as, draft, owner, user):
    item = ActionItemFactory(postmortem=draft, owner=owner)
    client = api_as(user)
    assert client.patch(detail(ACTION_ITEMS, item.pk), {"title": "x"}).status_code == 403
    assert client.post(
        detail(ACTION_ITEMS, item.pk, "status/"), {"status": "done"}
    ).status_code == (403)


@pytest.mark.parametrize("user", EDITORS)
def test_editors_change_an_item(api_as, draft, outsider, user):
    item = ActionItemFactory(postmortem=draft, owner=outsider)
    response = api_as(user).patch(detail(ACTION_ITEMS, item.pk), {"priority": "P3"})
    assert (response.status_code, response.json()["priority"]) == (200, "P3")


def test_an_item_stays_with_its_postmortem(api_as, draft, owner):
    item = ActionItemFactory(postmortem=draft, owner=owner)
    other = PostMortemFactory()
    response = api_as("sre_lead").patch(detail(ACTION_ITEMS, item.pk), {"postmortem": other.pk})
    assert response.status_code == 400


def test_items_are_not_deleted(api_as, draft, owner):
    item = ActionItemFactory(postmortem=draft, owner=owner)
    assert api_as("sre_lead").delete(detail(ACTION_ITEMS, item.pk)).status_code == 405


@pytest.fixture
def assorted_items(draft, owner, outsider):
    yesterday = NOW.date() - dt.timedelta(days=1)
    return {
        "late": ActionItemFactory(postmortem=draft, owner=owner, due_date=yesterday),
        "late_but_done": ActionItemFactory(
            postmortem=draft, owner=owner, due_date=yesterday, status=ActionItemStatus.DONE
        ),
        "upcoming": ActionItemFactory(
            postmortem=draft, owner=outsider, kind="detect", priority="P1"
        ),
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"overdue": "true"}, ["late"]),
        ({"overdue": "false"}, ["late_but_done", "upcoming"]),
        ({"owner": "oscar"}, ["upcoming"]),
        ({"status": "done"}, ["late_but_done"]),
        ({"kind": "detect"}, ["upcoming"]),
        ({"priority": "P1"}, ["upcoming"]),
        ({"status": ["open", "in_progress"], "owner": "olivia"}, ["late"]),
    ],
)
def test_action_items_filter(api_as, assorted_items, query, expected):
    rows = api_as("viewer").get(ACTION_ITEMS, query).json()["results"]
    names = {item.pk: name for name, item in assorted_items.items()}
    assert sorted(names[row["id"]] for row in rows) == expected


def test_overdue_is_a_field_of_every_item(api_as, assorted_items):
    rows = api_as("viewer").get(ACTION_ITEMS).json()["results"]
    overdue = {row["id"]: row["overdue"] for row in rows}
    assert overdue == {
        assorted_items["late"].pk: True,
        assorted_items["late_but_done"].pk: False,
        assorted_items["upcoming"].pk: False,
    }


def test_a_bad_filter_value_is_a_400_not_a_500(api_as, db):
    assert api_as("viewer").get(ACTION_ITEMS, {"status": "someday"}).status_code == 400


@pytest.mark.parametrize("count", [1, 20])
def test_the_action_item_list_takes_the_same_queries_for_any_size(
    api_as, django_assert_max_num_queries, count
):
    for _ in range(count):
        ActionItemFactory()
    client = api_as("viewer")
    with django_assert_max_num_queries(6):
        response = client.get(ACTION_ITEMS)
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("due_date", "message"),
    [
        ("9999-12-31", "The due date must be by 2029-11-20 at the latest (3 years)."),
        ("0001-01-01", "The due date cannot be before the incident started (2026-11-20)."),
    ],
)
def test_an_implausible_due_date_is_a_400_naming_it(api_as, draft, due_date, message):
    response = api_as("owner").post(ACTION_ITEMS, item_payload(draft, due_date=due_date))
    assert response.status_code == 400
    assert response.json() == {"due_date": [message]}
    assert not ActionItem.objects.exists()


def test_a_section_over_its_maximum_is_a_400(api_as, draft):
    response = api_as("owner").patch(detail(POSTMORTEMS, draft.pk), {"root_cause": "x" * 50_001})
    assert response.status_code == 400
    assert list(response.json()) == ["root_cause"]


def test_the_author_may_not_publish_and_is_told_why(api_as, draft, reviewer):
    client = api_as("teammate")
    client.patch(detail(POSTMORTEMS, draft.pk), {"reviewers": ["rita"]})
    client.post(detail(POSTMORTEMS, draft.pk, "submit/"))
    refused = client.post(detail(POSTMORTEMS, draft.pk, "publish/"))
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "You started this post-mortem: a reviewer who did not write it publishes it."
    }


def test_a_reviewer_who_edited_it_may_not_publish_and_is_told_why(api_as, draft):
    """Olivia, an engineer of the incident's team, reviews it and also edits it: publishing
    is then for another reviewer or an SRE lead."""
    author, olivia = api_as("teammate"), api_as("owner")
    author.patch(detail(POSTMORTEMS, draft.pk), {"reviewers": ["olivia"]})
    assert (
        olivia.patch(detail(POSTMORTEMS, draft.pk), {"lessons": "Alert sooner."}).status_code == 200
    )
    author.post(detail(POSTMORTEMS, draft.pk, "submit/"))

    refused = olivia.post(detail(POSTMORTEMS, draft.pk, "publish/"))

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("You edited this post-mortem")
    assert api_as("sre_lead").post(detail(POSTMORTEMS, draft.pk, "publish/")).status_code == 200
    body = api_as("viewer").get(detail(POSTMORTEMS, draft.pk)).json()
    assert (body["status"], body["contributors"]) == ("published", ["olivia", "tom"])
