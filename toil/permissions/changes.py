"""Who may do what with change requests, freezes, the gate and deployments: one rule set for
the UI, the admin and the API, built on portal.roles. Approvals have their own rules
(toil.approvals), since they depend on the change's category.

- Anyone signed in reads everything, and asks the deploy gate.
- Engineers write change requests for services of their teams; the author, the implementer,
  the engineers of the change's teams and SRE leads move it through its life.
- Freezes: SRE leads for the whole organisation; a team's engineers for their team and its
  services.
- Overrides of the gate: SRE leads.
- Deployments: the engineers of the service's team (their pipelines' tokens) and SRE leads.
- The deployment that caused an incident: whoever writes the incident's timeline.
"""

from rest_framework import permissions

from incidents.permissions import can_write_timeline
from portal.roles import can_create_anything, can_edit_team_records, editable_team_ids, is_sre_lead
from toil.choices.changes import FreezeScope


def can_write_changes(user) -> bool:
    return can_create_anything(user)


def can_change_services(user, services) -> bool:
    """May the user write a change request touching these services? SRE leads always;
    engineers when at least one of the services is their team's."""
    if is_sre_lead(user):
        return True
    team_ids = editable_team_ids(user)
    return any(service.owner_team_id in team_ids for service in services)


def can_edit_change(user, change) -> bool:
    """May the user edit the change (while a draft) and move it through its life?"""
    if not user.is_authenticated:
        return False
    if is_sre_lead(user) or user.pk in {change.author_id, change.implementer_id}:
        return True
    team_ids = {service.owner_team_id for service in change.services.all()}
    if change.team_id is not None:
        team_ids.add(change.team_id)
    return bool(editable_team_ids(user) & team_ids)


def freeze_team_id(*, scope, team=None, service=None) -> int | None:
    if scope == FreezeScope.TEAM and team is not None:
        return team.pk
    if scope == FreezeScope.SERVICE and service is not None:
        return service.owner_team_id
    return None


def can_manage_freeze(user, *, scope, team=None, service=None) -> bool:
    if scope == FreezeScope.ORGANISATION:
        return is_sre_lead(user)
    return can_edit_team_records(user, freeze_team_id(scope=scope, team=team, service=service))


def can_manage_freeze_window(user, freeze) -> bool:
    return can_manage_freeze(user, scope=freeze.scope, team=freeze.team, service=freeze.service)


def can_override_freeze(user, freeze) -> bool:
    """May the user schedule a change into the freeze?"""
    if is_sre_lead(user):
        return True
    return any(person.pk == user.pk for person in freeze.overriders.all())


def can_override_gate(user) -> bool:
    return is_sre_lead(user)


def can_report_deployment(user, service) -> bool:
    return can_edit_team_records(user, service.owner_team_id)


def can_link_incident_cause(user, incident) -> bool:
    return can_write_timeline(user, incident)


class ChangePermission(permissions.BasePermission):
    """Reads for everyone signed in; writing for engineers; changes to a change for those who
    may edit it. Approving and rejecting are checked by toil.approvals in the action."""

    DECISION_ACTIONS = frozenset({"approve", "reject"})

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if view.action == "create":
            return can_write_changes(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or view.action in self.DECISION_ACTIONS:
            return True
        return can_edit_change(request.user, obj)


class FreezePermission(permissions.BasePermission):
    message = "Only SRE leads and the frozen team's engineers change it."

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_create_anything(request.user)

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or can_manage_freeze_window(
            request.user, obj
        )


class OverridePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_override_gate(request.user)


class DeploymentPermission(permissions.BasePermission):
    """Reads for everyone; reporting for engineers (the service's team is checked against the
    payload once it is read) and SRE leads."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_create_anything(request.user)
