"""/me/, /api/me/digest/, the reported time zone kept on the profile, the escalation shown on
an action item's page, and `manage.py send_reminders`."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from portal.profile.models import Profile
from portal.reminders import tasks
from portal.reminders.actions import digests_plan
from portal.reminders.models import Digest
from portal.timezones import COOKIE
from tests.reminders.conftest import MORNING

pytestmark = pytest.mark.django_db


def test_the_profile_page_turns_the_digest_off_and_on(client_for, teammate):
    client = client_for(teammate)
    page = client.get(reverse("me")).content.decode()
    assert "Daily digest" in page and "UTC" in page and "No digest yet" in page
    response = client.post(reverse("me"), {}, follow=True)
    assert "The daily digest is off." in response.content.decode()
    assert Profile.objects.get(user=teammate).digest_enabled is False
    client.post(reverse("me"), {"digest_enabled": "on"})
    assert Profile.objects.get(user=teammate).digest_enabled is True


def test_the_profile_page_lists_the_last_digests_sent(items, teammate, client_for, smtp_sink):
    with time_machine.travel(MORNING, tick=False):
        digests_plan(now=MORNING)
    page = client_for(teammate).get(reverse("me")).content.decode()
    assert "Tue 10 Mar 2026" in page


def test_the_zone_the_browser_reports_is_kept_on_the_profile_once(
    client_for, teammate, django_assert_max_num_queries
):
    client = client_for(teammate)
    client.cookies[COOKIE] = "Asia/Kolkata"
    client.get(reverse("me"))
    assert Profile.objects.get(user=teammate).time_zone == "Asia/Kolkata"
    page = client.get(reverse("me")).content.decode()
    assert "Asia/Kolkata" in page
    client.cookies[COOKIE] = "Europe/Paris"
    client.get(reverse("home"))
    assert Profile.objects.get(user=teammate).time_zone == "Europe/Paris"
    client.cookies[COOKIE] = "Not/AZone"
    client.get(reverse("home"))
    assert Profile.objects.get(user=teammate).time_zone == "Europe/Paris"


def test_an_unchanged_zone_costs_no_query(client_for, teammate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(teammate)
    client.cookies[COOKIE] = "Asia/Kolkata"
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("home"))
    client.cookies.pop(COOKIE)
    with CaptureQueriesContext(connection) as without_cookie:
        client.get(reverse("home"))
    assert len(first.captured_queries) == len(without_cookie.captured_queries)


def test_the_api_reads_and_sets_the_digest_choice(api_client_for, teammate, items):
    api = api_client_for(teammate)
    assert api.get("/api/me/digest/").json() == {
        "digest_enabled": True,
        "time_zone": "UTC",
        "recent_digests": [],
    }
    answer = api.patch("/api/me/digest/", {"digest_enabled": False}).json()
    assert answer["digest_enabled"] is False
    assert Profile.objects.get(user=teammate).digest_enabled is False
    assert api.put("/api/me/digest/", {"digest_enabled": "maybe"}).status_code == 400
    with time_machine.travel(MORNING, tick=False):
        digests_plan(now=MORNING)
    # With the digest off, the teammate (who manages no team) had nothing to read.
    assert api.get("/api/me/digest/").json()["recent_digests"] == []
    assert Digest.objects.get(user=teammate).status == "nothing_due"


def test_the_action_items_page_shows_how_far_an_item_was_escalated(
    items, client_for, viewer, django_assert_max_num_queries
):
    with time_machine.travel(MORNING, tick=False):
        digests_plan(now=MORNING)
    postmortem = items["today"].postmortem
    client = client_for(viewer)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("postmortem_detail", args=[postmortem.incident.reference]))
    html = page.content.decode()
    assert "Escalated to SRE leads" in html
    assert "Escalated to the team manager" in html
    assert "Reminded 1 time" in html


def test_the_command_prints_who_would_get_what_on_a_dry_run(items, teammate):
    out = StringIO()
    with time_machine.travel(MORNING, tick=False):
        call_command("send_reminders", "--dry-run", "--date", "2026-03-10", stdout=out)
    printed = out.getvalue()
    assert "tom <tom@example.test> 2026-03-10: 5 item(s), 0 escalated" in printed
    assert "[Action items due or overdue] Due in -16 days" in printed
    assert "dry run: nothing recorded or sent" in printed
    assert not Digest.objects.exists()


def test_the_command_sends_the_digests_of_a_day(items, teammate, owner, smtp_sink):
    out = StringIO()
    with time_machine.travel(MORNING - dt.timedelta(hours=5), tick=False):
        call_command("send_reminders", "--date", "2026-03-10", stdout=out)
    assert {mail.recipients[0] for mail in smtp_sink.delivered} == {
        "tom@example.test",
        "olivia@example.test",
    }


def test_the_command_refuses_a_malformed_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "10/03/2026")


def test_beat_plans_every_quarter_of_an_hour_and_the_sweep_covers_digests(settings):
    assert settings.CELERY_BEAT_SCHEDULE["plan-digests"] == {
        "task": tasks.plan_digests.name,
        "schedule": 900.0,
    }
    assert tasks.sweep_digests.name in settings.PORTAL_SWEEPS
