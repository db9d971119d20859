"""The demo incidents `make run` loads: valid, numbered without gaps, loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command

from incidents.choices import IncidentStatus
from incidents.demo import OPEN_INCIDENT, PAST_INCIDENTS
from incidents.models.incidents import Incident, TimelineEntry


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load():
    call_command("load_demo_data", url="http://127.0.0.1:8000/", stdout=StringIO())


@pytest.mark.django_db
def test_the_demo_has_a_history_and_one_incident_being_worked_on(var_dir):
    load()
    incidents = list(Incident.objects.order_by("started_at"))
    assert len(incidents) == len(PAST_INCIDENTS) + 1
    for incident in incidents:
        incident.full_clean()
        assert incident.timeline_entries.exists()
    (open_incident,) = [incident for incident in incidents if incident.is_open]
    assert open_incident.title == OPEN_INCIDENT.title
    assert open_incident.status == IncidentStatus.IDENTIFIED
    assert open_incident.commander.username == OPEN_INCIDENT.commander
    assert open_incident.timeline_entries.filter(pinned=True).exists()


@pytest.mark.django_db
def test_references_follow_the_order_incidents_happened_in_without_gaps(var_dir):
    load()
    by_year = {}
    for incident in Incident.objects.order_by("started_at"):
        by_year.setdefault(incident.started_at.year, []).append(incident.reference)
    for year, references in by_year.items():
        assert references == [f"INC-{year}-{n:04d}" for n in range(1, len(references) + 1)]


@pytest.mark.django_db
def test_loading_again_adds_no_incidents(var_dir):
    load()
    counts = (Incident.objects.count(), TimelineEntry.objects.count())
    load()
    assert (Incident.objects.count(), TimelineEntry.objects.count()) == counts
