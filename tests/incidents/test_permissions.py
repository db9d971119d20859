"""Who may declare, steer, write the timeline of and send status updates for an incident: the
rules the UI, the admin and the API share."""

import pytest
from django.contrib.auth.models import AnonymousUser

from incidents.permissions import (
    can_command,
    can_declare,
    can_send_status_updates,
    can_write_timeline,
    incident_team_ids,
)
from tests.factories import ServiceFactory
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(owner, teammate, outsider, viewer, sre_lead):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
    }


def allowed(rule, users, *args):
    return {name for name, user in users.items() if rule(user, *args)}


def test_engineers_of_any_team_and_sre_leads_declare(users):
    assert allowed(can_declare, users) == {"owner", "teammate", "outsider", "sre_lead"}
    assert not can_declare(AnonymousUser())


def test_the_commander_and_sre_leads_steer_a_commanded_incident(users, service):
    incident = IncidentFactory(services=[service], commander=users["teammate"])
    assert allowed(can_command, users, incident) == {"teammate", "sre_lead"}


def test_the_commander_steers_even_from_another_team(users, service):
    incident = IncidentFactory(services=[service], commander=users["outsider"])
    assert allowed(can_command, users, incident) == {"outsider", "sre_lead"}


def test_without_a_commander_its_teams_engineers_may_steer(users, service):
    incident = IncidentFactory(services=[service])
    assert allowed(can_command, users, incident) == {"owner", "teammate", "sre_lead"}
    assert not can_command(AnonymousUser(), incident)


def test_an_affected_services_team_counts_as_one_of_its_teams(users, service, search_team):
    search = ServiceFactory(owner_team=search_team)
    incident = IncidentFactory(services=[search, service])
    assert incident_team_ids(incident) == {search_team.pk, service.owner_team_id}
    assert allowed(can_write_timeline, users, incident) == {
        "owner",
        "teammate",
        "outsider",
        "sre_lead",
    }


def test_role_holders_write_the_timeline_whatever_their_team(users, service):
    incident = IncidentFactory(services=[service], scribe=users["viewer"])
    assert allowed(can_write_timeline, users, incident) == {
        "owner",
        "teammate",
        "viewer",
        "sre_lead",
    }
    assert not can_write_timeline(AnonymousUser(), incident)


def test_the_commander_its_communications_lead_and_sre_leads_send_status_updates(users, service):
    incident = IncidentFactory(
        services=[service], commander=users["outsider"], communications_lead=users["viewer"]
    )
    assert allowed(can_send_status_updates, users, incident) == {"outsider", "viewer", "sre_lead"}
    assert not can_send_status_updates(AnonymousUser(), incident)


def test_without_a_commander_its_teams_engineers_send_status_updates(users, service):
    incident = IncidentFactory(services=[service])
    assert allowed(can_send_status_updates, users, incident) == {"owner", "teammate", "sre_lead"}
