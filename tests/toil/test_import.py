"""Bringing a toil spreadsheet in (the command and the upload form) and writing it back out:
all or nothing, each bad row named with its column, re-imports update by task name."""

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil.choices.toil import FrequencyUnit, ToilCategory
from toil.models.inventory import ToilItem
from toil.spreadsheet import SpreadsheetError, read_toil_csv, write_toil_csv

pytestmark = pytest.mark.django_db

#: The inventory table of the SRE practices document, as a team keeps it.
SEED_TABLE = """Task,Frequency,Time (min),Monthly Toil,Automation Priority
Manual deployments,50/month,30,25 hours,High
Log analysis,20/month,45,15 hours,Medium
Certificate renewal,4/month,60,4 hours,High
Database maintenance,8/month,90,12 hours,Medium
Alert investigation,100/month,15,25 hours,High
"""


def run_import(text: str, team="payments") -> str:
    path = StringIO()
    from tempfile import NamedTemporaryFile

    with NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        call_command("import_toil", file.name, team=team, stdout=path)
    return path.getvalue()


def hours_by_task(team):
    return {item.task: item.monthly_minutes / 60 for item in ToilItem.objects.filter(team=team)}


def test_the_seed_table_imports_at_its_own_monthly_hours(payments, rings_off):
    output = run_import(SEED_TABLE)

    assert "5 new, 0 updated" in output
    assert hours_by_task(payments) == {
        "Manual deployments": 25,
        "Log analysis": 15,
        "Certificate renewal": 4,
        "Database maintenance": 12,
        "Alert investigation": 25,
    }
    potentials = dict(ToilItem.objects.values_list("task", "automation_potential"))
    assert potentials["Manual deployments"] == 5
    assert potentials["Log analysis"] == 3


def test_a_reimport_updates_tasks_by_name_and_duplicates_nothing(payments, rings_off):
    run_import(SEED_TABLE)
    changed = SEED_TABLE.replace("Log analysis,20/month", "log ANALYSIS,3/week")

    output = run_import(changed + "Toil reports,1/month,30,0.5 hours,Low\n")

    assert "1 new, 5 updated" in output
    assert ToilItem.objects.filter(team=payments).count() == 6
    item = ToilItem.objects.get(team=payments, task__iexact="log analysis")
    assert (item.frequency, item.frequency_unit) == (3, FrequencyUnit.WEEK)


def test_optional_columns_are_read(payments, rings_off):
    run_import(
        "Task;Frequency;Time (min);Automation potential;Category;Description\n"
        "Refunds by hand;3 per week;20;2;Requests from others;Support asks, we run SQL.\n"
    )
    item = ToilItem.objects.get()
    assert item.automation_potential == 2
    assert item.category == ToilCategory.REQUESTS
    assert item.description == "Support asks, we run SQL."


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Deploys,fifty/month,30,,High", "Row 3, column “Frequency”"),
        ("Deploys,50/day,30,,High", "Row 3, column “Frequency”"),
        ("Deploys,50/month,0,,High", "Row 3, column “Time (min)”"),
        ("Deploys,50/month,-5,,High", "Row 3, column “Time (min)”"),
        ("Deploys,50/month,half an hour,,High", "Row 3, column “Time (min)”"),
        ("Deploys,50/month,30,,Urgent", "Row 3, column “Automation Priority”"),
        (",50/month,30,,High", "Row 3, column “Task”"),
        (
            "Certificate renewal,1/month,30,,Low",
            "Row 3, column “Task”: “Certificate renewal” is already on row 2",
        ),
    ],
)
def test_a_bad_row_stops_the_import_naming_its_row_and_column(payments, row, message):
    text = "Task,Frequency,Time (min),Monthly Toil,Automation Priority\n"
    text += "Certificate renewal,4/month,60,4 hours,High\n" + row + "\n"
    with pytest.raises(CommandError, match=re.escape(message)):
        run_import(text)
    assert not ToilItem.objects.exists()


