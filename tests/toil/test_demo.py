"""The demo toil `make run` loads: the seeds' rows over the demo teams, months of logged time,
a team over the cap, an automated item whose savings are measured; loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command

from toil.choices.toil import ToilStatus
from toil.models.inventory import TeamToilMonth, ToilEntry, ToilItem
from toil.selectors.toil import item_hours_saved

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path, rings_off):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load():
    call_command("load_demo_data", url="http://127.0.0.1:8000/", stdout=StringIO())


def test_the_demo_has_the_seeds_toil_logged_time_and_its_figures(var_dir):
    load()
    hours = {
        (item.team.slug, item.task): item.monthly_minutes / 60
        for item in ToilItem.objects.select_related("team")
    }
    assert hours[("platform", "Manual deployments")] == 25
    assert hours[("payments", "Alert investigation")] == 25
    roi = ToilItem.objects.get(task="Manual deployment approval").roi_score
    assert roi == 1500
    assert ToilEntry.objects.count() > 300
    assert ToilEntry.objects.dates("date", "month").count() >= 3
    # One team over the cap, the others within it.
    over = set(TeamToilMonth.objects.filter(over_cap=True).values_list("team__slug", flat=True))
    assert over == {"data"}
    (automated,) = ToilItem.objects.filter(status=ToilStatus.AUTOMATED)
    assert item_hours_saved(automated) > 0
    assert TeamToilMonth.objects.filter(team=None).count() == 12


def test_loading_the_demo_twice_adds_no_toil(var_dir):
    load()
    before = (ToilItem.objects.count(), ToilEntry.objects.count())
    load()
    assert (ToilItem.objects.count(), ToilEntry.objects.count()) == before
