from decimal import Decimal

from django.db import migrations

# The default policy: what a team does as its error budget runs down.
TIERS = [
    (
        "healthy",
        Decimal("0.5"),
        False,
        "allow",
        "More than half the budget is left: ship features at the usual pace.",
    ),
    (
        "caution",
        Decimal("0.1"),
        True,
        "review",
        "Between 10 % and 50 % left: slow down, and risky changes need an SRE lead's "
        "approval; reliability work comes first in planning.",
    ),
    (
        "frozen",
        None,
        True,
        "freeze",
        "Less than 10 % left, or overspent: feature releases stop; only emergency fixes "
        "and reliability improvements ship until the budget recovers.",
    ),
]


def create_default_policy(apps, schema_editor):
    BudgetPolicy = apps.get_model("services", "BudgetPolicy")
    BudgetPolicyTier = apps.get_model("services", "BudgetPolicyTier")
    policy, created = BudgetPolicy.objects.get_or_create(
        slug="default",
        defaults={
            "name": "Default error budget policy",
            "description": "Healthy above 50 % budget remaining, caution from 10 % to 50 %, "
            "frozen below 10 %.",
            "is_default": True,
        },
    )
    if created:
        for name, floor, included, rule, description in TIERS:
            BudgetPolicyTier.objects.create(
                policy=policy,
                name=name,
                min_remaining=floor,
                min_included=included,
                change_rule=rule,
                description=description,
            )


class Migration(migrations.Migration):
    dependencies = [("services", "0002_slos")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
