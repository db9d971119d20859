"""The three GDPR checks of seed 000 ("Compliance Monitoring"): data retention daily, consent
tracking weekly, the data-export test monthly. Migration compliance.0002 creates them; the
demo makes sure they exist."""

SEED_CHECKS = [
    {
        "name": "Data retention",
        "slug": "data-retention",
        "kind": "data_retention",
        "frequency": "daily",
        "severity": "high",
        "method": "prometheus",
        "description": "Personal data is deleted as the retention policy says: the oldest "
        "record a service keeps is no older than its data-retention days.",
        "query": 'max(personal_data_oldest_record_age_days{service="{{service}}"})',
        "comparison": "lte",
        "threshold": "{{retention_days}}",
    },
    {
        "name": "Consent tracking",
        "slug": "consent-tracking",
        "kind": "consent_tracking",
        "frequency": "weekly",
        "severity": "high",
        "method": "prometheus",
        "description": "Every action on personal data has a consent record: no action without "
        "consent was counted over the last seven days.",
        "query": 'sum(increase(actions_without_consent_total{service="{{service}}"}[7d]))',
        "comparison": "eq",
        "threshold": "0",
    },
    {
        "name": "Data export test",
        "slug": "data-export-test",
        "kind": "data_export",
        "frequency": "monthly",
        "severity": "medium",
        "method": "http",
        "description": "A person's data can be exported: the service's own export self-test "
        "passes.",
        "http_url": "http://{{service}}/compliance/data-export",
    },
]


def seed_checks_ensure(check_model) -> None:
    """Create the seed checks that are missing (by slug); never change existing ones.
    `check_model` is the ComplianceCheck model (the migration passes its historical one)."""
    for fields in SEED_CHECKS:
        check_model.objects.get_or_create(slug=fields["slug"], defaults=fields)