@pytest.mark.parametrize("potential", ["0", "6", "2.5"])
def test_an_automation_potential_outside_one_to_five_is_refused(payments, potential):
    with pytest.raises(CommandError, match="column “Automation potential”"):
        run_import(
            f"Task,Frequency,Time (min),Automation potential\nDeploys,5/month,30,{potential}\n"
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (
            b"Task,Frequency\nDeploys,5/month\n",
            "needs the columns “Time (min)”, “Automation Priority”",
        ),
        (b"Task,Frequency,Time (min),Automation Priority\n", "no task"),
        ("Task,Frequency\n".encode("utf-16"), "not UTF-8"),
        (b"Task,Fre\0quency", "NUL"),
    ],
)
def test_files_that_are_no_toil_table_are_refused(data, message):
    with pytest.raises(SpreadsheetError, match=re.escape(message)):
        read_toil_csv(data)


def test_an_unknown_team_or_missing_file_is_a_clear_command_error(payments):
    with pytest.raises(CommandError, match="No team has the slug “nope”"):
        run_import(SEED_TABLE, team="nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_toil", "/no/such/file.csv", team="payments")


def test_the_export_reads_back_in_as_the_same_inventory(payments, rings_off):
    run_import(SEED_TABLE)
    exported = write_toil_csv(ToilItem.objects.select_related("team").order_by("task"))
    assert "Manual deployments,50/month,30,25 hours,High,5,Manual operations" in exported

    rows = read_toil_csv(exported)
    assert {
        (row.task, row.frequency, row.minutes_each, row.automation_potential) for row in rows
    } == {
        (item.task, item.frequency, item.minutes_each, item.automation_potential)
        for item in ToilItem.objects.all()
    }


def test_exported_cells_never_run_as_formulas(payments):
    ToilItemFactory(team=payments, task='=HYPERLINK("http://x")', description="@SUM(A1)")
    exported = write_toil_csv(ToilItem.objects.select_related("team"))
    assert "'=HYPERLINK" in exported
    assert "'@SUM(A1)" in exported


# --- the upload form and the export download ---------------------------------------------------


def upload(client, text, team):
    return client.post(
        reverse("toil_import"),
        {"team": team.pk, "file": SimpleUploadedFile("toil.csv", text.encode(), "text/csv")},
    )


def test_an_engineer_imports_into_their_team(as_user, payments, rings_off):
    response = upload(as_user("owner"), SEED_TABLE, payments)
    assert response.status_code == 302
    assert response["Location"] == "/toil/?team=payments"
    assert ToilItem.objects.filter(team=payments).count() == 5


def test_a_bad_file_shows_the_row_on_the_form_and_imports_nothing(as_user, payments):
    response = upload(as_user("owner"), SEED_TABLE + "Deploys,often,30,,High\n", payments)
    assert response.status_code == 200
    assert "Row 7, column “Frequency”" in response.content.decode()
    assert not ToilItem.objects.exists()


def test_an_engineer_cannot_import_into_another_team(as_user, search_team, owner):
    response = upload(as_user("owner"), SEED_TABLE, search_team)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ToilItem.objects.exists()


def test_a_viewer_cannot_import(as_user, payments, viewer):
    assert as_user("viewer").get(reverse("toil_import")).status_code == 403


def test_everyone_exports_the_inventory_or_one_teams(as_user, payments, search_team, viewer):
    ToilItemFactory(team=payments, task="Deploys")
    ToilEntryFactory(item=ToilItemFactory(team=search_team, task="Reindex"))
    client = as_user("viewer")

    everything = client.get(reverse("toil_export"))
    ours = client.get(reverse("toil_export"), {"team": "payments"})

    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert "Deploys" in everything.content.decode() and "Reindex" in everything.content.decode()
    assert 'filename="toil-payments.csv"' in ours["Content-Disposition"]
    assert "Reindex" not in ours.content.decode()
    assert client.get(reverse("toil_export"), {"team": "nope"}).content.decode().count("\n") == 1
