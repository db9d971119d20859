"""Who may do what with incidents: one rule set for the UI, the admin and the API,
built on portal.roles.

- Anyone signed in reads every incident.
- Any engineer (engineer in some team) or SRE lead may declare an incident.
- The incident commander and SRE leads steer it: status, severity, roles and details.
  While it has no commander (an alert opened it), the engineers of its teams may, so
  that someone can take command.
- The engineers of its teams (the owning team and the teams of the affected services),
  the people holding one of its roles and SRE leads write its timeline (notes, key
  events).
- Its commander, its communications lead and SRE leads send its status updates.
- Only people who may act in it hold one of its roles (commander, tech lead, communications
  lead, scribe): the engineers of its teams and SRE leads, never a viewer.
"""

from rest_framework import permissions

from incidents.choices import IncidentRole
from portal.roles import editable_team_ids, is_sre_lead


def can_declare(user) -> bool:
    return is_sre_lead(user) or bool(editable_team_ids(user))


def incident_team_ids(incident) -> set[int]:
    """The owning team and the teams of the affected services (uses prefetched services)."""
    team_ids = {service.owner_team_id for service in incident.services.all()}
    if incident.team_id is not None:
        team_ids.add(incident.team_id)
    return team_ids


def _is_team_engineer(user, incident) -> bool:
    return bool(editable_team_ids(user) & incident_team_ids(incident))


def may_hold_role(user, team_ids: set[int]) -> bool:
    """May the user hold a role in an incident of these teams (its owning team and the teams
    of its affected services)? Its teams' engineers and SRE leads; an incident without any
    team (an alert that named no known service) takes any engineer."""
    if not user.is_active:
        return False
    if is_sre_lead(user):
        return True
    engineer_of = editable_team_ids(user)
    return bool(engineer_of & team_ids) if team_ids else bool(engineer_of)


def role_refusal(user) -> str:
    name = user.get_full_name() or user.get_username()
    return (
        f"{name} cannot hold an incident role: only engineers of the incident's teams and "
        "SRE leads can."
    )


def can_command(user, incident) -> bool:
    """May the user change the incident's status, severity, roles and details?"""
    if not user.is_authenticated:
        return False
    if is_sre_lead(user):
        return True
    if incident.commander_id is None:
        return _is_team_engineer(user, incident)
    return incident.commander_id == user.pk


def can_write_timeline(user, incident) -> bool:
    """May the user add notes to the incident and mark its key events?"""
    if not user.is_authenticated:
        return False
    role_holder_ids = {getattr(incident, f"{role}_id") for role in IncidentRole.values}
    return is_sre_lead(user) or user.pk in role_holder_ids or _is_team_engineer(user, incident)


def can_send_status_updates(user, incident) -> bool:
    """Whoever commands the incident, and its communications lead, speak for it."""
    return can_command(user, incident) or (
        user.is_authenticated and user.pk == incident.communications_lead_id
    )


class IncidentPermission(permissions.BasePermission):
    """The rules above for the incident API: reads for everyone signed in, declaring for
    engineers, timeline writes (``TIMELINE_ACTIONS``) for its teams and role holders, status
    updates for whoever speaks for it, every other change for whoever commands it."""

    TIMELINE_ACTIONS = frozenset({"notes", "pin"})

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if view.action == "create":
            return can_declare(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        # Drafting a status update is the first step of sending one, as in the UI.
        sending = view.action == "status_updates" and request.method == "POST"
        if sending or view.action == "status_update_draft":
            return can_send_status_updates(request.user, obj)
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in self.TIMELINE_ACTIONS:
            return can_write_timeline(request.user, obj)
        return can_command(request.user, obj)
