from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from portal.compliance.choices import (
    AppliesTo,
    CheckKind,
    CheckMethod,
    Comparison,
    Frequency,
    Severity,
)
from portal.compliance.evaluation import (
    placeholders_in,
    render,
    service_values,
    threshold_errors,
    unknown_placeholders,
)
from services.models.catalog import Tag

#: The seed's frequencies for its three checks (seed 000, "Compliance Monitoring").
DEFAULT_FREQUENCY = {
    CheckKind.DATA_RETENTION: Frequency.DAILY,
    CheckKind.CONSENT_TRACKING: Frequency.WEEKLY,
    CheckKind.DATA_EXPORT: Frequency.MONTHLY,
}
QUERY_MAX_LENGTH = 2000
# Path segments the UI uses next to /compliance/checks/<slug>/.
RESERVED_SLUGS = frozenset({"add"})


def validate_not_reserved(slug):
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"“{slug}” is reserved by the portal; choose another slug.")


HTTP_TIMEOUT_MAX_SECONDS = 60


class ComplianceCheck(models.Model):
    """A compliance check: what is verified on which services, how often and how.

    A Prometheus check evaluates its PromQL (with ``{{service}}`` and ``{{retention_days}}``
    replaced) as an instant query and compares the value with its threshold; an HTTP check asks
    the service itself for a self-test's JSON verdict; an attestation check passes while an
    engineer of the owner team has attested in the current or the previous period.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_not_reserved])
    kind = models.CharField(max_length=30, choices=CheckKind.choices, default=CheckKind.CUSTOM)
    description = models.TextField(blank=True, max_length=2000)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    applies_to = models.CharField(
        max_length=20, choices=AppliesTo.choices, default=AppliesTo.PERSONAL_DATA
    )
    tag = models.ForeignKey(
        Tag,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="compliance_checks",
        help_text="The tag of the services checked, when the check applies to a tag.",
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    method = models.CharField(max_length=20, choices=CheckMethod.choices)
    query = models.TextField(
        blank=True,
        max_length=QUERY_MAX_LENGTH,
        help_text="PromQL with {{service}} (and {{retention_days}}) placeholders.",
    )
    comparison = models.CharField(
        max_length=3, choices=Comparison.choices, default=Comparison.LTE, blank=True
    )
    threshold = models.CharField(
        max_length=50,
        blank=True,
        help_text="A number, or {{retention_days}} for the service's retention days.",
    )
    http_url = models.CharField(
        "self-test URL",
        max_length=500,
        blank=True,
        help_text="GET on the service, with {{service}}; it answers JSON "
        '{"status": "pass" or "fail", "detail": …}.',
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(HTTP_TIMEOUT_MAX_SECONDS)],
        help_text="How long the query or the self-test may take.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(applies_to=AppliesTo.TAG) | models.Q(tag__isnull=False),
                name="compliance_check_tag_scope_has_tag",
                violation_error_message="A check that applies to a tag needs the tag.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("compliance_check_detail", args=[self.slug])

    def clean(self):
        errors: dict[str, str] = {}
        if self.applies_to == AppliesTo.TAG and self.tag_id is None:
            errors["tag"] = "Choose the tag of the services this check applies to."
        if self.method == CheckMethod.PROMETHEUS:
            if not self.query.strip():
                errors["query"] = "A Prometheus check needs its PromQL expression."
            elif unknown := unknown_placeholders(self.query):
                errors["query"] = (
                    f"Unknown placeholder {{{{{unknown[0]}}}}}: use {{{{service}}}} "
                    "or {{retention_days}}."
                )
            elif "service" not in placeholders_in(self.query):
                errors["query"] = "Use {{service}} so that the query measures one service."
            if not self.comparison:
                errors["comparison"] = "Choose how the value compares with the threshold."
            if message := threshold_errors(self.threshold):
                errors["threshold"] = message
        elif self.method == CheckMethod.HTTP and (message := url_errors(self.http_url)):
            errors["http_url"] = message
        limit = settings.COMPLIANCE_CHECK_TIME_LIMIT_SECONDS
        if self.timeout_seconds and self.timeout_seconds >= limit:
            errors["timeout_seconds"] = (
                f"Must be shorter than the time limit of a check ({limit} s)."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def needs_retention_days(self) -> bool:
        texts = (self.query, self.threshold, self.http_url)
        return any("retention_days" in placeholders_in(text) for text in texts)


def url_errors(url: str) -> str | None:
    """Why an HTTP check's URL is not valid, or None."""
    url = (url or "").strip()
    if not url:
        return "An HTTP check needs the URL of the service's self-test."
    if unknown := unknown_placeholders(url):
        return f"Unknown placeholder {{{{{unknown[0]}}}}}: use {{{{service}}}}."
    # Not Django's URLValidator: in-cluster names (http://payments-api/…) have no dot.
    try:
        parsed = urlsplit(render(url, service_values("example-service", 30)))
        valid = parsed.scheme in ("http", "https") and parsed.hostname and " " not in url
    except ValueError:
        valid = False
    if not valid:
        return "Enter an http:// or https:// URL (with {{service}} where the service's slug goes)."
    return None
