"""Blameless post-mortems of incidents and the action items they lead to."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents import limits
from incidents.choices import (
    ACTION_ITEM_PENDING_STATUSES,
    ActionItemKind,
    ActionItemPriority,
    ActionItemStatus,
    PostMortemStatus,
)
from incidents.models.incidents import Incident, bounded_text
from portal.timezones import portal_date, portal_today

_SECTION = bounded_text(limits.POSTMORTEM_SECTION_MAX_LENGTH)


class PostMortem(models.Model):
    """What happened, why, and what we learned, written without blame. Sections are
    Markdown, rendered sanitised. Required (and blocking the incident's closing) for
    SEV1 and SEV2 incidents."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    status = models.CharField(
        max_length=20, choices=PostMortemStatus.choices, default=PostMortemStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_postmortems",
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="reviewed_postmortems", blank=True
    )
    contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="contributed_postmortems",
        blank=True,
        help_text="Everyone who changed its sections: none of them may publish it.",
    )
    summary = models.TextField(blank=True, **_SECTION)
    impact = models.TextField(blank=True, **_SECTION)
    timeline = models.TextField(blank=True, **_SECTION)
    root_cause = models.TextField(blank=True, **_SECTION)
    five_whys = models.TextField(blank=True, **_SECTION)
    contributing_factors = models.TextField(blank=True, **_SECTION)
    went_well = models.TextField(blank=True, verbose_name="what went well", **_SECTION)
    went_badly = models.TextField(blank=True, verbose_name="what went badly", **_SECTION)
    got_lucky = models.TextField(blank=True, verbose_name="where we got lucky", **_SECTION)
    lessons = models.TextField(blank=True, verbose_name="lessons learned", **_SECTION)
    due_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    #: The Markdown sections, in the order a reader meets them.
    SECTIONS = (
        "summary",
        "impact",
        "timeline",
        "root_cause",
        "five_whys",
        "contributing_factors",
        "went_well",
        "went_badly",
        "got_lucky",
        "lessons",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "post-mortem"
        # The lists' orders (the API's newest first, the search's latest published first):
        # an index scan stops after one page instead of joining and sorting them all
        # (30 ms to 2 ms at 3,600 post-mortems of 20,000 incidents).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="postmortem_created"),
            models.Index(fields=["-published_at", "-id"], name="postmortem_published"),
            # "Past due" (the home page, reminders): the unpublished ones in due order, so
            # the first lines come from the index instead of joining every incident (4.4 ms
            # to well under 1 ms at 20,000 incidents).
            models.Index(
                fields=["due_at", "id"],
                condition=~models.Q(status=PostMortemStatus.PUBLISHED),
                name="postmortem_unpublished_due",
            ),
        ]

    def __str__(self):
        return f"Post-mortem of {self.incident.reference}"

    def clean(self):
        if self.status == PostMortemStatus.PUBLISHED and self.published_at is None:
            raise ValidationError({"published_at": "A published post-mortem needs its date."})

    @property
    def team_id(self):
        return self.incident.team_id

    @property
    def is_overdue(self) -> bool:
        # due_at is an instant (computed in the portal's zone when it was set): comparing
        # instants needs no zone at all.
        return (
            self.status != PostMortemStatus.PUBLISHED
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class ActionItem(models.Model):
    """A follow-up from a post-mortem; tracked until done (or declined with a reason),
    also after the incident has closed."""

    postmortem = models.ForeignKey(
        PostMortem, on_delete=models.CASCADE, related_name="action_items"
    )
    title = models.CharField(max_length=limits.ACTION_ITEM_TITLE_MAX_LENGTH)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_action_items",
    )
    due_date = models.DateField()
    priority = models.CharField(
        max_length=2, choices=ActionItemPriority.choices, default=ActionItemPriority.P2
    )
    kind = models.CharField(max_length=20, choices=ActionItemKind.choices)
    status = models.CharField(
        max_length=20, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN
    )
    wont_do_reason = models.TextField(
        blank=True,
        verbose_name="why it won't be done",
        **bounded_text(limits.WONT_DO_REASON_MAX_LENGTH),
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="action_item_status_due")]

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if self.status == ActionItemStatus.WONT_DO and not self.wont_do_reason.strip():
            errors["wont_do_reason"] = "Say why it won't be done, so the decision is on record."
        if self.due_date is not None and self._due_date_changed():
            incident = self.postmortem.incident if self.postmortem_id else None
            problem = limits.implausible_due_date(
                self.due_date,
                today=portal_today(),
                not_before=portal_date(incident.started_at) if incident else None,
            )
            if problem:
                errors["due_date"] = f"The due date {problem}"
        if errors:
            raise ValidationError(errors)

    def _due_date_changed(self) -> bool:
        # An item keeps the due date it was given when it is edited later (years on, a
        # due date once within range may no longer be, and that is no reason to refuse).
        if self.pk is None:
            return True
        stored = ActionItem.objects.filter(pk=self.pk).values_list("due_date", flat=True).first()
        return stored != self.due_date

    @property
    def incident(self) -> Incident:
        return self.postmortem.incident

    @property
    def team_id(self):
        return self.postmortem.incident.team_id

    @property
    def is_overdue(self) -> bool:
        """Pending past its due date, in the portal's zone: the same for every viewer."""
        return self.status in ACTION_ITEM_PENDING_STATUSES and self.due_date < portal_today()
