"""The three GDPR checks of seed 000 as defaults: data retention daily, consent tracking
weekly, the data-export self-test monthly. Editable afterwards; never overwritten."""

from django.db import migrations

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


def add_seed_checks(apps, schema_editor):
    ComplianceCheck = apps.get_model("compliance", "ComplianceCheck")
    for fields in SEED_CHECKS:
        ComplianceCheck.objects.get_or_create(slug=fields["slug"], defaults=fields)


def remove_seed_checks(apps, schema_editor):
    ComplianceCheck = apps.get_model("compliance", "ComplianceCheck")
    ComplianceCheck.objects.filter(slug__in=[fields["slug"] for fields in SEED_CHECKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(add_seed_checks, remove_seed_checks)]
