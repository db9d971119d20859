"""Status updates: drafts written from the incident's facts, who receives them, and the task
that emails them once through a real SMTP server."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from celery.contrib.testing.worker import start_worker

from incidents.actions.incidents import status_update_queue
from incidents.choices import Severity, StatusUpdateKind, TimelineKind
from incidents.models.incidents import Incident, StatusUpdate, TimelineEntry
from incidents.status_updates import (
    IncidentFacts,
    draft_status_update,
    recipients_of,
    unfilled_prompts,
)
from incidents.tasks import send_status_update
from portal.celery import app as celery_app
from portal.notifications import RetryableNotificationError
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import IncidentFactory

STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = STARTED + timedelta(hours=1, minutes=25)


def facts(**changes):
    values = {
        "reference": "INC-2026-0007",
        "title": "Checkout payments failing",
        "severity": Severity.SEV2,
        "status": "Investigating",
        "services": ("Payments API", "Checkout"),
        "started_at": STARTED,
        "impact": "Card payments fail at checkout",
        "users_affected": 12000,
        "commander": "Olivia Owner",
        "url": "https://portal.example.test/incidents/INC-2026-0007/",
        "severity_name": "Major",
    }
    return IncidentFacts(**{**values, **changes})


# --- Drafts -------------------------------------------------------------------------------


def test_an_initial_draft_states_the_known_facts_and_when_the_next_update_comes():
    draft = draft_status_update(StatusUpdateKind.INITIAL, facts(), now=NOW)
    assert draft.subject == "[SEV2] Investigating: Checkout payments failing (INC-2026-0007)"
    assert "Severity: SEV2 (Major)" in draft.body
    assert "Affected: Payments API, Checkout" in draft.body
    assert "Started: 2026-03-02 09:00 UTC" in draft.body
    assert "Impact: Card payments fail at checkout (about 12,000 users)" in draft.body
    assert "Incident commander: Olivia Owner" in draft.body
    # SEV2: readers hear again within half an hour.
    assert "Next update by 2026-03-02 10:55 UTC" in draft.body
    assert "https://portal.example.test/incidents/INC-2026-0007/" in draft.body


def test_an_update_draft_says_how_long_it_has_been_going_on_and_asks_what_changed():
    draft = draft_status_update(StatusUpdateKind.UPDATE, facts(status="Identified"), now=NOW)
    assert draft.subject == "[SEV2] Identified: Checkout payments failing (INC-2026-0007)"
    assert draft.body.startswith("An update on the incident, 1 h 25 min since it started.")
    assert unfilled_prompts(draft.body) == [
        "What we found or did since the last update",
        "What we are doing now",
    ]


def test_a_resolution_draft_gives_the_resolution_time_and_the_total_duration():
    resolved_at = STARTED + timedelta(days=1, hours=2, minutes=5)
    draft = draft_status_update(
        StatusUpdateKind.RESOLUTION, facts(resolved_at=resolved_at), now=NOW
    )
    assert draft.subject == "[SEV2] Resolved: Checkout payments failing (INC-2026-0007)"
    assert "Resolved: 2026-03-03 11:05 UTC, after 1 d 2 h 5 min" in draft.body


def test_a_draft_asks_for_the_facts_the_incident_does_not_have_yet():
    draft = draft_status_update(
        StatusUpdateKind.INITIAL,
        facts(services=(), impact="", users_affected=None, commander=""),
        now=NOW,
    )
    assert unfilled_prompts(draft.body) == [
        "Affected services",
        "Who is affected, and how",
        "What we have seen, and what we are checking first",
        "Name",
    ]


@pytest.mark.parametrize(
    "severity, next_update", [(Severity.SEV1, "10:55"), (Severity.SEV3, "11:25")]
)
def test_worse_incidents_promise_the_next_update_sooner(severity, next_update):
    draft = draft_status_update(StatusUpdateKind.INITIAL, facts(severity=severity), now=NOW)
    assert f"Next update by 2026-03-02 {next_update} UTC" in draft.body


def test_prompts_are_found_across_lines_and_a_finished_text_has_none():
    assert unfilled_prompts("Cause: [[A short\naccount]] and [[ more ]]") == [
        "A short\naccount",
        "more",
    ]
    assert unfilled_prompts("Cause: a bad deploy, rolled back [at 10:02].") == []


# --- Recipients and sending -----------------------------------------------------------------


@pytest.fixture
def incident(payments, service):
    incident = Incident.objects.create(
        reference="INC-2026-0007",
        title="Checkout payments failing",
        severity=Severity.SEV2,
        started_at=STARTED,
        team=payments,
    )
    incident.services.set([service])
    return incident


@pytest.fixture
def status_update(incident, owner):
    return StatusUpdate.objects.create(
        incident=incident,
        kind=StatusUpdateKind.INITIAL,
        subject="[SEV2] Investigating: Checkout payments failing (INC-2026-0007)",
        body="We are on it. Q&A <soon>.",
        created_by=owner,
    )


@pytest.mark.django_db
def test_updates_go_to_the_owning_team_the_affected_services_teams_and_subscribers(incident):
    checkout_team = TeamFactory(slug="checkout", email="Checkout@Example.test")
    ServiceFactory(owner_team=checkout_team)
    incident.services.add(ServiceFactory(owner_team=checkout_team))
    incident.services.add(ServiceFactory(owner_team=TeamFactory(email="")))
    incident.subscribers.set(
        [UserFactory(email="cto@example.test"), UserFactory(email="payments@example.test")]
    )
    assert recipients_of(incident) == [
        "checkout@example.test",
        "cto@example.test",
        "payments@example.test",
    ]


@pytest.mark.django_db
def test_sending_emails_the_update_and_records_when_and_to_whom(
    smtp_sink, status_update, incident, settings
):
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    incident.subscribers.set([UserFactory(email="cto@example.test")])
    moment = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        send_status_update(status_update.id)

    [delivered] = smtp_sink.delivered
    assert delivered.recipients == ["cto@example.test", "payments@example.test"]
    assert delivered.message["Subject"] == status_update.subject
    text = delivered.body("text/plain")
    assert "We are on it. Q&A <soon>." in text
    assert "https://portal.example.test/incidents/INC-2026-0007/" in text
    html = delivered.body("text/html")
    assert "We are on it. Q&amp;A &lt;soon&gt;." in html
    assert 'href="https://portal.example.test/incidents/INC-2026-0007/"' in html

    status_update.refresh_from_db()
    assert status_update.sent_at == moment
    assert status_update.recipients == ["cto@example.test", "payments@example.test"]
    entry = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.STATUS_UPDATE)
    assert entry.author == status_update.created_by
    assert entry.text == f"Initial status update “{status_update.subject}” sent to 2 recipients."


@pytest.mark.django_db
def test_a_duplicated_or_retried_task_never_sends_twice(smtp_sink, status_update):
    send_status_update(status_update.id)
    send_status_update(status_update.id)
    assert len(smtp_sink.delivered) == 1
    assert TimelineEntry.objects.filter(kind=TimelineKind.STATUS_UPDATE).count() == 1


@pytest.mark.django_db
def test_a_deferred_send_gives_the_claim_back_and_goes_through_on_the_retry(
    smtp_sink, status_update
):
    smtp_sink.refusals["payments@example.test"] = "451 Mailbox busy, try later"
    with pytest.raises(RetryableNotificationError):
        send_status_update(status_update.id)
    status_update.refresh_from_db()
    assert status_update.sent_at is None
    assert smtp_sink.delivered == []

    del smtp_sink.refusals["payments@example.test"]
    send_status_update(status_update.id)
    status_update.refresh_from_db()
    assert status_update.sent_at is not None
    assert smtp_sink.delivered[0].recipients == ["payments@example.test"]


@pytest.mark.django_db
def test_a_worker_retries_a_deferred_send_with_backoff_until_it_gives_up(smtp_sink, status_update):
    smtp_sink.refusals["payments@example.test"] = "451 Mailbox busy, try later"
    # apply() runs the task here as a worker would, retries included (without the waits).
    result = send_status_update.apply(args=[status_update.id])
    assert result.failed()
    assert isinstance(result.result, RetryableNotificationError)
    assert send_status_update.retry_backoff and send_status_update.max_retries == 8
    status_update.refresh_from_db()
    assert status_update.sent_at is None


@pytest.mark.django_db
def test_a_permanent_failure_is_noted_on_the_timeline_and_not_retried(smtp_sink, status_update):
    smtp_sink.refusals["payments@example.test"] = "550 No such mailbox"
    send_status_update(status_update.id)
    status_update.refresh_from_db()
    assert status_update.sent_at is None
    entry = TimelineEntry.objects.get(kind=TimelineKind.STATUS_UPDATE)
    assert "could not be sent" in entry.text
    assert "payments@example.test" in entry.text


@pytest.mark.django_db
def test_an_update_deleted_before_sending_is_skipped(smtp_sink, status_update):
    status_update_id = status_update.id
    status_update.delete()
    send_status_update(status_update_id)
    assert smtp_sink.delivered == []


@pytest.mark.django_db(transaction=True)
def test_a_queued_update_is_sent_by_a_real_worker_after_the_commit(smtp_sink, redis_url, owner):
    """The whole path: the view's helper records and enqueues on commit, a Celery worker
    takes it from Redis and the SMTP server receives it."""
    client = redis.Redis.from_url(redis_url)
    client.delete("celery")
    incident = IncidentFactory(team=owner.memberships.get().team)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        status_update = status_update_queue(
            incident=incident,
            kind=StatusUpdateKind.UPDATE,
            subject="  Still on it  ",
            body="Rolling back.",
            by=owner,
        )
        deadline = time.monotonic() + 15
        while not smtp_sink.delivered and time.monotonic() < deadline:
            time.sleep(0.1)
    client.close()
    assert [delivered.message["Subject"] for delivered in smtp_sink.delivered] == ["Still on it"]
    status_update.refresh_from_db()
    assert status_update.recipients == ["payments@example.test"]
