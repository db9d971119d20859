"""Background work of monthly reports: thin tasks calling portal.reports.actions."""

from celery import shared_task
from django.utils import timezone


@shared_task
def plan_monthly_reports() -> None:
    """Beat, hourly: make sure last month's reports exist (once the month is over in
    TIME_ZONE, on the 1st), and ring for those still to generate."""
    from portal.reports.actions import reports_plan
    from portal.reports.months import last_full_month

    reports_plan(month=last_full_month(timezone.now()))


@shared_task
def generate_report(report_id: int) -> None:
    from portal.reports.actions import report_generate

    report_generate(report_id=report_id, now=timezone.now())


@shared_task
def send_report_delivery(delivery_id: int) -> None:
    from portal.reports.actions import report_delivery_send

    report_delivery_send(delivery_id=delivery_id)


@shared_task
def sweep_reports() -> None:
    """PORTAL_SWEEPS: reports and copies whose ring was lost or whose worker died."""
    from portal.reports.actions import reports_sweep

    reports_sweep(now=timezone.now())
