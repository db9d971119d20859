"""Generating, sending and subscribing to monthly reports.

The schedule (``reports_plan``, hourly) writes a pending report row per scope for the last
full month before anything is generated; a worker claims each row (pending → generating),
builds it and lists its recipients as pending deliveries; each delivery is claimed before it
is sent. The sweep rings for pending rows whose ring was lost, and hands back reports whose
generating worker died (generating has no outside effect, so it may run again). A copy that
was claimed and never finished is not sent again: whether the mail server took it is unknown.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portal import doorbell, notifications
from portal.reports import selectors
from portal.reports.charts import charts_draw
from portal.reports.choices import DeliveryReason, DeliveryStatus, ReportStatus
from portal.reports.models import MonthlyReport, ReportDelivery, ReportImage, ReportSubscription
from portal.reports.months import Month, month_of
from portal.reports.render import cid_of, report_render, with_footer
from portal.reports.scope import ReportScope
from portal.reports.sections import sections_build, summary_sentences
from services.models.catalog import Team

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: A report "generating" for longer than this lost its worker (past CELERY_TASK_TIME_LIMIT).
GENERATION_LOST_AFTER = dt.timedelta(minutes=10)
#: A copy "sending" for longer than this lost its worker.
SENDING_LOST_AFTER = dt.timedelta(minutes=15)
_UNSUBSCRIBE_SALT = "portal.reports.unsubscribe"


def _tasks():
    from portal.reports import tasks

    return tasks


def retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 30 * 60))


# --- generating ---------------------------------------------------------------------------------


def reports_plan(*, month: Month, team: Team | None = None) -> list[int]:
    """Write the pending report rows of ``month`` that do not exist yet — the organisation's
    and every team's, or with ``team`` that team's only — and ring for the generation of each
    still pending. Returns the pending reports' ids."""
    scopes = [team] if team is not None else [None, *Team.objects.order_by("pk")]
    in_scope = Q(team__in=[scope for scope in scopes if scope is not None])
    if team is None:
        in_scope |= Q(team=None)
    with transaction.atomic():
        MonthlyReport.objects.bulk_create(
            [MonthlyReport(team=scope, month=month.first_day) for scope in scopes],
            ignore_conflicts=True,
        )
        pending = list(
            MonthlyReport.objects.filter(
                in_scope, month=month.first_day, status=ReportStatus.PENDING
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for report_id in pending:
            doorbell.ring_on_commit(_tasks().generate_report, report_id)
    return pending


def _build(report: MonthlyReport, now: dt.datetime) -> None:
    """Compute, draw and render ``report`` and store it all (its images replaced)."""
    month = month_of(report.month)
    scope = ReportScope(
        team=report.team, month=month, now=now, previous_figures=selectors.previous_figures(report)
    )
    data = sections_build(scope)
    summary = summary_sentences(data)
    charts = charts_draw(data)
    rendered = report_render(
        scope_name=report.scope_name,
        month=month,
        data=data,
        summary=summary,
        charts=charts,
        generated_at=now,
        report_url=report.get_absolute_url(),
    )
    with transaction.atomic():
        report.images.all().delete()
        ReportImage.objects.bulk_create(
            [
                ReportImage(report=report, name=chart.name, alt=chart.alt[:500], png=chart.png)
                for chart in charts
            ]
        )
        report.subject = rendered.subject
        report.html = rendered.html
        report.text = rendered.text
        report.figures = {"summary": summary, **data}
        report.generated_at = now
        report.status = ReportStatus.READY
        report.last_error = ""
        report.save()


def report_generate(*, report_id: int, now: dt.datetime, deliver: bool = True) -> bool:
    """Generate a pending report once (claimed first) and, with ``deliver``, list its
    recipients for sending. False when another worker has it or it is done."""
    claimed = MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.PENDING).update(
        status=ReportStatus.GENERATING, claimed_at=now
    )
    if not claimed:
        return False
    report = MonthlyReport.objects.select_related("team").get(pk=report_id)
    try:
        _build(report, now)
    except Exception as error:
        # One bad report never stops the others; the reason shows on its page.
        logger.exception("Report %s could not be generated.", report)
        MonthlyReport.objects.filter(pk=report_id).update(
            status=ReportStatus.FAILED, last_error=f"{error.__class__.__name__}: {error}"
        )
        return False
    if deliver:
        report_deliveries_plan(report=report, now=now)
    return True


def report_regenerate(*, report: MonthlyReport, by, now: dt.datetime) -> MonthlyReport:
    """Build the report again from today's records (an SRE lead's correction). Nobody gets it
    again: its copies already sent stay sent, and only a copy asked for goes out."""
    _build(report, now)
    MonthlyReport.objects.filter(pk=report.pk).update(generated_by=by)
    report.generated_by = by
    return report


# --- sending ------------------------------------------------------------------------------------


def report_deliveries_plan(*, report: MonthlyReport, now: dt.datetime) -> int:
    """Write a pending copy for each recipient who has none yet and ring for each; people
    without an address are listed on the report instead. Returns the copies written."""
    recipients = selectors.report_recipients(report)
    skipped = sorted(person.username for person, _reason in recipients if not person.email)
    copies = [
        ReportDelivery(report=report, user=person, address=person.email, reason=reason)
        for person, reason in recipients
        if person.email
    ]
    with transaction.atomic():
        existing = set(
            ReportDelivery.objects.filter(report=report)
            .exclude(reason=DeliveryReason.REQUESTED)
            .values_list("user_id", flat=True)
        )
        new = [copy for copy in copies if copy.user_id not in existing]
        ReportDelivery.objects.bulk_create(new, ignore_conflicts=True)
        MonthlyReport.objects.filter(pk=report.pk).update(
            skipped=skipped, deliveries_planned_at=now
        )
        for delivery_id in (
            selectors.deliveries_due(now).filter(report=report).values_list("pk", flat=True)
        ):
            doorbell.ring_on_commit(_tasks().send_report_delivery, delivery_id)
    if skipped:
        logger.warning("Report %s: no email address for %s.", report, ", ".join(skipped))
    return len(new)


def report_copy_request(*, report: MonthlyReport, user) -> ReportDelivery:
    """Send the report once more to ``user`` (an SRE lead checking a regenerated report)."""
    if not user.email:
        raise ValidationError({"user": "Your account has no email address to send it to."})
    if report.status != ReportStatus.READY:
        raise ValidationError({"report": "The report has not been generated yet."})
    with transaction.atomic():
        delivery = ReportDelivery.objects.create(
            report=report, user=user, address=user.email, reason=DeliveryReason.REQUESTED
        )
        doorbell.ring_on_commit(_tasks().send_report_delivery, delivery.pk)
    return delivery


def unsubscribe_token(user, team_id: int | None) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign_object({"u": user.pk, "t": team_id})


def unsubscribe_target(token: str) -> tuple[int, int | None] | None:
    try:
        data = signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign_object(token)
        return int(data["u"]), (None if data["t"] is None else int(data["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def recipient_footer(report: MonthlyReport, user, reason: str) -> tuple[str, str]:
    """Why this person gets the report, and for subscribers a signed link to stop."""
    why = {
        DeliveryReason.MEMBER: f"you are a member of {report.scope_name}",
        DeliveryReason.MANAGER: "you manage a team"
        if report.team_id is None
        else f"you manage {report.scope_name}",
        DeliveryReason.SRE_LEAD: "you are an SRE lead",
        DeliveryReason.SUBSCRIBER: "you subscribed to it",
        DeliveryReason.REQUESTED: "you asked for a copy",
    }.get(reason, "")
    text = f"You receive this report because {why}." if why else ""
    html = f"<p>{text}</p>" if text else ""
    if reason == DeliveryReason.SUBSCRIBER:
        url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
            "report_unsubscribe", args=[unsubscribe_token(user, report.team_id)]
        )
        html += f'<p><a href="{url}" style="color: #0550ae;">Unsubscribe from this report</a></p>'
        text += f"\nUnsubscribe: {url}"
    return html, text


def delivery_message(delivery: ReportDelivery) -> notifications.Message:
    report = delivery.report
    footer_html, footer_text = recipient_footer(report, delivery.user, delivery.reason)
    html, text = with_footer(
        report.html, report.text, footer_html=footer_html, footer_text=footer_text
    )
    images = tuple(
        notifications.InlineImage(
            cid=cid_of(image.name), png=bytes(image.png), filename=f"{image.name}.png"
        )
        for image in report.images.all()
    )
    headers = {}
    if delivery.reason == DeliveryReason.SUBSCRIBER:
        url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
            "report_unsubscribe", args=[unsubscribe_token(delivery.user, report.team_id)]
        )
        headers = {
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return notifications.Message(
        subject=report.subject,
        text=text,
        html=html,
        to=(delivery.address,),
        headers=headers,
        images=images,
    )


def report_delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one copy if it is still to send, claimed first (pending → sending)."""
    now = now or timezone.now()
    claimed = (
        selectors.deliveries_due(now)
        .filter(pk=delivery_id)
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due"
    delivery = ReportDelivery.objects.select_related("report__team", "user").get(pk=delivery_id)
    try:
        notifications.send(delivery_message(delivery))
    except notifications.RetryableNotificationError as error:
        if delivery.attempts >= MAX_ATTEMPTS:
            ReportDelivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.FAILED,
                last_error=f"Gave up after {delivery.attempts} tries: {error}",
            )
            return DeliveryStatus.FAILED
        delay = retry_delay(delivery.attempts)
        ReportDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now + delay, last_error=str(error)
        )
        doorbell.ring_on_commit(
            _tasks().send_report_delivery, delivery_id, countdown=delay.total_seconds()
        )
        return DeliveryStatus.PENDING
    except notifications.PermanentNotificationError as error:
        ReportDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, last_error=str(error)
        )
        return DeliveryStatus.FAILED
    ReportDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    return DeliveryStatus.SENT


def reports_sweep(*, now: dt.datetime) -> int:
    """Hand back reports whose generating worker died, give up on copies a dead worker left
    "sending", and ring for every pending report and copy. Returns how many were rung."""
    MonthlyReport.objects.filter(
        status=ReportStatus.GENERATING, claimed_at__lt=now - GENERATION_LOST_AFTER
    ).update(status=ReportStatus.PENDING)
    ReportDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_LOST_AFTER
    ).update(
        status=DeliveryStatus.FAILED,
        last_error="Interrupted while sending; not sent again in case it went out.",
    )
    rung = 0
    for report_id in selectors.reports_pending().values_list("pk", flat=True)[:500]:
        rung += doorbell.ring(_tasks().generate_report, report_id)
    for delivery_id in selectors.deliveries_due(now).values_list("pk", flat=True)[:1000]:
        rung += doorbell.ring(_tasks().send_report_delivery, delivery_id)
    return rung


# --- subscriptions ------------------------------------------------------------------------------


def subscription_create(*, user, team: Team | None) -> ReportSubscription:
    """Subscribe ``user`` to a team's report or (``team`` None) the organisation's."""
    subscription = ReportSubscription(user=user, team=team)
    try:
        with transaction.atomic():
            subscription.full_clean(validate_constraints=False)
            subscription.save()
    except IntegrityError as error:
        raise ValidationError({"scope": "You are already subscribed to this report."}) from error
    return subscription


def subscription_delete(*, user_id: int, team_id: int | None) -> bool:
    """Unsubscribe; False when there was no such subscription."""
    deleted, _ = ReportSubscription.objects.filter(user_id=user_id, team_id=team_id).delete()
    return bool(deleted)
