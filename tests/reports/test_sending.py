"""Sending reports: who gets which, the email's MIME structure, once per recipient whatever
runs twice, retries after a mail server failure, and people without an address."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.db import connection

from portal.reports.actions import (
    report_copy_request,
    report_deliveries_plan,
    report_delivery_send,
    report_generate,
    report_regenerate,
    reports_plan,
    reports_sweep,
)
from portal.reports.choices import DeliveryReason, DeliveryStatus, ReportStatus
from portal.reports.models import MonthlyReport, ReportDelivery, ReportSubscription
from portal.reports.months import month_of
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

MAY = month_of(dt.date(2026, 5, 1))


def generated(team=None) -> MonthlyReport:
    with time_machine.travel(NOW, tick=False):
        for report_id in reports_plan(month=MAY, team=team):
            report_generate(report_id=report_id, now=NOW, deliver=False)
    return MonthlyReport.objects.get(month=MAY.first_day, team=team)


def send_all(now=NOW) -> list[str]:
    ids = ReportDelivery.objects.order_by("pk").values_list("pk", flat=True)
    return [report_delivery_send(delivery_id=pk, now=now) for pk in ids]


def test_a_team_report_goes_to_its_members_and_manager_and_subscribers(
    month_of_records, payments, owner, teammate, viewer, outsider, smtp_sink
):
    report = generated(payments)
    ReportSubscription.objects.create(user=outsider, team=payments)
    report_deliveries_plan(report=report, now=NOW)
    reasons = dict(ReportDelivery.objects.values_list("user__username", "reason"))
    # The owner is a member and the manager: one copy, the first reason.
    assert reasons == {
        "olivia": DeliveryReason.MEMBER,
        "tom": DeliveryReason.MEMBER,
        "vera": DeliveryReason.MEMBER,
        "oscar": DeliveryReason.SUBSCRIBER,
    }
    assert send_all() == ["sent"] * 4
    assert sorted(mail.recipients[0] for mail in smtp_sink.delivered) == [
        "olivia@example.test",
        "oscar@example.test",
        "tom@example.test",
        "vera@example.test",
    ]


def test_the_organisation_report_goes_to_sre_leads_managers_and_subscribers(
    month_of_records, owner, teammate, sre_lead, outsider
):
    report = generated()
    ReportSubscription.objects.create(user=teammate, team=None)
    report_deliveries_plan(report=report, now=NOW)
    assert dict(ReportDelivery.objects.values_list("user__username", "reason")) == {
        "sasha": DeliveryReason.SRE_LEAD,
        "olivia": DeliveryReason.MANAGER,
        "tom": DeliveryReason.SUBSCRIBER,
    }


def test_the_email_is_related_html_with_every_cid_image_attached_and_a_text_alternative(
    month_of_records, payments, owner, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    send_all()
    message = next(mail.message for mail in smtp_sink.delivered if "olivia" in mail.recipients[0])
    assert message.get_content_type() == "multipart/related"
    alternative, *images = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    html = alternative.get_body(preferencelist=("html",)).get_content()
    text = alternative.get_body(preferencelist=("plain",)).get_content()
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    attached = {part["Content-ID"].strip("<>") for part in images}
    assert (
        referenced
        == attached
        == {
            "budget-remaining@reliability-portal",
            "incidents-by-month@reliability-portal",
            "mttr-trend@reliability-portal",
        }
    )
    assert all(part.get_content_type() == "image/png" for part in images)
    assert all(part.get_content_disposition() == "inline" for part in images)
    for cid in referenced:
        img = re.search(rf'<img [^>]*src="cid:{re.escape(cid)}"[^>]*>', html).group(0)
        assert re.search(r'alt="[^"]{20,}"', img), img
    # CSS is inlined for mail clients that drop <style>, in a 600 px column.
    assert "<style" not in html
    assert 'style="' in html and "max-width: 600px" in html
    # The same figures in plain text.
    assert "EXECUTIVE SUMMARY" in text and "1 of 2 SLOs met their objective" in text
    assert "1 of 2 SLOs met their objective" in html
    assert "You receive this report because you are a member of Payments." in text


def test_a_subscriber_gets_a_signed_unsubscribe_link(
    month_of_records, payments, outsider, smtp_sink, client
):
    report = generated(payments)
    ReportSubscription.objects.create(user=outsider, team=payments)
    report_deliveries_plan(report=report, now=NOW)
    send_all()
    [mail] = [mail for mail in smtp_sink.delivered if mail.recipients == ["oscar@example.test"]]
    link = re.search(r"Unsubscribe: (\S+)", mail.body("text/plain")).group(1)
    assert mail.message["List-Unsubscribe"].strip() == f"<{link}>"
    path = link.split("127.0.0.1:8000", 1)[1]
    assert client.get(path).status_code == 200  # a confirmation, not yet done
    assert ReportSubscription.objects.filter(user=outsider).exists()
    response = client.post(path)
    assert "You are unsubscribed" in response.content.decode()
    assert not ReportSubscription.objects.filter(user=outsider).exists()
    assert client.post(path[:-5] + "xx/").status_code == 404


def test_each_recipient_gets_a_report_once_when_planning_and_sending_run_twice(
    month_of_records, payments, owner, teammate, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    report_deliveries_plan(report=report, now=NOW)
    assert ReportDelivery.objects.count() == 2
    send_all()
    assert send_all() == ["not due", "not due"]
    assert len(smtp_sink.delivered) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_copy_at_once_send_it_once(
    month_of_records, payments, owner, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    delivery = ReportDelivery.objects.get(user=owner)
    outcomes = []

    def work():
        try:
            outcomes.append(report_delivery_send(delivery_id=delivery.pk, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["not due", "sent"]
    assert len(smtp_sink.delivered) == 1


def test_regenerating_sends_nothing_and_a_copy_goes_only_to_whoever_asks(
    month_of_records, payments, owner, sre_lead, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    send_all()
    report_regenerate(report=report, by=sre_lead, now=NOW + dt.timedelta(days=2))
    report_deliveries_plan(report=report, now=NOW)
    assert send_all() == ["not due", "not due"]
    report_copy_request(report=report, user=sre_lead)
    report_copy_request(report=report, user=sre_lead)
    assert send_all() == ["not due", "not due", "sent", "sent"]
    assert [mail.recipients for mail in smtp_sink.delivered] == [
        ["olivia@example.test"],
        ["tom@example.test"],
        ["sasha@example.test"],
        ["sasha@example.test"],
    ]


def test_a_mail_server_failure_is_retried_with_backoff_and_sent_once_it_is_back(
    month_of_records, payments, owner, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    ReportDelivery.objects.exclude(user=owner).delete()
    smtp_sink.refusals["olivia@example.test"] = "451 Try again later"
    assert send_all() == ["pending"]
    delivery = ReportDelivery.objects.get()
    assert delivery.attempts == 1
    assert "deferred" in delivery.last_error
    assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=30)
    assert send_all(now=NOW + dt.timedelta(seconds=10)) == ["not due"]
    del smtp_sink.refusals["olivia@example.test"]
    assert send_all(now=NOW + dt.timedelta(seconds=31)) == ["sent"]
    assert len(smtp_sink.delivered) == 1


def test_an_unreachable_mail_server_is_retried(month_of_records, payments, owner, settings):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    ReportDelivery.objects.exclude(user=owner).delete()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    assert send_all() == ["pending"]
    assert "unreachable" in ReportDelivery.objects.get().last_error


def test_a_refused_address_fails_for_good_with_the_reason(
    month_of_records, payments, owner, smtp_sink
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    ReportDelivery.objects.exclude(user=owner).delete()
    smtp_sink.refusals["olivia@example.test"] = "550 No such user"
    assert send_all() == ["failed"]
    assert "refused" in ReportDelivery.objects.get().last_error


def test_a_recipient_without_an_email_address_is_skipped_and_listed(
    month_of_records, payments, owner, caplog
):
    nobody = UserFactory(username="noaddress", email="")
    MembershipFactory(user=nobody, team=payments)
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    report.refresh_from_db()
    assert report.skipped == ["noaddress"]
    assert not ReportDelivery.objects.filter(user=nobody).exists()
    assert "noaddress" in caplog.text


def test_the_sweep_hands_back_a_report_whose_worker_died_and_gives_up_on_a_copy_mid_send(
    month_of_records, payments, owner
):
    report = generated(payments)
    report_deliveries_plan(report=report, now=NOW)
    ReportDelivery.objects.exclude(user=owner).delete()
    ReportDelivery.objects.update(status=DeliveryStatus.SENDING, claimed_at=NOW)
    stuck = MonthlyReport.objects.create(
        team=None, month=MAY.first_day, status=ReportStatus.GENERATING, claimed_at=NOW
    )
    reports_sweep(now=NOW + dt.timedelta(minutes=20))
    stuck.refresh_from_db()
    assert stuck.status == ReportStatus.PENDING
    delivery = ReportDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Interrupted" in delivery.last_error
