"""Compliance metrics for /metrics, read from the database at scrape time (two queries)."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from portal.compliance.choices import UNRESOLVED_STATUSES
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceStatus


class ComplianceCollector:
    def collect(self):
        statuses = GaugeMetricFamily(
            "portal_compliance_checks",
            "Checks of services by their last outcome (empty: not run yet), per check.",
            labels=["check", "outcome"],
        )
        rows = (
            ComplianceStatus.objects.values("compliance_check__slug", "outcome")
            .annotate(count=Count("id"))
            .order_by("compliance_check__slug", "outcome")
        )
        for row in rows:
            statuses.add_metric([row["compliance_check__slug"], row["outcome"]], row["count"])
        yield statuses
        findings = GaugeMetricFamily(
            "portal_compliance_findings_unresolved",
            "Unresolved compliance findings, by status and severity.",
            labels=["status", "severity"],
        )
        rows = (
            ComplianceFinding.objects.filter(status__in=UNRESOLVED_STATUSES)
            .values("status", "severity")
            .annotate(count=Count("id"))
            .order_by("status", "severity")
        )
        for row in rows:
            findings.add_metric([row["status"], row["severity"]], row["count"])
        yield findings
