"""The readiness records in the digest: reviews awaiting their reviewer, waivers of approvals
and scorecard exemptions expiring within the notice period, to the people who must act."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group

from portal.reminders.providers import (
    PROVIDERS,
    DigestContext,
    readiness_reviews_awaiting_review,
    readiness_waivers_expiring,
    scorecard_exemptions_expiring,
)
from services.actions import readiness as readiness_actions
from services.actions import scorecards as scorecard_actions
from services.readiness import PRR_REVIEWERS_GROUP
from services.selectors import scorecards as scorecard_selectors
from tests.factories import UserFactory
from tests.reminders.conftest import MORNING, TODAY
from tests.services.readiness_data import answer_everything, approved_review

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def reviewer(db):
    user = UserFactory(username="rita", first_name="Rita", last_name="Reviewer")
    Group.objects.get_or_create(name=PRR_REVIEWERS_GROUP)[0].user_set.add(user)
    return user


def context(team_people=None) -> DigestContext:
    return DigestContext(today=TODAY, now=MORNING, people={}, team_people=team_people or {})


def test_the_digest_lists_each_readiness_kind_under_its_own_heading():
    kinds = {provider.kind: provider.label for provider in PROVIDERS}
    assert kinds["readiness_review"] == "Readiness reviews awaiting you"
    assert kinds["waiver"] == "Readiness waivers expiring"
    assert kinds["exemption"] == "Scorecard exemptions expiring"


def test_a_review_in_review_goes_to_its_reviewer_until_decided(service, owner, reviewer):
    review = readiness_actions.review_request(service=service, by=owner)
    assert list(readiness_reviews_awaiting_review(context())) == []  # a draft waits for no one

    answer_everything(review, owner)
    readiness_actions.review_submit(review=review, by=owner, reviewer=reviewer)
    [listed] = readiness_reviews_awaiting_review(context())
    assert listed.recipient_ids == (reviewer.pk,)
    assert listed.title == f"Readiness review of {service.name}"
    assert listed.url == review.get_absolute_url()
    assert listed.team_id == service.owner_team_id
    assert listed.due is None and listed.who == "Rita Reviewer"

    readiness_actions.review_request_changes(review=review, by=reviewer, comment="Runbook?")
    assert list(readiness_reviews_awaiting_review(context())) == []


def test_a_waiver_expiring_within_two_weeks_goes_to_its_owner_and_the_team(
    service, owner, teammate, reviewer
):
    review = approved_review(
        service, engineer=owner, reviewer=reviewer, waive_until=TODAY + dt.timedelta(days=10)
    )
    waivers = {item.waiver for item in review.items.all() if hasattr(item, "waiver")}
    assert waivers, "the approval needs a waiver for this test"
    team = {service.owner_team_id: {teammate.pk}}

    listed = list(readiness_waivers_expiring(context(team)))
    assert len(listed) == len(waivers)
    first = listed[0]
    assert first.due == TODAY + dt.timedelta(days=10)
    assert set(first.recipient_ids) == {owner.pk, teammate.pk}
    assert first.url == review.get_absolute_url()
    assert first.title.startswith("Waiver of “") and first.title.endswith(f" on {service.name}")

    # Within the notice period only: not 14 days ahead, and no longer once expired.
    def on(day):
        return DigestContext(today=day, now=MORNING, people={}, team_people=team)

    expiry = TODAY + dt.timedelta(days=10)
    assert len(list(readiness_waivers_expiring(on(expiry - dt.timedelta(days=13))))) == len(waivers)
    assert list(readiness_waivers_expiring(on(expiry - dt.timedelta(days=14)))) == []
    assert list(readiness_waivers_expiring(on(expiry + dt.timedelta(days=1)))) == []


def test_an_approved_exemption_expiring_soon_goes_to_the_team_and_its_requester(
    service, owner, teammate, sre_lead
):
    scorecard = scorecard_selectors.current_scorecard(scorecard_selectors.DEFAULT_SCORECARD)
    rule = scorecard.rules.first()
    soon = scorecard_actions.exemption_request(
        service=service,
        scorecard_key=scorecard.key,
        check_name=rule.check_name,
        reason="Migrating",
        expires_on=TODAY + dt.timedelta(days=3),
        by=owner,
    )
    scorecard_actions.exemption_approve(exemption=soon, by=sre_lead)
    team = {service.owner_team_id: {teammate.pk}}

    [listed] = scorecard_exemptions_expiring(context(team))
    assert set(listed.recipient_ids) == {owner.pk, teammate.pk}
    assert listed.due == TODAY + dt.timedelta(days=3)
    assert listed.title == f"Exemption of {service.name} from “{rule.check_name}”"
    assert listed.url == f"/services/{service.slug}/"

    # One still pending is not in force: nothing to renew yet.
    other = scorecard.rules.exclude(pk=rule.pk).first()
    scorecard_actions.exemption_request(
        service=service,
        scorecard_key=scorecard.key,
        check_name=other.check_name,
        reason="Later",
        expires_on=TODAY + dt.timedelta(days=2),
        by=owner,
    )
    assert len(list(scorecard_exemptions_expiring(context(team)))) == 1
