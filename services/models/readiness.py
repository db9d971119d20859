"""Production-readiness reviews: versioned checklists (categories → criteria) and the reviews a
service passes before it carries production traffic, and again every year."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from services.choices import (
    APPROVED_REVIEW_STATUSES,
    OPEN_REVIEW_STATUSES,
    CriterionStatus,
    ReviewEntryKind,
    ReviewStatus,
    Verdict,
)
from services.models.catalog import Service

_PERSON = {"null": True, "blank": True, "on_delete": models.SET_NULL, "related_name": "+"}


class ReadinessChecklist(models.Model):
    """One version of a readiness checklist. Loading a file whose content differs from the
    newest version of its key makes the next version; a review keeps the version it started
    with, so criteria never change under a review in progress."""

    key = models.SlugField(max_length=100, help_text="The checklist's name in its file.")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the normalised content.")
    source_name = models.CharField(max_length=255, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unique_checklist_version")
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class ChecklistCategory(models.Model):
    """An area of a checklist (architecture, instrumentation, emergency response, …)."""

    checklist = models.ForeignKey(
        ReadinessChecklist, on_delete=models.CASCADE, related_name="categories"
    )
    key = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["checklist", "position"]
        verbose_name_plural = "checklist categories"
        constraints = [
            models.UniqueConstraint(fields=["checklist", "key"], name="unique_category_key")
        ]

    def __str__(self):
        return self.title


class ChecklistCriterion(models.Model):
    """One thing a service must (required) or should (recommended) have. Automatic criteria
    name a check of services.checks, judged by the portal; attested ones are marked met by the
    owner team with evidence and accepted or rejected by the reviewer."""

    checklist = models.ForeignKey(
        ReadinessChecklist, on_delete=models.CASCADE, related_name="criteria"
    )
    category = models.ForeignKey(
        ChecklistCategory, on_delete=models.CASCADE, related_name="criteria"
    )
    key = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="Markdown, shown sanitised.")
    tiers = models.JSONField(help_text="The service tiers this criterion applies to.")
    required = models.BooleanField(default=True)
    check_name = models.CharField(
        max_length=100, blank=True, help_text="The automatic check; empty when attested."
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["checklist", "category__position", "position"]
        verbose_name_plural = "checklist criteria"
        constraints = [
            models.UniqueConstraint(fields=["checklist", "key"], name="unique_criterion_key")
        ]

    def __str__(self):
        return self.title

    @property
    def is_automatic(self) -> bool:
        return bool(self.check_name)


class ReadinessReview(models.Model):
    """A service's production-readiness review against one checklist version.

    draft → in review (a reviewer assigned) → approved / approved with waivers / changes
    requested → back to in review (services.readiness holds the rules). An approval is valid
    until ``expires_at``; the newest approval of a service is its current one, and those before
    it are marked superseded. A service has at most one open review and one current approval.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="readiness_reviews")
    checklist = models.ForeignKey(
        ReadinessChecklist, on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(
        max_length=30, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readiness_reviews_to_review",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    waivers_expire_on = models.DateField(
        null=True, blank=True, help_text="The earliest expiry of the approval's waivers."
    )
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="When a newer approval of the service replaced this one."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["service", "status"], name="readiness_review_service")]
        constraints = [
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status__in=sorted(OPEN_REVIEW_STATUSES)),
                name="one_open_readiness_review_per_service",
                violation_error_message="This service already has a review in progress.",
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(
                    status__in=sorted(APPROVED_REVIEW_STATUSES), superseded_at__isnull=True
                ),
                name="one_current_readiness_approval_per_service",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=sorted(APPROVED_REVIEW_STATUSES))
                | models.Q(approved_at__isnull=False, expires_at__isnull=False),
                name="approved_review_has_its_dates",
            ),
        ]

    def __str__(self):
        return f"Readiness review of {self.service} ({self.get_status_display().lower()})"

    def get_absolute_url(self):
        return reverse("readiness_review_detail", args=[self.service.slug, self.pk])

    @property
    def team_id(self):
        return self.service.owner_team_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REVIEW_STATUSES

    def clean(self):
        if self.status == ReviewStatus.IN_REVIEW and self.reviewer_id is None:
            raise ValidationError({"reviewer": "A review in review needs its reviewer."})


class ReviewItem(models.Model):
    """One criterion's result in one review: its status, the owner team's evidence, the
    reviewer's verdict and comment, and for automatic criteria the check's last reason (live
    while the review is open, frozen at approval)."""

    review = models.ForeignKey(ReadinessReview, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(ChecklistCriterion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=CriterionStatus.choices, default=CriterionStatus.PENDING
    )
    evidence_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True, help_text="Evidence, or why the criterion does not apply.")
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    answered_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    reviewer_comment = models.TextField(blank=True)
    check_reason = models.CharField(max_length=300, blank=True)
    check_url = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "criterion__category__position", "criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="unique_review_item")
        ]

    def __str__(self):
        return f"{self.criterion} ({self.get_status_display().lower()})"

    @property
    def team_id(self):
        return self.review.team_id

    def clean(self):
        if self.status == CriterionStatus.NOT_APPLICABLE and not self.note.strip():
            raise ValidationError({"note": "Say why this criterion does not apply."})
        if (
            self.status == CriterionStatus.MET
            and not self.criterion.is_automatic
            and not (self.evidence_url or self.note.strip())
        ):
            raise ValidationError(
                {"evidence_url": "Give an evidence link or a note showing how it is met."}
            )


class Waiver(models.Model):
    """A required criterion the reviewer let a service go without, for a while: who closes the
    gap and by when. Once it expires the service's readiness shows "waiver expired"."""

    item = models.OneToOneField(ReviewItem, on_delete=models.CASCADE, related_name="waiver")
    reason = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="readiness_waivers",
        help_text="Who answers for closing the gap.",
    )
    expires_on = models.DateField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["expires_on", "id"]

    def __str__(self):
        return f"Waiver of {self.item.criterion} until {self.expires_on}"

    @property
    def team_id(self):
        return self.item.review.team_id

    def clean(self):
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the criterion is waived."})


class ReviewEntry(models.Model):
    """The review's history as people read it: comments, and what happened when (requested,
    submitted, a criterion answered or judged, approved). Append-only."""

    review = models.ForeignKey(ReadinessReview, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(max_length=10, choices=ReviewEntryKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, **_PERSON)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "review entries"

    def __str__(self):
        return self.text[:80]
