"""Monthly reports, the images in them, who they went to, and who asked for them."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.reports.choices import DeliveryReason, DeliveryStatus, ReportStatus
from services.models.catalog import Team

#: The scope of the organisation's report in addresses: /reports/org/2026-05/.
ORG_SCOPE = "org"


class MonthlyReport(models.Model):
    """The reliability report of one calendar month (in TIME_ZONE) for one team, or for the
    whole organisation when ``team`` is empty: the email as it was rendered (HTML with
    ``cid:`` images, plain text), the figures behind it, and its generation and sending.

    The row is written (pending) before a worker generates it; the worker claims it
    (pending → generating) so that two workers never generate the same report at once."""

    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="monthly_reports",
        help_text="Empty: the whole organisation.",
    )
    month = models.DateField(help_text="The first day of the month reported on.")
    status = models.CharField(
        max_length=12, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    subject = models.CharField(max_length=200, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="Each section's figures.")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who regenerated it last; empty: the schedule.",
    )
    deliveries_planned_at = models.DateTimeField(
        null=True, blank=True, help_text="When its recipients were listed for sending."
    )
    skipped = models.JSONField(
        default=list, blank=True, help_text="Recipients left out for want of an email address."
    )
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-month", "team__name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="one_report_per_team_month"),
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(team=None),
                name="one_org_report_per_month",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="report_status")]

    def __str__(self):
        return f"{self.scope_name}, {self.month:%B %Y}"

    def get_absolute_url(self):
        return reverse("report_detail", args=[self.scope, self.month_key])

    @property
    def scope(self) -> str:
        return self.team.slug if self.team_id else ORG_SCOPE

    @property
    def scope_name(self) -> str:
        return self.team.name if self.team_id else "Organisation"

    @property
    def month_key(self) -> str:
        return f"{self.month:%Y-%m}"


class ReportImage(models.Model):
    """A chart of a report, as the PNG the email carries inline (``cid:<name>@portal``)."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="images")
    name = models.SlugField(max_length=50)
    alt = models.CharField(max_length=500)
    png = models.BinaryField()

    class Meta:
        ordering = ["report", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="unique_report_image")
        ]

    def __str__(self):
        return f"{self.report}: {self.name}"

    @property
    def cid(self) -> str:
        return f"{self.name}@reliability-portal"


class ReportDelivery(models.Model):
    """One recipient's copy of a report. Written before sending; claimed (pending → sending)
    before the mail server is called, so a task run twice or a worker dying mid-send never
    sends it twice. The scheduled copies are unique per report and person; copies SRE leads
    ask for again (``reason`` requested) are not."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_deliveries"
    )
    address = models.EmailField()
    reason = models.CharField(max_length=12, choices=DeliveryReason.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["report", "user_id", "pk"]
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user"],
                condition=~models.Q(reason=DeliveryReason.REQUESTED),
                name="one_scheduled_delivery_per_person",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"{self.report} to {self.address} ({self.get_status_display()})"


class ReportSubscription(models.Model):
    """Someone who asked for a report beyond the ones their roles bring: the organisation's
    (``team`` empty) or a team's."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
        help_text="Empty: the organisation's report.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "team__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_subscription_per_scope"),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(team=None), name="one_org_subscription"
            ),
        ]

    def __str__(self):
        return f"{self.user} → {self.scope_name}"

    @property
    def scope(self) -> str:
        return self.team.slug if self.team_id else ORG_SCOPE

    @property
    def scope_name(self) -> str:
        return self.team.name if self.team_id else "Organisation"
