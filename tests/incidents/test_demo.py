"""The demo incidents `make run` loads: valid, numbered without gaps, loaded once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from incidents.choices import ActionItemStatus, IncidentStatus, PostMortemStatus
from incidents.demo import OPEN_INCIDENTS, PAST_INCIDENTS, POSTMORTEMS
from incidents.models.incidents import Incident, TimelineEntry
from incidents.models.postmortems import ActionItem, PostMortem


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load():
    call_command("load_demo_data", url="http://127.0.0.1:8000/", stdout=StringIO())


@pytest.mark.django_db
class TestTheLoadedDemo:
    """What one load of the demo holds (read by each test, loaded once)."""

    def test_the_demo_has_a_history_and_incidents_being_worked_on(self, loaded_demo):
        incidents = list(Incident.objects.order_by("started_at"))
        assert len(incidents) == len(PAST_INCIDENTS) + len(OPEN_INCIDENTS)
        for incident in incidents:
            incident.full_clean()
            assert incident.timeline_entries.exists()
        open_incidents = {incident.title: incident for incident in incidents if incident.is_open}
        assert set(open_incidents) == {demo.incident.title for demo in OPEN_INCIDENTS}
        sev2 = open_incidents["Card payments declined for some issuers"]
        assert (sev2.severity, sev2.status) == ("SEV2", IncidentStatus.IDENTIFIED)
        assert sev2.team.slug == "payments" and sev2.commander.username == "priya"
        assert sev2.timeline_entries.filter(pinned=True).exists()
        gateway = open_incidents["Gateway 5xx errors for a share of requests"]
        assert [service.slug for service in gateway.services.all()] == ["api-gateway"]

    def test_timeline_entries_carry_the_times_they_describe_not_the_loading_time(self, loaded_demo):
        before = loaded_demo.began_at
        for incident in Incident.objects.all():
            times = list(incident.timeline_entries.order_by("at").values_list("at", flat=True))
            assert times[0] >= incident.started_at
            # Each step at its own moment, none in the future: not all stamped at loading.
            assert len(set(times)) == len(times) and times[-1] <= timezone.now()
        resolved = Incident.objects.exclude(resolved_at=None)
        assert not TimelineEntry.objects.filter(incident__in=resolved, at__gte=before).exists()

    def test_the_demo_has_post_mortems_in_every_state_with_action_items_some_overdue(
        self, loaded_demo
    ):
        assert set(PostMortem.objects.values_list("status", flat=True)) == set(PostMortemStatus)
        assert PostMortem.objects.count() == len(POSTMORTEMS)
        for postmortem in PostMortem.objects.all():
            postmortem.full_clean()
            assert postmortem.action_items.exists()
            assert postmortem.created_at < timezone.now() - timedelta(hours=12)
        today = timezone.localdate()
        overdue = ActionItem.objects.filter(
            status=ActionItemStatus.OPEN, due_date__lt=today, owner__username="priya"
        )
        assert overdue.exists()
        assert ActionItem.objects.filter(status=ActionItemStatus.DONE).exists()
        assert PostMortem.objects.filter(
            status=PostMortemStatus.IN_REVIEW, reviewers__username="priya"
        ).exists()
        draft = PostMortem.objects.get(status=PostMortemStatus.DRAFT)
        assert draft.is_overdue

    def test_references_follow_the_order_incidents_happened_in_without_gaps(self, loaded_demo):
        by_year = {}
        for incident in Incident.objects.order_by("started_at"):
            by_year.setdefault(incident.started_at.year, []).append(incident.reference)
        for year, references in by_year.items():
            assert references == [f"INC-{year}-{n:04d}" for n in range(1, len(references) + 1)]


@pytest.mark.django_db
def test_loading_again_adds_no_incidents(var_dir):
    load()
    counts = (
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        PostMortem.objects.count(),
        ActionItem.objects.count(),
    )
    load()
    assert (
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        PostMortem.objects.count(),
        ActionItem.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_the_load_shared_by_a_class_is_gone_after_it():
    """Runs after TestTheLoadedDemo (the file's order): its load was rolled back."""
    assert not Incident.objects.exists() and not PostMortem.objects.exists()
