"""The three GDPR checks of seed 000 as defaults (portal.compliance.seeds). Editable
afterwards; never overwritten."""

from django.db import migrations

from portal.compliance.seeds import SEED_CHECKS, seed_checks_ensure


def add_seed_checks(apps, schema_editor):
    seed_checks_ensure(apps.get_model("compliance", "ComplianceCheck"))


def remove_seed_checks(apps, schema_editor):
    ComplianceCheck = apps.get_model("compliance", "ComplianceCheck")
    ComplianceCheck.objects.filter(slug__in=[fields["slug"] for fields in SEED_CHECKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(add_seed_checks, remove_seed_checks)]
