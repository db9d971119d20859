from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q


def tell_which_way(apps, schema_editor):
    """A "decided" email was owed for the first decision: a rejection when one had been
    recorded by then, else the approval that completed the count."""
    ChangeNotification = apps.get_model("toil", "ChangeNotification")
    ChangeApproval = apps.get_model("toil", "ChangeApproval")
    rejected_first = ChangeApproval.objects.filter(
        change=OuterRef("change"), decision="reject", created_at__lte=OuterRef("created_at")
    )
    decided = ChangeNotification.objects.filter(kind="decided")
    decided.filter(Exists(rejected_first)).update(kind="rejected")
    decided.update(kind="approved")


def tell_as_one(apps, schema_editor):
    """Back to one email per change: where both were owed, the first of the two stays."""
    ChangeNotification = apps.get_model("toil", "ChangeNotification")
    decisions = ChangeNotification.objects.filter(kind__in=["rejected", "approved"])
    earlier = decisions.filter(change=OuterRef("change")).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    decisions.filter(Exists(earlier)).delete()
    decisions.update(kind="decided")


class Migration(migrations.Migration):
    dependencies = [
        ("toil", "0002_changes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="changenotification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("awaiting_approval", "Awaiting approval"),
                    ("rejected", "Rejected"),
                    ("approved", "Approved"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(tell_which_way, tell_as_one),
    ]
