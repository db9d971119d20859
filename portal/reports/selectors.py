"""Reads of reports, their recipients and subscriptions."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from portal.reminders.selectors import sre_lead_ids
from portal.reports.choices import DeliveryReason, DeliveryStatus, ReportStatus
from portal.reports.models import ORG_SCOPE, MonthlyReport, ReportDelivery, ReportSubscription
from services.selectors import catalog as service_selectors


def report_list() -> QuerySet[MonthlyReport]:
    """Reports for lists, without their bodies, with how many copies went out: a correlated
    count, which needs no GROUP BY over the reports and which a paginator's COUNT(*) leaves
    out. Latest month first, then by team name whatever the case (the organisation's last)."""
    sent = (
        ReportDelivery.objects.filter(report=OuterRef("pk"), status=DeliveryStatus.SENT)
        .order_by()
        .values("report")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        MonthlyReport.objects.select_related("team")
        .defer("html", "text", "figures")
        .annotate(sent_count=Coalesce(Subquery(sent, output_field=IntegerField()), 0))
        .order_by("-month", Lower("team__name"), "pk")
    )


def report_of(scope: str, month: dt.date) -> MonthlyReport:
    """The report of a scope and month; MonthlyReport.DoesNotExist when there is none."""
    reports = MonthlyReport.objects.select_related("team").filter(month=month)
    if scope == ORG_SCOPE:
        return reports.get(team=None)
    return reports.get(team__slug=scope)


def previous_figures(report: MonthlyReport) -> dict:
    month = report.month
    previous = dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    row = (
        MonthlyReport.objects.filter(team_id=report.team_id, month=previous)
        .values_list("figures", flat=True)
        .first()
    )
    return row or {}


def report_recipients(report: MonthlyReport) -> list[tuple[object, str]]:
    """Who gets the report and why, in a few queries: a team's members, its manager and its
    subscribers; the organisation's report goes to SRE leads, every team's manager and its
    subscribers. Active accounts only, each person once (the first reason counts)."""
    reasons: dict[int, str] = {}
    if report.team_id is not None:
        for user_id in service_selectors.team_member_ids().get(report.team_id, set()):
            reasons.setdefault(user_id, DeliveryReason.MEMBER)
        if report.team.manager_id:
            reasons.setdefault(report.team.manager_id, DeliveryReason.MANAGER)
    else:
        for user_id in sorted(sre_lead_ids()):
            reasons.setdefault(user_id, DeliveryReason.SRE_LEAD)
        for user_id in service_selectors.team_managers().values():
            reasons.setdefault(user_id, DeliveryReason.MANAGER)
    subscribers = ReportSubscription.objects.filter(team_id=report.team_id).values_list(
        "user_id", flat=True
    )
    for user_id in subscribers:
        reasons.setdefault(user_id, DeliveryReason.SUBSCRIBER)
    people = get_user_model().objects.filter(pk__in=list(reasons), is_active=True).order_by("pk")
    return [(person, reasons[person.pk]) for person in people]


def subscriptions_of(user) -> QuerySet[ReportSubscription]:
    return ReportSubscription.objects.filter(user=user).select_related("team")


def subscription_list() -> QuerySet[ReportSubscription]:
    return ReportSubscription.objects.select_related("team", "user").order_by("pk")


def reports_pending() -> QuerySet[MonthlyReport]:
    """Reports written by the schedule and not yet generated."""
    return MonthlyReport.objects.filter(status=ReportStatus.PENDING)


def deliveries_due(now: dt.datetime) -> QuerySet[ReportDelivery]:
    return ReportDelivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        Q(next_attempt_at=None) | Q(next_attempt_at__lte=now)
    )


def delivery_counts(report: MonthlyReport) -> dict[str, int]:
    rows = report.deliveries.order_by().values_list("status").annotate(count=Count("pk"))
    return dict(rows)


def delivery_problems(report: MonthlyReport, *, limit: int = 20) -> list[ReportDelivery]:
    """The report's copies that failed or wait for a retry, with why, in one query."""
    return list(
        report.deliveries.filter(
            Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.PENDING, attempts__gt=0)
        )
        .select_related("user")
        .order_by("status", Lower("user__username"), "pk")[:limit]
    )


def report_deliveries(report: MonthlyReport) -> QuerySet[ReportDelivery]:
    """Every copy of the report, who it went to, why and when, in one query."""
    return report.deliveries.select_related("user").order_by(Lower("user__username"), "pk")
