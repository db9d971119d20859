"""The daily digest: one email a day per person, grouped by kind, nothing when nothing is
due, escalated to managers and SRE leads, at 08:00 in each person's zone, sent once."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.db import connection

from portal.profile.models import Profile
from portal.reminders.actions import digest_send, digests_plan, digests_sweep
from portal.reminders.choices import DigestStatus, Escalation
from portal.reminders.models import Digest, ReminderHistory
from tests.factories import MembershipFactory, UserFactory
from tests.incidents.factories import IncidentFactory, PostMortemFactory
from tests.reminders.conftest import MORNING, TODAY
from tests.toil.change_factories import ChangeFactory, make_change_approver
from toil.choices.changes import ChangeStatus

pytestmark = pytest.mark.django_db


def plan_and_send(now=MORNING, day=None):
    with time_machine.travel(now, tick=False):
        plan = digests_plan(now=now, day=day)
        for digest in Digest.objects.filter(status=DigestStatus.PENDING).order_by("pk"):
            digest_send(digest_id=digest.pk, now=now)
    return plan


def mail_to(sink, address):
    return [mail for mail in sink.delivered if mail.recipients == [address]]


def test_a_digest_lists_what_is_due_grouped_by_kind_with_due_dates_and_lateness(
    items, teammate, service, smtp_sink
):
    late_postmortem = PostMortemFactory(
        incident=IncidentFactory(services=[service], commander=teammate, title="Search down"),
        due_at=MORNING - dt.timedelta(days=1, hours=2),
    )
    plan_and_send()
    [mail] = mail_to(smtp_sink, "tom@example.test")
    assert mail.message["Subject"] == ("Reliability Portal: six items due or overdue, 10 Mar")
    text = mail.body("text/plain")
    assert text.index("ACTION ITEMS DUE OR OVERDUE") < text.index("POST-MORTEMS PAST DUE")
    assert "Due in 2 days" in text and "due 12 Mar 2026" in text
    assert "Due in 0 days" in text and "due 10 Mar 2026, today" in text
    assert "due 7 Mar 2026, 3 days late" in text
    assert "due 22 Feb 2026, 16 days late" in text
    assert "Due in 3 days" not in text
    assert "Due in -20 days" not in text  # done
    assert f"Post-mortem of {late_postmortem.incident.reference} Search down" in text
    assert "due 9 Mar 2026, 1 day late" in text
    html = mail.body("text/html")
    assert (
        f'href="http://127.0.0.1:8000/incidents/{items["today"].postmortem.incident.reference}/postmortem/#action-item-{items["today"].pk}"'
        in html
    )
    digest = Digest.objects.get(user=teammate)
    assert (digest.status, digest.item_count, digest.day) == (DigestStatus.SENT, 6, TODAY)


def test_a_digest_lists_a_change_awaiting_the_persons_approval_and_not_to_its_author(
    service, owner, teammate, smtp_sink
):
    make_change_approver(teammate)
    make_change_approver(owner)
    change = ChangeFactory(
        services=[service],
        author=owner,
        title="Move the ledger to the new cluster",
        status=ChangeStatus.SUBMITTED,
        submitted_at=MORNING - dt.timedelta(days=1),
        window_start=MORNING + dt.timedelta(days=3),
        window_end=MORNING + dt.timedelta(days=3, hours=2),
    )
    plan_and_send()
    [mail] = mail_to(smtp_sink, "tom@example.test")
    text = mail.body("text/plain")
    assert "CHANGE REQUESTS AWAITING YOUR APPROVAL" in text
    assert f"#{change.pk} Move the ledger to the new cluster (Standard)" in text
    assert "due 13 Mar 2026" in text
    assert f'href="http://127.0.0.1:8000/changes/{change.pk}/"' in mail.body("text/html")
    assert not mail_to(smtp_sink, "olivia@example.test")  # the author has nothing to decide


def test_nothing_due_means_no_email(postmortem, owner, smtp_sink):
    plan = plan_and_send()
    assert smtp_sink.delivered == []
    assert owner in plan.nothing_due
    assert Digest.objects.get(user=owner).status == DigestStatus.NOTHING_DUE


def test_the_digest_goes_out_once_a_day_however_often_the_planner_runs(items, teammate, smtp_sink):
    plan_and_send()
    plan_and_send(MORNING + dt.timedelta(hours=3))
    assert len(mail_to(smtp_sink, "tom@example.test")) == 1
    plan_and_send(MORNING + dt.timedelta(days=1))
    assert len(mail_to(smtp_sink, "tom@example.test")) == 2
    assert ReminderHistory.objects.get(object_id=str(items["today"].pk)).times_reminded == 2


@pytest.mark.django_db(transaction=True)
def test_two_planners_and_senders_running_at_once_send_one_digest(items, teammate, smtp_sink):
    errors = []

    def run():
        try:
            plan_and_send()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail_to(smtp_sink, "tom@example.test")) == 1
    assert Digest.objects.filter(user=teammate).count() == 1


def test_a_digest_is_retried_after_a_mail_server_failure_and_sent_once(items, teammate, smtp_sink):
    smtp_sink.refusals["tom@example.test"] = "451 Greylisted, try again"
    plan_and_send()
    digest = Digest.objects.get(user=teammate)
    assert (digest.status, digest.attempts) == (DigestStatus.PENDING, 1)
    assert digest.next_attempt_at == MORNING + dt.timedelta(seconds=30)
    assert "deferred" in digest.last_error
    del smtp_sink.refusals["tom@example.test"]
    with time_machine.travel(MORNING + dt.timedelta(seconds=5), tick=False):
        assert digest_send(digest_id=digest.pk) == "not due"
    later = MORNING + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert digests_sweep(now=later) == 1
        assert digest_send(digest_id=digest.pk) == DigestStatus.SENT
        assert digest_send(digest_id=digest.pk) == "not due"
    assert len(mail_to(smtp_sink, "tom@example.test")) == 1


def test_a_refused_address_fails_for_good(items, teammate, smtp_sink):
    smtp_sink.refusals["tom@example.test"] = "550 No such user"
    plan_and_send()
    digest = Digest.objects.get(user=teammate)
    assert digest.status == DigestStatus.FAILED
    assert "refused" in digest.last_error


def test_a_digest_left_sending_by_a_dead_worker_is_not_sent_again(items, teammate):
    with time_machine.travel(MORNING, tick=False):
        digests_plan(now=MORNING)
    Digest.objects.filter(user=teammate).update(status=DigestStatus.SENDING, claimed_at=MORNING)
    digests_sweep(now=MORNING + dt.timedelta(minutes=20))
    digest = Digest.objects.get(user=teammate)
    assert digest.status == DigestStatus.FAILED
    assert "Interrupted" in digest.last_error


@pytest.mark.parametrize(
    ("days", "to_manager", "to_sre_leads", "level"),
    [
        (7, False, False, Escalation.NONE),
        (8, True, False, Escalation.MANAGER),
        (14, True, False, Escalation.MANAGER),
        (15, True, True, Escalation.SRE_LEADS),
    ],
)
def test_overdue_items_escalate_to_the_manager_after_seven_days_and_sre_leads_after_fourteen(
    postmortem, teammate, owner, sre_lead, smtp_sink, days, to_manager, to_sre_leads, level
):
    from tests.reminders.conftest import item

    late = item(postmortem, teammate, 0, title="Rotate the keys")
    plan_and_send(MORNING + dt.timedelta(days=days))
    manager_mail = mail_to(smtp_sink, "olivia@example.test")
    lead_mail = mail_to(smtp_sink, "sasha@example.test")
    assert bool(manager_mail) is to_manager
    assert bool(lead_mail) is to_sre_leads
    if to_manager:
        text = manager_mail[0].body("text/plain")
        assert "OVERDUE IN YOUR TEAMS" in text
        assert "Rotate the keys" in text and "Payments" in text and "Tom Teammate" in text
        assert f"{days} days late" in text
    history = ReminderHistory.objects.get(kind="action_item", object_id=str(late.pk))
    assert history.escalation == level


def test_escalation_thresholds_follow_the_settings(
    postmortem, teammate, owner, settings, smtp_sink
):
    from tests.reminders.conftest import item

    settings.ESCALATE_TO_MANAGER_DAYS = 2
    item(postmortem, teammate, -3, title="Patch the hosts")
    plan_and_send()
    assert "Patch the hosts" in mail_to(smtp_sink, "olivia@example.test")[0].body("text/plain")


def test_with_the_digest_off_only_escalations_arrive(items, teammate, owner, smtp_sink):
    Profile.objects.create(user=owner, digest_enabled=False)
    from tests.reminders.conftest import item

    item(items["today"].postmortem, owner, 0, title="Own item of the manager")
    plan_and_send()
    [mail] = mail_to(smtp_sink, "olivia@example.test")
    text = mail.body("text/plain")
    assert "Own item of the manager" not in text
    assert "OVERDUE IN YOUR TEAMS" in text and "Due in -9 days" in text


def test_the_digest_goes_out_at_eight_in_the_persons_time_zone(items, teammate, smtp_sink):
    Profile.objects.create(user=teammate, time_zone="Asia/Kolkata")
    # 08:00 in Kolkata is 02:30 UTC.
    plan_and_send(dt.datetime(2026, 3, 10, 2, 29, tzinfo=dt.UTC))
    assert not mail_to(smtp_sink, "tom@example.test")
    plan_and_send(dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC))
    assert len(mail_to(smtp_sink, "tom@example.test")) == 1
    assert Digest.objects.get(user=teammate).day == TODAY


def test_someone_ahead_of_utc_gets_the_digest_of_their_own_day(items, teammate, smtp_sink):
    Profile.objects.create(user=teammate, time_zone="Pacific/Auckland")
    # 08:00 on 11 March in Auckland is 19:00 UTC on 10 March.
    plan_and_send(dt.datetime(2026, 3, 10, 19, 0, tzinfo=dt.UTC))
    digest = Digest.objects.get(user=teammate)
    assert digest.day == dt.date(2026, 3, 11)
    # Lateness is counted on the portal's calendar (TIME_ZONE), where it is still 10 March.
    assert "due 7 Mar 2026, 3 days late" in mail_to(smtp_sink, "tom@example.test")[0].body(
        "text/plain"
    )


def test_a_person_without_an_email_address_is_skipped_and_listed(postmortem, payments, caplog):
    from tests.reminders.conftest import item

    nobody = UserFactory(username="noaddress", email="")
    MembershipFactory(user=nobody, team=payments)
    item(postmortem, nobody, -1)
    plan = plan_and_send()
    assert plan.without_address == [nobody]
    assert "noaddress" in caplog.text
    digest = Digest.objects.get(user=nobody)
    assert digest.status == DigestStatus.FAILED
    assert digest.last_error == "The account has no email address."


def test_every_digest_carries_a_one_click_link_that_turns_it_off(
    items, teammate, smtp_sink, client
):
    plan_and_send()
    [mail] = mail_to(smtp_sink, "tom@example.test")
    link = re.search(r"(http://\S+/me/digest/off/\S+/)", mail.body("text/plain")).group(1)
    assert mail.message["List-Unsubscribe"].strip() == f"<{link}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link.split("8000", 1)[1]
    assert client.get(path).status_code == 200
    assert not Profile.objects.filter(user=teammate, digest_enabled=False).exists()
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert "The daily digest is off" in response.content.decode()
    assert Profile.objects.get(user=teammate).digest_enabled is False
    assert client.post(path.replace(":", "x", 1)).status_code == 404
