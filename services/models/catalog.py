from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from simple_history.models import HistoricalRecords

from portal.links import link
from services.choices import Lifecycle, MembershipRole, Tier

# Path segments the UI uses next to /services/<slug>/ and /teams/<slug>/.
RESERVED_SLUGS = frozenset({"add", "import"})

# Limits that hold in the UI, the API and imports alike (README, "The API"): a description
# is a few paragraphs, and a service with more tags or dependencies than this is a mistake
# (each costs a lookup on every save).
DESCRIPTION_MAX_LENGTH = 5000
MAX_TAGS_PER_SERVICE = 50
MAX_DEPENDENCIES_PER_SERVICE = 200


def description_errors(description: str) -> dict[str, list[str]]:
    try:
        MaxLengthValidator(DESCRIPTION_MAX_LENGTH)(description)
    except ValidationError as error:
        return {"description": error.messages}
    return {}


def validate_not_reserved(slug):
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"“{slug}” is reserved by the portal; choose another slug.")


class Team(models.Model):
    """A group of people that owns services and the records around them."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_not_reserved])
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Where the team's notifications go.")
    chat_channel = models.CharField(max_length=100, blank=True, help_text="e.g. #payments-oncall")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams", blank=True
    )
    backstage_ref = models.CharField(
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="Entity reference of the Backstage Group this team was imported from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    #: The column that is this record's name (``__str__``): list filters read (key, name)
    #: rows from it instead of building a record per option (portal.templatetags.lists).
    CHOICE_LABEL_FIELD = "name"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return link("team_detail", self.slug)

    @property
    def team_id(self):
        return self.pk

    def clean(self):
        if errors := description_errors(self.description):
            raise ValidationError(errors)


class Membership(models.Model):
    """A user's place in a team: engineers edit the team's records, viewers read them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=20, choices=MembershipRole.choices, default=MembershipRole.ENGINEER
    )

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="unique_membership"),
        ]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.get_role_display()})"


class Tag(models.Model):
    """A free label on services (a Backstage tag or system, a domain, a language)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    #: The column that is this record's name (``__str__``): list filters read (key, name)
    #: rows from it instead of building a record per option (portal.templatetags.lists).
    CHOICE_LABEL_FIELD = "name"

    def __str__(self):
        return self.name


class Service(models.Model):
    """A deployable thing a team owns and answers for in production."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True, validators=[validate_not_reserved])
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_2)
    lifecycle = models.CharField(
        max_length=20, choices=Lifecycle.choices, default=Lifecycle.EXPERIMENTAL
    )
    kind = models.CharField(
        max_length=50, blank=True, help_text="Component type, e.g. service, website, worker."
    )
    system = models.CharField(
        max_length=100, blank=True, help_text="The larger system this service is part of."
    )
    repository_url = models.URLField(blank=True)
    runbook_url = models.URLField(blank=True)
    dashboard_url = models.URLField(blank=True)
    oncall_url = models.URLField(blank=True, verbose_name="on-call URL")
    pagerduty_service_id = models.CharField(max_length=100, blank=True)
    handles_personal_data = models.BooleanField(default=False)
    data_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long personal data is kept; required when the service handles it.",
    )
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, related_name="dependents", blank=True
    )
    tags = models.ManyToManyField(Tag, related_name="services", blank=True)
    backstage_ref = models.CharField(
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="Entity reference of the Backstage Component this service was imported from.",
    )
    backstage_source = models.CharField(
        max_length=500, blank=True, help_text="The catalog file or URL it was last imported from."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A reason of any length: the readiness gate's overrides are recorded with theirs.
    history = HistoricalRecords(
        excluded_fields=["updated_at"], history_change_reason_field=models.TextField(null=True)
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handles_personal_data=False)
                | models.Q(data_retention_days__isnull=False),
                name="personal_data_has_retention",
                violation_error_message=(
                    "A service that handles personal data needs its data-retention days."
                ),
            ),
        ]

    #: The column that is this record's name (``__str__``): list filters read (key, name)
    #: rows from it instead of building a record per option (portal.templatetags.lists).
    CHOICE_LABEL_FIELD = "name"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return link("service_detail", self.slug)

    @property
    def team_id(self):
        return self.owner_team_id

    def clean(self):
        errors = description_errors(self.description)
        if self.handles_personal_data and self.data_retention_days is None:
            errors["data_retention_days"] = ["Required when the service handles personal data."]
        if errors:
            raise ValidationError(errors)
