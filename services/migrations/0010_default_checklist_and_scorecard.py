"""The default readiness checklist and maturity scorecard (services/defaults/*-v1.yaml), so
that every installation starts with them, and the "PRR reviewers" group; an SRE lead loads newer versions with
`load_checklist` and `load_scorecard`. The files of version 1 never change: a changed default
ships as a new file and a new migration."""

from django.db import migrations

FILES = ("production-readiness-v1.yaml", "service-maturity-v1.yaml")


def load_defaults(apps, schema_editor):
    from services.actions.standards import (
        checklist_documents,
        checklist_version_write,
        default_sources,
        scorecard_documents,
        scorecard_version_write,
    )

    checklist, scorecard = default_sources(FILES)
    for read, document in checklist_documents([checklist]):
        checklist_version_write(
            document,
            source_name=read.name,
            checklist_model=apps.get_model("services", "ReadinessChecklist"),
            category_model=apps.get_model("services", "ChecklistCategory"),
            criterion_model=apps.get_model("services", "ChecklistCriterion"),
        )
    for read, document in scorecard_documents([scorecard]):
        scorecard_version_write(
            document,
            source_name=read.name,
            scorecard_model=apps.get_model("services", "Scorecard"),
            level_model=apps.get_model("services", "ScorecardLevel"),
            rule_model=apps.get_model("services", "ScorecardRule"),
        )


def create_reviewers_group(apps, schema_editor):
    # SRE leads add people to it in the admin; its members review other teams' services.
    apps.get_model("auth", "Group").objects.get_or_create(name="PRR reviewers")


def remove_defaults(apps, schema_editor):
    apps.get_model("services", "ReadinessChecklist").objects.filter(
        key="production-readiness", version=1, reviews__isnull=True
    ).delete()
    apps.get_model("services", "Scorecard").objects.filter(
        key="service-maturity", version=1
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0009_readiness_and_scorecards"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(load_defaults, remove_defaults),
        migrations.RunPython(create_reviewers_group, migrations.RunPython.noop),
    ]
