from django.db import migrations

# Response times after the severity tables in the SRE handbooks the portal follows;
# SRE leads may adjust them in the admin.
SEVERITY_LEVELS = [
    (
        "SEV1",
        "Critical",
        "Complete outage of a service or loss or corruption of data; all hands, "
        "management informed.",
        5,
    ),
    (
        "SEV2",
        "Major",
        "Major functionality degraded for many users, e.g. a noticeable share of requests "
        "failing or very slow responses; the on-call engineer is paged.",
        15,
    ),
    (
        "SEV3",
        "Minor",
        "Partial or non-critical functionality impaired, or a single region degraded; "
        "the owning team is notified.",
        60,
    ),
    (
        "SEV4",
        "Low",
        "Minimal user impact or a problem that may grow later; handled as a ticket.",
        240,
    ),
]


def seed(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for code, name, description, response_minutes in SEVERITY_LEVELS:
        SeverityLevel.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "response_minutes": response_minutes,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
