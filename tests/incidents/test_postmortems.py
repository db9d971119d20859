"""Post-mortem rules: due dates in working days, the first draft from the incident, the
draft → in review → published workflow, the closing rule, who may do what, and the error
budget an incident spent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from incidents import postmortems
from incidents.actions.incidents import (
    incident_change_status,
    incident_declare,
)
from incidents.actions.postmortems import (
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_start,
    postmortem_submit_for_review,
    postmortem_update,
)
from incidents.choices import IncidentStatus, PostMortemStatus, Severity
from incidents.models.incidents import Incident
from incidents.models.postmortems import PostMortem
from incidents.selectors import postmortems as postmortem_selectors
from services.models.slos import MaintenanceWindow, SLIBucket
from tests.factories import ServiceFactory
from tests.incidents.factories import PostMortemFactory, TimelineEntryFactory
from tests.services.slo_data import make_slo

pytestmark = pytest.mark.django_db

# A Friday.
FRIDAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def at(minutes):
    return FRIDAY + dt.timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(FRIDAY, tick=False)
    return time_machine


@pytest.fixture
def incident(service, teammate):
    """A SEV2 on the payments API, commanded by the teammate, from 09:00 to 10:00 (now)."""
    incident = incident_declare(
        title="Checkout fails",
        severity=Severity.SEV2,
        services=[service],
        declared_by=teammate,
        commander=teammate,
        started_at=at(-60),
        detected_at=at(-55),
        summary="Card payments failed for an hour.",
        impact="Customers could not pay by card.",
        users_affected=1200,
    )
    return incident


def resolve(incident, by):
    return incident_change_status(incident=incident, status="resolved", by=by)


@pytest.fixture
def resolved(incident, teammate):
    return resolve(incident, teammate)


@pytest.fixture
def draft(resolved, teammate):
    return postmortem_start(incident=resolved, by=teammate)


@pytest.fixture
def in_review(draft, teammate, reviewer):
    postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer])
    return postmortem_submit_for_review(postmortem=draft, by=teammate)


# --- due dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resolved_at, days, due",
    [
        # Friday + 5 working days skips the weekend: the next Friday.
        (dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC), 5, dt.datetime(2026, 11, 27, 10, 0)),
        # Saturday and Sunday count from Monday: the Friday after.
        (dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC), 5, dt.datetime(2026, 11, 27, 15, 0)),
        (dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC), 5, dt.datetime(2026, 11, 27, 8, 0)),
        # Wednesday + 5 crosses one weekend: the next Wednesday.
        (dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC), 5, dt.datetime(2026, 11, 25, 9, 30)),
        # Friday + 1 is Monday.
        (dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC), 1, dt.datetime(2026, 11, 23, 18, 0)),
    ],
)
def test_working_days_skip_weekends(resolved_at, days, due):
    assert postmortems.add_working_days(resolved_at, days) == due.replace(tzinfo=dt.UTC)


def test_a_postmortem_resolved_on_friday_is_due_the_next_friday(resolved, teammate):
    postmortem = postmortem_start(incident=resolved, by=teammate)
    assert postmortem.due_at == dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def test_the_number_of_working_days_comes_from_the_settings(resolved, teammate, settings):
    settings.POSTMORTEM_DUE_WORKING_DAYS = 2
    postmortem = postmortem_start(incident=resolved, by=teammate)
    assert postmortem.due_at == dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def test_a_postmortem_past_its_due_date_is_overdue_until_published(draft, frozen_time):
    frozen_time.move_to(dt.datetime(2026, 11, 27, 10, 1, tzinfo=dt.UTC), tick=False)
    assert draft.is_overdue


def test_a_postmortem_a_sev3_did_not_need_has_no_due_date(service, teammate):
    incident = incident_declare(
        title="Slow search", severity=Severity.SEV3, services=[service], declared_by=teammate
    )
    resolve(incident, teammate)
    postmortem = postmortem_start(incident=incident, by=teammate)
    assert (postmortem.due_at, postmortem.is_overdue) == (None, False)


# --- starting one --------------------------------------------------------------------------


def test_a_new_postmortem_is_a_draft_by_its_starter_with_the_incident_summary(draft, teammate):
    assert (draft.status, draft.author, draft.summary) == (
        PostMortemStatus.DRAFT,
        teammate,
        "Card payments failed for an hour.",
    )


def test_a_new_postmortem_states_the_impact_and_the_response_durations(draft):
    assert "Customers could not pay by card." in draft.impact
    assert "Users affected: 1,200." in draft.impact
    assert "Affected services: Payments API." in draft.impact
    assert "- Time to detect: 5 min" in draft.impact
    assert "- Time to acknowledge: 1 h 0 min" in draft.impact
    assert "- Time to resolve: 1 h 0 min" in draft.impact


def test_a_new_postmortem_timeline_holds_only_the_key_events_in_time_order(incident, teammate):
    TimelineEntryFactory(incident=incident, at=at(-20), text="Rolled back 4.2", pinned=True)
    TimelineEntryFactory(incident=incident, at=at(-50), text="Paged the DBA", pinned=True)
    TimelineEntryFactory(incident=incident, at=at(-40), text="Coffee break", pinned=False)
    resolve(incident, teammate)
    postmortem = postmortem_start(incident=incident, by=teammate)
    assert postmortem.timeline.splitlines() == [
        "- 2026-11-20 09:00 UTC: user impact started",
        "- 2026-11-20 09:10 UTC: Paged the DBA",
        "- 2026-11-20 09:40 UTC: Rolled back 4.2",
        "- 2026-11-20 10:00 UTC: resolved",
    ]


def test_a_postmortem_waits_for_the_incident_to_be_resolved(incident, teammate):
    with pytest.raises(ValidationError, match="once the incident is resolved"):
        postmortem_start(incident=incident, by=teammate)
    assert not PostMortem.objects.exists()


def test_an_incident_has_one_postmortem(draft, teammate):
    with pytest.raises(ValidationError, match="already has a post-mortem"):
        postmortem_start(incident=draft.incident, by=teammate)
    assert PostMortem.objects.count() == 1


# --- the workflow ----------------------------------------------------------------------------


def test_a_draft_without_reviewers_cannot_go_to_review(draft, teammate):
    with pytest.raises(ValidationError) as refused:
        postmortem_submit_for_review(postmortem=draft, by=teammate)
    assert refused.value.message_dict == {"reviewers": ["Name at least one reviewer first."]}
    draft.refresh_from_db()
    assert draft.status == PostMortemStatus.DRAFT


def test_a_draft_with_a_reviewer_goes_to_review(in_review):
    assert in_review.status == PostMortemStatus.IN_REVIEW


def test_a_draft_cannot_be_published_without_review(draft, sre_lead):
    with pytest.raises(ValidationError, match="draft cannot become published"):
        postmortem_publish(postmortem=draft, by=sre_lead)


def test_publishing_stamps_the_time_and_notes_it_on_the_timeline(in_review, reviewer):
    published = postmortem_publish(postmortem=in_review, by=reviewer)
    assert (published.status, published.published_at) == (PostMortemStatus.PUBLISHED, FRIDAY)
    texts = list(in_review.incident.timeline_entries.values_list("text", flat=True))
    assert "Post-mortem published by Rita Reviewer." in texts


def test_a_postmortem_in_review_goes_back_to_draft(in_review, reviewer):
    returned = postmortem_return_to_draft(postmortem=in_review, by=reviewer)
    assert returned.status == PostMortemStatus.DRAFT


def test_a_published_postmortem_is_final(in_review, reviewer):
    postmortem_publish(postmortem=in_review, by=reviewer)
    with pytest.raises(ValidationError, match="published cannot become draft"):
        postmortem_return_to_draft(postmortem=in_review, by=reviewer)
    with pytest.raises(ValidationError, match="its record is final"):
        postmortem_update(postmortem=in_review, by=in_review.author, summary="Rewritten history")
    in_review.refresh_from_db()
    assert in_review.summary == "Card payments failed for an hour."


def test_updating_changes_sections_and_reviewers(draft, reviewer):
    postmortem_update(
        postmortem=draft, by=draft.author, root_cause="A bad index.", reviewers=[reviewer]
    )
    draft.refresh_from_db()
    assert (draft.root_cause, list(draft.reviewers.all())) == ("A bad index.", [reviewer])


def test_the_author_cannot_review_their_own_postmortem(draft, teammate, reviewer):
    with pytest.raises(ValidationError) as refused:
        postmortem_update(postmortem=draft, by=draft.author, reviewers=[reviewer, teammate])
    assert refused.value.message_dict == {
        "reviewers": ["Tom Teammate wrote this post-mortem and cannot review it."]
    }
    assert not draft.reviewers.exists()


def test_whoever_changes_a_section_is_a_writer_and_cannot_review(draft, owner, reviewer):
    postmortem_update(postmortem=draft, by=owner, root_cause="A bad index.")
    assert set(draft.contributors.all()) == {draft.author, owner}
    with pytest.raises(ValidationError, match="Olivia Owner wrote this post-mortem"):
        postmortem_update(postmortem=draft, by=draft.author, reviewers=[owner])


def test_saving_unchanged_sections_does_not_make_a_writer(draft, owner):
    postmortem_update(postmortem=draft, by=owner, summary=draft.summary)
    assert list(draft.contributors.all()) == [draft.author]


def test_viewers_cannot_review(draft, viewer):
    with pytest.raises(ValidationError, match="reviewers are engineers or SRE leads"):
        postmortem_update(postmortem=draft, by=draft.author, reviewers=[viewer])


def test_the_author_cannot_publish_even_as_an_sre_lead(service, sre_lead, reviewer):
    """Review is independent for SRE leads too: one who started the post-mortem leaves
    publishing to its reviewer."""
    incident = incident_declare(
        title="Gateway errors", severity=Severity.SEV2, services=[service], declared_by=sre_lead
    )
    resolve(incident, sre_lead)
    postmortem = postmortem_start(incident=incident, by=sre_lead)
    postmortem_update(postmortem=postmortem, by=sre_lead, reviewers=[reviewer])
    postmortem_submit_for_review(postmortem=postmortem, by=sre_lead)

    assert postmortems.publish_refusal(sre_lead, postmortem) == (
        "You started this post-mortem: a reviewer who did not write it publishes it."
    )
    with pytest.raises(ValidationError, match="You started this post-mortem"):
        postmortem_publish(postmortem=postmortem, by=sre_lead)
    postmortem_publish(postmortem=postmortem, by=reviewer)


def test_a_reviewer_who_edited_it_leaves_publishing_to_another(in_review, reviewer, sre_lead):
    postmortem_return_to_draft(postmortem=in_review, by=reviewer)
    postmortem_update(postmortem=in_review, by=reviewer, lessons="Alert on card declines.")
    postmortem_submit_for_review(postmortem=in_review, by=in_review.author)

    assert not postmortems.can_publish(reviewer, in_review)
    assert postmortems.publish_refusal(reviewer, in_review) == (
        "You edited this post-mortem: a reviewer who did not write it publishes it."
    )
    with pytest.raises(ValidationError, match="You edited this post-mortem"):
        postmortem_publish(postmortem=in_review, by=reviewer)
    assert postmortems.can_publish(sre_lead, in_review)
    postmortem_publish(postmortem=in_review, by=sre_lead)


def test_updating_refuses_fields_that_move_through_the_workflow(draft):
    with pytest.raises(TypeError, match="status"):
        postmortem_update(postmortem=draft, by=draft.author, status=PostMortemStatus.PUBLISHED)


# --- the closing rule ------------------------------------------------------------------------


def test_a_sev2_incident_closes_once_its_postmortem_is_published(in_review, reviewer, teammate):
    incident = in_review.incident
    with pytest.raises(ValidationError, match="closes only once its post-mortem is published"):
        incident_change_status(incident=incident, status="closed", by=teammate)
    postmortem_publish(postmortem=in_review, by=reviewer)
    incident.refresh_from_db()
    incident_change_status(incident=incident, status="closed", by=teammate)
    assert incident.status == IncidentStatus.CLOSED


# --- who may do what ------------------------------------------------------------------------


@pytest.fixture
def people(owner, teammate, outsider, viewer, sre_lead, reviewer):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
        "reviewer": reviewer,
    }


@pytest.mark.parametrize(
    "person, may",
    [
        ("owner", True),  # engineer of the affected service's team
        ("teammate", True),  # commander and author
        ("sre_lead", True),
        ("outsider", False),
        ("viewer", False),
        ("reviewer", False),
    ],
)
def test_the_incident_team_commander_author_and_sre_leads_edit_a_draft(draft, people, person, may):
    assert postmortems.can_edit_postmortem(people[person], draft) is may


def test_a_commander_from_another_team_edits_the_postmortem(draft, outsider, sre_lead):
    # Made commander by an SRE lead, who may act in every incident; an engineer of another
    # team cannot be given the role (test_actions).
    Incident.objects.filter(pk=draft.incident.pk).update(commander=outsider)
    draft.incident.refresh_from_db()
    assert postmortems.can_edit_postmortem(outsider, draft)


def test_the_author_edits_even_outside_the_incident_teams(service, outsider):
    postmortem = PostMortemFactory(author=outsider)
    postmortem.incident.services.set([service])
    assert postmortems.can_edit_postmortem(outsider, postmortem)


@pytest.mark.parametrize(
    "person, may",
    [
        ("reviewer", True),
        ("sre_lead", True),
        ("teammate", False),  # the author, not a reviewer
        ("owner", False),
        ("outsider", False),
        ("viewer", False),
    ],
)
def test_a_reviewer_or_an_sre_lead_publishes(in_review, people, person, may):
    assert postmortems.can_publish(people[person], in_review) is may


def test_nobody_edits_a_published_postmortem(in_review, reviewer, people):
    postmortem_publish(postmortem=in_review, by=reviewer)
    assert not any(postmortems.can_edit_postmortem(person, in_review) for person in people.values())


# --- error-budget impact ---------------------------------------------------------------------


def bucket(slo, moment, good, total):
    return SLIBucket.objects.create(slo=slo, start=moment, good=good, total=total)


def test_budget_impact_is_the_incidents_bad_events_over_the_windows_allowed_bad(draft, service):
    availability = make_slo(service, 1, objective=Decimal("99"))
    # Before the incident, inside the 30-day window: 9,000 events, all good.
    bucket(availability, at(-10 * 24 * 60), good=9000, total=9000)
    # The incident hour 09:00-10:00: 12 buckets of 50 events, 25 bad each = 300 bad of 600.
    for minutes in range(-60, 0, 5):
        bucket(availability, at(minutes), good=25, total=50)
    # Outside both: 40 days ago, and the bucket starting at the resolution.
    bucket(availability, at(-40 * 24 * 60), good=0, total=1_000_000)
    bucket(availability, at(0), good=0, total=100)
    # Window total 9,600 events at 99 % allows 96 bad: the incident spent 300 / 96.
    [impact] = postmortem_selectors.postmortem_budget_impact(draft)
    assert (impact.slo, impact.bad_events, impact.has_data) == (availability, 300, True)
    assert impact.allowed_bad == pytest.approx(96)
    assert impact.consumed == pytest.approx(3.125)


def test_buckets_in_maintenance_windows_are_left_out(draft, service):
    availability = make_slo(service, 1, objective=Decimal("99"))
    bucket(availability, at(-10 * 24 * 60), good=9000, total=9000)
    for minutes in range(-60, 0, 5):
        bucket(availability, at(minutes), good=25, total=50)
    # Planned work from 08:58 to 09:30 covers the incident's first six buckets.
    MaintenanceWindow.objects.create(
        slo=availability, start=at(-62), end=at(-30), reason="Database upgrade"
    )
    [impact] = postmortem_selectors.postmortem_budget_impact(draft)
    # 150 bad events left; the window holds 9,300 events, so 93 bad are allowed.
    assert (impact.bad_events, impact.allowed_bad) == (150, pytest.approx(93))
    assert impact.consumed == pytest.approx(150 / 93)


def test_an_slo_without_data_during_the_incident_says_so(draft, service):
    latency = make_slo(service, 2)
    bucket(latency, at(-5 * 24 * 60), good=100, total=100)
    [impact] = postmortem_selectors.postmortem_budget_impact(draft)
    assert (impact.has_data, impact.consumed) == (False, None)


def test_budget_impact_covers_every_affected_services_slos_only(draft, service, search_team):
    other_service = ServiceFactory(owner_team=search_team)
    draft.incident.services.add(ServiceFactory(owner_team=search_team, name="Aaa ledger"))
    make_slo(other_service, 3)
    mine = make_slo(service, 1)
    impacts = postmortem_selectors.postmortem_budget_impact(
        postmortem_selectors.postmortem_detail().get(pk=draft.pk)
    )
    assert [impact.slo for impact in impacts] == [mine]


def test_budget_impact_takes_three_queries(draft, service, django_assert_num_queries):
    for number in range(3):
        slo = make_slo(service, number)
        MaintenanceWindow.objects.create(slo=slo, start=at(-30), end=at(-20), reason="Upgrade")
    postmortem = postmortem_selectors.postmortem_detail().get(pk=draft.pk)
    with django_assert_num_queries(3):
        assert len(postmortem_selectors.postmortem_budget_impact(postmortem)) == 3
