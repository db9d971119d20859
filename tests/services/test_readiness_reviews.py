"""Production-readiness reviews: the workflow, who may take each step (anonymous, outsider,
owner-team engineer, reviewer, SRE lead) in the UI and the API, criteria answered, judged and
waived, approval validity and waiver expiry, the history, and the pages' query counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from portal.roles import grant_sre_lead
from services.actions import readiness as readiness_actions
from services.actions.scorecards import checks_recompute
from services.choices import CriterionStatus, ReadinessState, ReviewStatus, Verdict
from services.models.readiness import ReadinessReview, ReviewEntry, ReviewItem, Waiver
from services.readiness import PRR_REVIEWERS_GROUP
from services.selectors import readiness as readiness_selectors
from tests.factories import MembershipFactory, ServiceFactory, UserFactory
from tests.services.readiness_data import (
    answer_everything,
    approved_review,
    complete_service,
    query_count,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reviewer(db):
    """A PRR reviewer from no team."""
    user = UserFactory(username="rita", first_name="Rita", last_name="Reviewer")
    Group.objects.get_or_create(name=PRR_REVIEWERS_GROUP)[0].user_set.add(user)
    return user


@pytest.fixture
def users(owner, teammate, outsider, viewer, sre_lead, reviewer):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
        "reviewer": reviewer,
    }


@pytest.fixture
def review(service, owner):
    return readiness_actions.review_request(service=service, by=owner)


@pytest.fixture
def in_review(review, owner, reviewer):
    answer_everything(review, owner)
    return readiness_actions.review_submit(review=review, by=owner, reviewer=reviewer)


def review_url(review, name="readiness_review_detail", *args):
    return reverse(name, args=[review.service.slug, review.pk, *args])


def item_of(review, key) -> ReviewItem:
    return review.items.select_related("criterion").get(criterion__key=key)


def readiness_of(service):
    return readiness_selectors.readiness_of([service], datetime.now(UTC))[service.pk]


# --- requesting a review ------------------------------------------------------------------------


def test_a_review_holds_the_criteria_of_the_services_tier_with_the_automatic_ones_checked(
    service, owner
):
    review = readiness_actions.review_request(service=service, by=owner)

    keys = set(review.items.values_list("criterion__key", flat=True))
    assert "distributed-tracing" not in keys  # tier 1 only; the service is tier 2
    assert {"backups", "slo-defined", "tls-everywhere"} <= keys
    slo = item_of(review, "slo-defined")
    assert (slo.status, slo.check_reason) == (CriterionStatus.NOT_MET, "No SLO is defined.")
    assert slo.check_url == reverse("slo_add", args=[service.slug])
    assert item_of(review, "tls-everywhere").status == CriterionStatus.PENDING
    assert review.entries.get().text.startswith("Review requested by Olivia Owner")


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("owner", True),
        ("teammate", True),
        ("sre_lead", True),
        ("outsider", False),
        ("viewer", False),
        ("reviewer", False),
    ],
)
def test_the_owner_teams_engineers_and_sre_leads_request_a_review(
    client_for, users, service, who, allowed
):
    response = client_for(users[who]).post(reverse("readiness_review_request", args=[service.slug]))

    assert response.status_code == (302 if allowed else 403)
    assert ReadinessReview.objects.filter(service=service).exists() == allowed


def test_a_second_review_waits_for_the_first_to_end(client_for, owner, review):
    response = client_for(owner).post(
        reverse("readiness_review_request", args=[review.service.slug]), follow=True
    )

    assertContains(response, "This service already has a review in progress.")
    assert ReadinessReview.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_answers_401(client, review):
    response = client.get(review_url(review))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(f"/api/readiness-reviews/{review.pk}/").status_code == 401


# --- answering, submitting ------------------------------------------------------------------------


def test_an_attested_criterion_is_met_only_with_evidence(owner, review):
    item = item_of(review, "tls-everywhere")

    with pytest.raises(ValidationError, match="evidence link or a note"):
        readiness_actions.review_item_answer(item=item, status=CriterionStatus.MET, by=owner)
    readiness_actions.review_item_answer(
        item=item, status=CriterionStatus.MET, note="TLS 1.3 at the edge and inside.", by=owner
    )

    item.refresh_from_db()
    assert (item.status, item.answered_by, item.verdict) == (
        CriterionStatus.MET,
        owner,
        Verdict.PENDING,
    )


def test_the_portal_alone_says_whether_an_automatic_criterion_is_met(owner, review):
    item = item_of(review, "slo-defined")

    with pytest.raises(ValidationError, match="only “not applicable” can be answered"):
        readiness_actions.review_item_answer(item=item, status=CriterionStatus.MET, by=owner)
    with pytest.raises(ValidationError, match="Say why this criterion does not apply"):
        readiness_actions.review_item_answer(
            item=item, status=CriterionStatus.NOT_APPLICABLE, by=owner
        )
    readiness_actions.review_item_answer(
        item=item, status=CriterionStatus.NOT_APPLICABLE, note="A batch job.", by=owner
    )
    readiness_actions.review_item_answer(item=item, status=CriterionStatus.PENDING, by=owner)

    item.refresh_from_db()
    assert item.status == CriterionStatus.NOT_MET  # its check decides again


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("owner", True),
        ("teammate", True),
        ("sre_lead", True),
        ("outsider", False),
        ("viewer", False),
        ("reviewer", False),
    ],
)
def test_the_owner_team_and_sre_leads_answer_criteria_in_place(
    client_for, users, review, who, allowed
):
    item = item_of(review, "tls-everywhere")
    url = review_url(review, "readiness_review_item", item.pk)
    client = client_for(users[who])

    form = client.get(url, {"step": "answer"}, headers={"HX-Request": "true"})
    response = client.post(
        url,
        {"step": "answer", "status": "met", "evidence_url": "https://wiki.example.test/tls"},
        headers={"HX-Request": "true"},
    )

    assert (form.status_code, response.status_code) == ((200, 200) if allowed else (403, 403))
    item.refresh_from_db()
    assert (item.status == CriterionStatus.MET) == allowed
    if allowed:
        assertContains(form, 'name="evidence_url"')
        assertContains(response, 'id="criterion-')  # the fresh row, without its form
        assertContains(response, "https://wiki.example.test/tls")


def test_a_refused_answer_comes_back_in_place_with_its_error(client_for, owner, review):
    item = item_of(review, "tls-everywhere")

    response = client_for(owner).post(
        review_url(review, "readiness_review_item", item.pk),
        {"step": "answer", "status": "met"},
        headers={"HX-Request": "true"},
    )

    assertContains(response, "Give an evidence link or a note showing how it is met.")
    assertContains(response, 'name="evidence_url"')


def test_without_javascript_an_answer_is_a_page_of_its_own_then_back_to_the_review(
    client_for, owner, review
):
    item = item_of(review, "tls-everywhere")
    url = review_url(review, "readiness_review_item", item.pk)
    client = client_for(owner)

    assertContains(client.get(url, {"step": "answer"}), f"<h1>{item.criterion.title}</h1>")
    response = client.post(url, {"step": "answer", "status": "not_applicable", "note": "Internal."})

    assert response.status_code == 302
    assert response["Location"] == review_url(review)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("sre_lead", True), ("outsider", False), ("reviewer", False)],
)
def test_the_owner_team_and_sre_leads_submit_a_review(
    client_for, users, review, reviewer, who, allowed
):
    response = client_for(users[who]).post(
        review_url(review, "readiness_review_submit"), {"reviewer": reviewer.pk}
    )

    assert response.status_code == (302 if allowed else 403)
    review.refresh_from_db()
    assert (review.status == ReviewStatus.IN_REVIEW) == allowed


def test_a_reviewer_comes_from_outside_the_team_and_is_an_sre_lead_or_prr_reviewer(
    owner, teammate, outsider, review, payments
):
    lead_in_team = UserFactory(username="lee")
    MembershipFactory(user=lead_in_team, team=payments)
    grant_sre_lead(lead_in_team)

    for candidate, message in (
        (teammate, "is an SRE lead or a member of the “PRR reviewers” group"),
        (outsider, "is an SRE lead or a member of the “PRR reviewers” group"),
        (lead_in_team, "never a member of the service's own team"),
    ):
        with pytest.raises(ValidationError, match=message):
            readiness_actions.review_submit(review=review, by=owner, reviewer=candidate)
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT


def test_the_submit_form_offers_only_eligible_reviewers(
    client_for, owner, review, reviewer, sre_lead
):
    response = client_for(owner).get(review_url(review))

    assertContains(response, f'<option value="{reviewer.pk}">Rita Reviewer</option>', html=True)
    assertContains(response, f'<option value="{sre_lead.pk}">Sasha Lead</option>', html=True)
    assertNotContains(response, f'<option value="{owner.pk}">')


# --- judging, waiving, approving ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("reviewer", True), ("sre_lead", False), ("owner", False), ("outsider", False)],
)
def test_only_the_assigned_reviewer_judges_and_approves(client_for, users, in_review, who, allowed):
    item = item_of(in_review, "tls-everywhere")
    client = client_for(users[who])

    judged = client.post(
        review_url(in_review, "readiness_review_item", item.pk),
        {"step": "judge", "verdict": "accepted"},
        headers={"HX-Request": "true"},
    )
    approved = client.post(review_url(in_review, "readiness_review_approve"), {})

    assert judged.status_code == (200 if allowed else 403)
    assert approved.status_code == (400 if allowed else 403)  # required criteria still open


def test_an_approval_waits_for_every_required_criterion(reviewer, in_review):
    with pytest.raises(ValidationError, match=r"Required criteria are not done yet: .*and .* more"):
        readiness_actions.review_approve(review=in_review, by=reviewer)

    in_review.refresh_from_db()
    assert in_review.status == ReviewStatus.IN_REVIEW


def test_a_rejection_says_what_is_missing(reviewer, in_review):
    item = item_of(in_review, "backups")

    with pytest.raises(ValidationError, match="Say what is missing"):
        readiness_actions.review_item_judge(item=item, verdict=Verdict.REJECTED, by=reviewer)
    readiness_actions.review_item_judge(
        item=item, verdict=Verdict.REJECTED, comment="Link the restore test.", by=reviewer
    )

    item.refresh_from_db()
    assert (item.verdict, item.reviewer_comment) == (Verdict.REJECTED, "Link the restore test.")


def test_changes_requested_go_back_to_the_team_and_return_to_review(owner, reviewer, in_review):
    with pytest.raises(ValidationError, match="Say what has to change"):
        readiness_actions.review_request_changes(review=in_review, by=reviewer, comment=" ")
    readiness_actions.review_request_changes(
        review=in_review, by=reviewer, comment="Backups need a restore test."
    )
    assert in_review.status == ReviewStatus.CHANGES_REQUESTED

    readiness_actions.review_submit(review=in_review, by=owner)

    assert (in_review.status, in_review.reviewer) == (ReviewStatus.IN_REVIEW, reviewer)
    texts = list(in_review.entries.values_list("text", flat=True))
    assert "Changes requested by Rita Reviewer: Backups need a restore test." in texts


def test_a_full_approval_is_valid_for_a_year_then_the_service_shows_review_due(
    service, owner, reviewer, payments, frozen_time
):
    complete_service(service, dependency=ServiceFactory(owner_team=payments))
    review = approved_review(service, engineer=owner, reviewer=reviewer)

    assert review.status == ReviewStatus.APPROVED
    assert review.expires_at == START + timedelta(days=365)
    assert readiness_of(service).state == ReadinessState.READY
    assert not readiness_of(service).unreviewed_in_production

    frozen_time.move_to(START + timedelta(days=365, seconds=1))
    state = readiness_of(service)
    assert (state.state, state.unreviewed_in_production) == (ReadinessState.REVIEW_DUE, True)


def test_a_waived_criterion_makes_an_approval_with_waivers_until_the_waiver_expires(
    service, owner, reviewer, frozen_time
):
    review = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=date(2026, 4, 30)
    )

    assert review.status == ReviewStatus.APPROVED_WITH_WAIVERS
    assert review.waivers_expire_on == date(2026, 4, 30)
    assert readiness_of(service).state == ReadinessState.READY_WITH_WAIVERS

    frozen_time.move_to(datetime(2026, 4, 30, 23, 0, tzinfo=UTC))  # still the 30th (UTC)
    assert readiness_of(service).state == ReadinessState.READY_WITH_WAIVERS
    frozen_time.move_to(datetime(2026, 5, 1, 0, 30, tzinfo=UTC))
    state = readiness_of(service)
    assert (state.state, state.unreviewed_in_production) == (ReadinessState.WAIVER_EXPIRED, True)


def test_a_waiver_needs_a_reason_an_owner_and_a_future_expiry(reviewer, owner, in_review):
    item = item_of(in_review, "backups")

    with pytest.raises(ValidationError, match="A waiver expires after today"):
        readiness_actions.review_item_waive(
            item=item, reason="Later.", owner=owner, expires_on=date(2026, 3, 2), by=reviewer
        )
    with pytest.raises(ValidationError, match="Say why the criterion is waived"):
        readiness_actions.review_item_waive(
            item=item, reason=" ", owner=owner, expires_on=date(2026, 4, 1), by=reviewer
        )
    waiver = readiness_actions.review_item_waive(
        item=item,
        reason="Restore test booked.",
        owner=owner,
        expires_on=date(2026, 4, 1),
        by=reviewer,
    )
    assert (waiver.owner, waiver.granted_by) == (owner, reviewer)

    readiness_actions.review_item_unwaive(item=item, by=reviewer)
    item.refresh_from_db()
    assert item.status == CriterionStatus.PENDING
    assert not Waiver.objects.exists()


def test_automatic_criteria_follow_their_checks_while_open_and_are_frozen_at_approval(
    service, owner, reviewer, payments
):
    review = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=date(2026, 9, 1)
    )
    runbook = item_of(review, "runbook")
    assert runbook.status == CriterionStatus.WAIVED

    open_review = readiness_actions.review_request(service=service, by=owner)
    service.runbook_url = "https://wiki.example.test/runbook"
    service.save()
    checks_recompute(service_ids=[service.pk], now=datetime.now(UTC))

    assert item_of(open_review, "runbook").status == CriterionStatus.MET
    assert item_of(review, "runbook").status == CriterionStatus.WAIVED  # the approval's, frozen


def test_a_new_approval_supersedes_the_previous_one(service, owner, reviewer, frozen_time):
    first = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=date(2026, 9, 1)
    )
    frozen_time.move_to(START + timedelta(days=300))
    second = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=date(2027, 9, 1)
    )

    first.refresh_from_db()
    assert first.superseded_at == START + timedelta(days=300)
    assert readiness_of(service).approval == second


def test_every_step_is_in_the_reviews_history(service, owner, reviewer, in_review):
    item = item_of(in_review, "backups")
    readiness_actions.review_comment(review=in_review, by=reviewer, text="Looks *good*.")
    readiness_actions.review_item_judge(item=item, verdict=Verdict.ACCEPTED, by=reviewer)

    kinds = list(in_review.entries.values_list("kind", flat=True))
    texts = " | ".join(in_review.entries.values_list("text", flat=True))
    assert kinds.count("comment") == 1
    assert "Submitted for review by Olivia Owner; reviewer: Rita Reviewer." in texts
    assert "Rita Reviewer accepted “Backups are taken and a restore has been tested”." in texts
    assert in_review.history.count() >= 2  # django-simple-history: requested, submitted


# --- pages ---------------------------------------------------------------------------------------


def test_the_review_page_groups_criteria_by_category_with_progress(client_for, viewer, in_review):
    response = client_for(viewer).get(review_url(in_review))

    assertContains(
        response, '<h2 id="category-architecture">Architecture and dependencies</h2>', html=True
    )
    assertContains(response, "criteria done")
    assertContains(response, "is reviewing")
    assertNotContains(response, "Approve</button>")  # a viewer takes no step


def test_the_review_page_costs_the_same_queries_for_a_short_or_long_history(
    client_for, owner, reviewer, in_review, django_assert_max_num_queries
):
    client = client_for(reviewer)
    counts = []
    for comments in (1, 15):
        while in_review.entries.filter(kind="comment").count() < comments:
            readiness_actions.review_comment(review=in_review, by=owner, text="One more thing.")
        with django_assert_max_num_queries(16):
            response = client.get(review_url(in_review))
        assert response.status_code == 200
        counts.append(query_count(lambda: client.get(review_url(in_review))))
    assert counts[0] == counts[1]


def test_the_list_of_reviews_costs_the_same_queries_for_few_or_many(
    client_for, sre_lead, payments, owner, django_assert_max_num_queries
):
    client = client_for(sre_lead)
    counts = []
    for count in (2, 12):
        while ReadinessReview.objects.count() < count:
            readiness_actions.review_request(service=ServiceFactory(owner_team=payments), by=owner)
        with django_assert_max_num_queries(8):
            response = client.get(reverse("readiness_review_list"))
        assertContains(response, f"{count} reviews")
        counts.append(query_count(lambda: client.get(reverse("readiness_review_list"))))
    assert counts[0] == counts[1]


def test_the_list_filters_the_reviews_awaiting_me(client_for, reviewer, in_review, payments, owner):
    readiness_actions.review_request(
        service=ServiceFactory(owner_team=payments, name="Other"), by=owner
    )

    response = client_for(reviewer).get(reverse("readiness_review_list"), {"mine": "true"})

    assertContains(response, "1 review")
    assertContains(response, in_review.service.name)


def test_the_service_readiness_page_lists_its_reviews(client_for, viewer, in_review):
    response = client_for(viewer).get(reverse("readiness_service", args=[in_review.service.slug]))

    assertContains(response, in_review.get_absolute_url())
    assertContains(response, "Review in progress")


# --- selectors for reminders ----------------------------------------------------------------------


def test_reviews_awaiting_a_reviewer_and_waivers_expiring_soon(service, owner, reviewer, payments):
    approved = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=date(2026, 3, 10)
    )
    other = ServiceFactory(owner_team=payments)
    waiting = readiness_actions.review_request(service=other, by=owner)
    readiness_actions.review_submit(review=waiting, by=owner, reviewer=reviewer)

    assert list(readiness_selectors.reviews_awaiting_reviewer(reviewer)) == [waiting]
    assert list(readiness_selectors.reviews_awaiting_reviewer(owner)) == []
    soon = readiness_selectors.waivers_expiring(date(2026, 3, 16))
    assert {waiver.item.review for waiver in soon} == {approved}
    assert not readiness_selectors.waivers_expiring(date(2026, 3, 10)).exists()


# --- the API ------------------------------------------------------------------------------------


def test_the_api_takes_a_review_from_request_to_approval(
    api_client_for, owner, reviewer, service, payments
):
    complete_service(service, dependency=ServiceFactory(owner_team=payments))
    team = api_client_for(owner)
    created = team.post("/api/readiness-reviews/", {"service": service.slug}, format="json")
    assert created.status_code == 201, created.content
    review_id = created.json()["id"]
    items = {item["key"]: item for item in created.json()["items"]}
    assert items["tls-everywhere"]["status"] == "pending"

    for item in created.json()["items"]:
        if not item["check"]:
            answered = team.post(
                f"/api/readiness-reviews/{review_id}/items/{item['id']}/answer/",
                {"status": "met", "evidence_url": "https://wiki.example.test/x"},
                format="json",
            )
            assert answered.status_code == 200, answered.content
    submitted = team.post(
        f"/api/readiness-reviews/{review_id}/submit/", {"reviewer": "rita"}, format="json"
    )
    assert submitted.json()["status"] == "in_review"

    judge = api_client_for(reviewer)
    for item in submitted.json()["items"]:
        path = f"/api/readiness-reviews/{review_id}/items/{item['id']}"
        if not item["check"]:
            judge.post(f"{path}/judge/", {"verdict": "accepted"}, format="json")
        elif item["status"] != "met":
            judge.post(
                f"{path}/waive/",
                {"reason": "Soon.", "owner": "olivia", "expires_on": "2026-06-01"},
                format="json",
            )
    approved = judge.post(f"/api/readiness-reviews/{review_id}/approve/", {}, format="json")

    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] in {"approved", "approved_with_waivers"}
    assert body["progress"]["required_left"] == 0
    assert body["entries"][-1]["text"].startswith("Approved")


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 403), ("sre_lead", 403), ("reviewer", 400), ("viewer", 403)]
)
def test_the_api_refuses_steps_to_those_who_may_not_take_them(
    api_client_for, users, in_review, who, status
):
    response = api_client_for(users[who]).post(
        f"/api/readiness-reviews/{in_review.pk}/approve/", {}, format="json"
    )

    assert response.status_code == status


def test_the_api_names_the_field_of_a_refused_step(api_client_for, owner, review):
    response = api_client_for(owner).post(
        f"/api/readiness-reviews/{review.pk}/submit/", {"reviewer": "olivia"}, format="json"
    )

    assert response.status_code == 400
    assert "reviewer" in response.json()


def test_the_api_lists_reviews_with_the_uis_filters_in_constant_queries(
    api_client_for, viewer, owner, payments, django_assert_max_num_queries
):
    api = api_client_for(viewer)
    for count in (2, 8):
        while ReadinessReview.objects.count() < count:
            readiness_actions.review_request(service=ServiceFactory(owner_team=payments), by=owner)
        with django_assert_max_num_queries(12):
            response = api.get("/api/readiness-reviews/", {"team": "payments", "status": "draft"})
        assert response.json()["count"] == count


def test_entries_record_who_did_what(in_review):
    assert ReviewEntry.objects.filter(review=in_review, author__username="olivia").exists()
