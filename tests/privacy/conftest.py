"""A person with a history in every app: memberships, a team they manage, an incident they
commanded (roles, notes, a status update sent to them), a post-mortem they wrote, an action
item they own, an attestation, sign-ins, an email log entry and an admin log entry."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry

from incidents.actions.incidents import (
    incident_add_note,
    incident_assign_role,
    incident_change_status,
    incident_declare,
    incident_subscribe,
)
from incidents.actions.postmortems import action_item_create, postmortem_start, postmortem_update
from incidents.actions.status_updates import status_update_queue
from incidents.choices import ActionItemPriority, IncidentRole, IncidentStatus
from portal.celery import app as celery_app
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceAttestation
from services.choices import MembershipRole
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

PASSWORD = "a long enough passphrase"


@dataclass
class Person:
    user: object
    strings: tuple[str, ...]


@pytest.fixture
def zelda(db, client, monkeypatch, smtp_sink, django_capture_on_commit_callbacks, payments, owner):
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    user = UserFactory(
        username="zelda.quint",
        first_name="Zelda",
        last_name="Quintessa",
        email="Zelda.Quint@example.org",
    )
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(user=user, team=payments, role=MembershipRole.ENGINEER)
    vault = TeamFactory(name="Vault", slug="vault", email="vault@example.test", manager=user)
    # Incident roles go to engineers of the incident's teams.
    MembershipFactory(user=user, team=vault, role=MembershipRole.ENGINEER)
    MembershipFactory(user=owner, team=vault, role=MembershipRole.ENGINEER)
    service = ServiceFactory(
        slug="card-vault", owner_team=vault, handles_personal_data=True, data_retention_days=30
    )
    # Sign-in history: one failure, one success.
    client.post("/login/", {"username": "zelda.quint", "password": "wrong"})
    client.post("/login/", {"username": "zelda.quint", "password": PASSWORD})
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_declare(
            title="Card vault refuses tokens",
            severity="SEV2",
            declared_by=user,
            services=[service],
            commander=user,
        )
        incident_assign_role(incident=incident, role=IncidentRole.SCRIBE, user=owner, by=user)
        incident_subscribe(incident=incident, user=user)
        incident_add_note(
            incident=incident, text="Zelda Quintessa is rolling back the vault.", by=user
        )
        status_update_queue(
            incident=incident,
            kind="update",
            subject="Card vault degraded",
            body="Commander: Zelda Quintessa (zelda.quint@example.org).",
            by=user,
        )
        incident_change_status(incident=incident, status=IncidentStatus.RESOLVED, by=user)
        postmortem = postmortem_start(incident=incident, by=user)
        postmortem_update(
            postmortem=postmortem,
            by=user,
            summary="Tokens expired early; zelda.quint found the clock skew.",
            reviewers=[owner],
        )
        action_item_create(
            postmortem=postmortem,
            title="Alert on clock skew",
            owner=user,
            kind="detect",
            priority=ActionItemPriority.P1,
            due_date=incident.started_at.date() + timedelta(days=30),
        )
    ComplianceAttestation.objects.create(
        compliance_check=ComplianceCheck.objects.get(slug="data-export-test"),
        service=service,
        attested_by=user,
        attested_at=incident.started_at,
        note="Exported Zelda's own record as a test.",
    )
    LogEntry.objects.log_actions(
        user_id=owner.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["Email address"]}}],
    )
    return Person(user, ("zelda", "quintessa", "quint@example"))
