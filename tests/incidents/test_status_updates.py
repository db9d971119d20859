"""Status updates: drafts written from the incident's facts, who receives them, and the task
that emails them once through a real SMTP server."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from incidents.actions.status_updates import (
    MAX_ATTEMPTS,
    claim_expiry,
    retry_delay,
    status_update_queue,
    status_update_send,
    status_updates_sweep,
)
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
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import IncidentFactory, StatusUpdateFactory
from tests.servers import free_port

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


def test_an_initial_draft_names_the_status_the_incident_is_in_now():
    draft = draft_status_update(StatusUpdateKind.INITIAL, facts(status="Identified"), now=NOW)
    assert draft.subject == "[SEV2] Identified: Checkout payments failing (INC-2026-0007)"
    assert "Status: Identified" in draft.body


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


def send(status_update) -> str:
    return status_update_send(status_update_id=status_update.id).outcome


@pytest.fixture
def smtp_down(settings):
    """No mail server where the portal sends: connections are refused."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER = False, ""
    settings.EMAIL_TIMEOUT = 2


@pytest.mark.django_db
def test_sending_emails_the_update_and_records_when_and_to_whom(
    smtp_sink, status_update, incident, settings
):
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    incident.subscribers.set([UserFactory(email="cto@example.test")])
    moment = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        assert send(status_update) == "sent"

    [delivered] = smtp_sink.delivered
    assert delivered.recipients == ["cto@example.test", "payments@example.test"]
    assert delivered.message["Subject"] == status_update.subject
    assert delivered.message["Message-ID"].startswith(f"<status-update-{status_update.id}.")
    text = delivered.body("text/plain")
    assert "We are on it. Q&A <soon>." in text
    assert "https://portal.example.test/incidents/INC-2026-0007/" in text
    html = delivered.body("text/html")
    assert "We are on it. Q&amp;A &lt;soon&gt;." in html
    assert 'href="https://portal.example.test/incidents/INC-2026-0007/"' in html

    status_update.refresh_from_db()
    assert (status_update.sent_at, status_update.claimed_at) == (moment, None)
    assert (status_update.attempts, status_update.delivery) == (1, "sent")
    assert status_update.recipients == ["cto@example.test", "payments@example.test"]
    entry = TimelineEntry.objects.get(incident=incident, kind=TimelineKind.STATUS_UPDATE)
    assert entry.author == status_update.created_by
    assert entry.text == f"Initial status update “{status_update.subject}” sent to 2 recipients."


@pytest.mark.django_db
def test_a_duplicated_or_retried_task_never_sends_twice(smtp_sink, status_update):
    assert send(status_update) == "sent"
    assert send(status_update) == "skipped"
    assert len(smtp_sink.delivered) == 1
    assert TimelineEntry.objects.filter(kind=TimelineKind.STATUS_UPDATE).count() == 1


@pytest.mark.django_db
def test_an_update_another_worker_is_sending_is_left_to_it(smtp_sink, status_update):
    StatusUpdate.objects.filter(pk=status_update.pk).update(claimed_at=timezone.now())
    assert send(status_update) == "skipped"
    assert smtp_sink.delivered == []


@pytest.mark.django_db
def test_a_deferred_send_is_retried_after_its_backoff_and_then_goes_through(
    smtp_sink, status_update, time_machine
):
    time_machine.move_to(NOW, tick=False)
    smtp_sink.refusals["payments@example.test"] = "451 Mailbox busy, try later"
    result = status_update_send(status_update_id=status_update.id)
    assert (result.outcome, result.retry_in) == ("retry", 30.0)
    status_update.refresh_from_db()
    assert status_update.sent_at is None and status_update.claimed_at is None
    assert status_update.next_attempt_at == NOW + timedelta(seconds=30)
    assert (status_update.delivery, status_update.last_error) == ("retrying", "recipients deferred")
    assert smtp_sink.delivered == []

    del smtp_sink.refusals["payments@example.test"]
    # A duplicate ring before the next attempt is due does nothing.
    time_machine.move_to(NOW + timedelta(seconds=10), tick=False)
    assert send(status_update) == "skipped"
    time_machine.move_to(NOW + timedelta(seconds=30), tick=False)
    assert send(status_update) == "sent"
    status_update.refresh_from_db()
    assert (status_update.attempts, status_update.last_error) == (2, "")
    assert smtp_sink.delivered[0].recipients == ["payments@example.test"]


def test_the_backoff_doubles_from_thirty_seconds_up_to_half_an_hour():
    waits = [retry_delay(attempt).total_seconds() for attempt in range(1, MAX_ATTEMPTS)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800]


