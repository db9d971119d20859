"""The demo's change approvals: every state and category, a recurring weekend freeze, a quarter
of deployments with DORA figures, the gate's answers (a spent budget denied), loaded once."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from toil.choices.changes import ChangeCategory, ChangeStatus
from toil.models.changes import ChangeRequest, FreezeWindow, GateDecision
from toil.models.deployments import Deployment, DoraSnapshot, IncidentCause


def load():
    call_command("load_demo_data", url="http://127.0.0.1:8000/", stdout=StringIO())


def counts():
    return [
        model.objects.count()
        for model in (ChangeRequest, FreezeWindow, Deployment, IncidentCause, GateDecision)
    ]


@pytest.mark.django_db
def test_the_demo_has_every_state_a_weekend_freeze_deployments_and_a_denial(
    settings, tmp_path, time_machine
):
    settings.VAR_DIR = tmp_path
    # A Tuesday noon: during the demo's weekend freeze every answer would be a denial.
    time_machine.move_to(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
    load()
    assert set(ChangeRequest.objects.values_list("status", flat=True)) == set(ChangeStatus.values)
    assert set(ChangeRequest.objects.values_list("category", flat=True)) == set(
        ChangeCategory.values
    )
    for change in ChangeRequest.objects.all():
        change.full_clean()
        assert change.events.exists()

    weekend = FreezeWindow.objects.get(name="Weekend freeze")
    assert weekend.recurrence == "FREQ=WEEKLY;BYDAY=FR"
    assert weekend.end - weekend.start == dt.timedelta(days=2, hours=16)

    first = Deployment.objects.order_by("finished_at").first().finished_at
    last = Deployment.objects.order_by("-finished_at").first().finished_at
    assert last - first > dt.timedelta(days=80)
    assert Deployment.objects.exclude(status="succeeded").exists()
    assert IncidentCause.objects.count() == 2
    organisation = DoraSnapshot.objects.filter(key="organisation").order_by("-month")[1]
    assert organisation.deployments > 50 and organisation.lead_time is not None

    denied = GateDecision.objects.filter(decision="deny")
    assert any(
        reason["code"] == "budget_freeze" for decision in denied for reason in decision.reasons
    )
    assert GateDecision.objects.filter(decision="allow").exists()

    before = counts()
    load()
    assert counts() == before