@pytest.mark.django_db
def test_the_task_retries_when_the_action_says_so(smtp_down, status_update):
    from celery.exceptions import Retry

    with pytest.raises(Retry):
        send_status_update(status_update.id)
    status_update.refresh_from_db()
    assert (status_update.attempts, status_update.delivery) == (1, "retrying")


@pytest.mark.django_db
def test_while_the_mail_server_is_unreachable_the_card_says_it_is_retrying(
    smtp_down, status_update, incident, client_for, sre_lead
):
    assert send(status_update) == "retry"
    status_update.refresh_from_db()
    assert status_update.last_error == "mail server unreachable"
    page = client_for(sre_lead).get(incident.get_absolute_url()).content.decode()
    assert "retrying: mail server unreachable" in page
    assert "not sent yet" not in page


@pytest.mark.django_db
def test_after_the_last_attempt_the_failure_is_on_the_timeline_and_the_card(
    smtp_down, status_update, incident, client_for, sre_lead
):
    StatusUpdate.objects.filter(pk=status_update.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert send(status_update) == "failed"
    status_update.refresh_from_db()
    assert status_update.failed_at is not None and status_update.sent_at is None
    assert status_update.last_error == f"mail server unreachable (after {MAX_ATTEMPTS} attempts)"
    entry = TimelineEntry.objects.get(kind=TimelineKind.STATUS_UPDATE)
    assert entry.text.startswith(
        f"The initial status update “{status_update.subject}” failed: mail server unreachable "
        f"(after {MAX_ATTEMPTS} attempts)"
    )
    assert "Last error: The mail server was unreachable" in entry.text
    page = client_for(sre_lead).get(incident.get_absolute_url()).content.decode()
    assert f"failed: mail server unreachable (after {MAX_ATTEMPTS} attempts)" in page
    # Given up: neither a task nor the sweep tries again.
    assert send(status_update) == "skipped"
    assert status_updates_sweep() == 0


@pytest.mark.django_db
def test_a_permanent_failure_is_noted_on_the_timeline_and_not_retried(smtp_sink, status_update):
    smtp_sink.refusals["payments@example.test"] = "550 No such mailbox"
    assert send(status_update) == "failed"
    status_update.refresh_from_db()
    assert status_update.sent_at is None and status_update.failed_at is not None
    assert status_update.attempts == 1
    entry = TimelineEntry.objects.get(kind=TimelineKind.STATUS_UPDATE)
    assert "failed: Every recipient was refused: payments@example.test." in entry.text
    assert send(status_update) == "skipped"


@pytest.mark.django_db
def test_an_update_deleted_before_sending_is_skipped(smtp_sink, status_update):
    status_update_id = status_update.id
    status_update.delete()
    assert status_update_send(status_update_id=status_update_id).outcome == "skipped"
    assert smtp_sink.delivered == []


@pytest.mark.django_db
def test_the_sweep_rings_for_updates_still_due_and_takes_back_dead_workers_claims(
    smtp_sink, incident, status_update, time_machine, redis_url
):
    """Due: never tried (its ring lost), a retry whose time has come, a claim older than a
    task may run (its worker died before sending). Not due: sent, failed, backing off, or
    held by a live worker."""
    time_machine.move_to(NOW, tick=False)
    redis.Redis.from_url(redis_url).delete("celery")

    def update(**fields):
        made = StatusUpdateFactory(incident=incident)
        StatusUpdate.objects.filter(pk=made.pk).update(**fields)
        return made

    dead_claim = update(claimed_at=NOW - claim_expiry() - timedelta(seconds=1), attempts=1)
    retry_due = update(attempts=2, next_attempt_at=NOW - timedelta(seconds=5))
    update(sent_at=NOW, recipients=["payments@example.test"])
    update(failed_at=NOW, last_error="no")
    update(attempts=1, next_attempt_at=NOW + timedelta(minutes=1))
    update(claimed_at=NOW - timedelta(minutes=1), attempts=1)

    assert status_updates_sweep() == 3
    client = redis.Redis.from_url(redis_url)
    assert client.llen("celery") == 3
    client.delete("celery")
    client.close()

    for due in (status_update, dead_claim, retry_due):
        assert send(due) == "sent"
    assert len(smtp_sink.delivered) == 3


@pytest.mark.django_db
def test_both_sweeps_are_registered_for_the_minutely_sweep(settings):
    assert "incidents.tasks.sweep_status_updates" in settings.PORTAL_SWEEPS
    assert "incidents.tasks.sweep_incident_metrics" in settings.PORTAL_SWEEPS


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
