"""Who may do what: one rule set shared by the UI, the admin and the API.

Roles:
- viewer: any signed-in user; reads everything.
- engineer: a member of a team with the engineer role; edits that team's records.
- SRE lead: a member of the "SRE lead" group (or a superuser); edits everything,
  uses the admin site and approves.

Team-scoped records expose the id of the team that owns them as ``team_id``
(a property where the field has another name), so one check serves every app.
"""

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.utils.module_loading import import_string
from rest_framework import permissions

SRE_LEAD_GROUP = "SRE lead"
ENGINEER = "engineer"
VIEWER = "viewer"


def is_sre_lead(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or in_group(user, SRE_LEAD_GROUP)


def _in_group_sql(user_column: str) -> str:
    """SQL that is true when the user `user_column` names is in the group named by the
    statement's next parameter."""
    quote = connection.ops.quote_name
    groups = quote(Group._meta.db_table)
    members = quote(get_user_model().groups.through._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {members} JOIN {groups} ON {groups}.id = {members}.group_id "
        f"WHERE {members}.user_id = {user_column} AND {groups}.name = %s)"
    )


def _in_group(user_id, group_name: str) -> bool:
    """Whether the user is in the named group. Every page asks (the navigation shows the
    admin to SRE leads): written as SQL, the question costs a sixth of what building the
    ORM's EXISTS query does."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_in_group_sql('%s')}", [user_id, group_name])
        return bool(cursor.fetchone()[0])


def _group_names_sql(user_column: str) -> str:
    """SQL giving the names of the groups of the user `user_column` names: an array on
    PostgreSQL, a JSON array (text) on SQLite."""
    quote = connection.ops.quote_name
    groups = quote(Group._meta.db_table)
    members = quote(get_user_model().groups.through._meta.db_table)
    joined = (
        f"FROM {members} JOIN {groups} ON {groups}.id = {members}.group_id "
        f"WHERE {members}.user_id = {user_column}"
    )
    if connection.vendor == "postgresql":
        return f"ARRAY(SELECT {groups}.name {joined})"
    return f"(SELECT json_group_array({groups}.name) {joined})"


def in_group(user, group_name: str) -> bool:
    """Whether the user is in the named group: read from the groups the user's own statement
    brought (RoleBackend.get_user), else asked once per user object and group (a user read
    another way: a token's, a test's)."""
    if not user.is_authenticated:
        return False
    names = getattr(user, "_group_names", None)
    if names is not None:
        return group_name in names
    asked = user.__dict__.setdefault("_groups_asked", {})
    if group_name not in asked:
        asked[group_name] = _in_group(user.pk, group_name)
    return asked[group_name]


def forget_groups(user) -> None:
    """Drop what this user object knows of its groups, after they changed."""
    for name in ("_group_names", "_groups_asked"):
        user.__dict__.pop(name, None)


def note_editable_team_ids(user, team_ids) -> None:
    """Remember the teams the user edits when a caller has read them in a query of its own
    (the home page reads the person's teams with whether they edit them), so that
    ``editable_team_ids`` does not ask again within the request."""
    user._editable_team_ids = frozenset(team_ids)


def editable_team_ids(user) -> frozenset[int]:
    """Ids of the teams whose records the user may edit as an engineer (one query, cached)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_editable_team_ids", None)
    if cached is None:
        cached = frozenset(import_string(settings.PORTAL_EDITABLE_TEAM_IDS)(user))
        user._editable_team_ids = cached
    return cached


def can_edit_team_records(user, team_id) -> bool:
    """May the user create, change or delete records owned by this team?"""
    return is_sre_lead(user) or (team_id is not None and team_id in editable_team_ids(user))


def can_edit(user, obj) -> bool:
    return can_edit_team_records(user, obj.team_id)


def can_create_anything(user) -> bool:
    """Does the user edit at least one team's records (so "add" buttons make sense)?"""
    return is_sre_lead(user) or bool(editable_team_ids(user))


def grant_sre_lead(user) -> None:
    group, _ = Group.objects.get_or_create(name=SRE_LEAD_GROUP)
    user.groups.add(group)
    forget_groups(user)


def role_context(request):
    """Template context: the signed-in user's global role, for navigation."""
    user = getattr(request, "user", AnonymousUser())
    return {"user_is_sre_lead": is_sre_lead(user)}


class IsSRELeadOrReadOnly(permissions.BasePermission):
    """Everyone signed in reads; SRE leads write (teams, memberships)."""

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or is_sre_lead(request.user)


class TeamScopedPermission(permissions.BasePermission):
    """Everyone signed in reads; writes need edit rights on the record's owning team.

    Creation is checked by the viewset against the team named in the payload, since there
    is no object yet; but someone who edits no team's records at all is refused here, before
    the payload is read: a viewer learns nothing from validation messages, and names in the
    payload are never looked up for them.
    """

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or can_create_anything(request.user)

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or can_edit(request.user, obj)


class RoleBackend(ModelBackend):
    """Model permissions as the roles define them: SRE leads hold every permission,
    which is what opens the admin site's pages to them."""

    def get_user(self, user_id):
        """The signed-in user of a request, and whether they are an SRE lead, in one plain
        statement: every request reads its user, and every page asks the role (the
        navigation). Django's own reading goes through the ORM, about 0.3 ms of Python for
        a statement that never changes shape, and the role would be a second one."""
        User = get_user_model()
        table = connection.ops.quote_name(User._meta.db_table)
        pk = connection.ops.quote_name(User._meta.pk.column)
        users = User._default_manager.raw(
            f"SELECT {table}.*, {_group_names_sql(f'{table}.{pk}')} AS _group_names "
            f"FROM {table} WHERE {table}.{pk} = %s",
            [user_id],
        )
        user = next(iter(users), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        # Every group (SRE lead, change approvers…) comes with the same statement.
        names = user._group_names
        user._group_names = frozenset(json.loads(names) if isinstance(names, str) else names)
        return user

    def has_perm(self, user_obj, perm, obj=None):
        return is_sre_lead(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return is_sre_lead(user_obj) or super().has_module_perms(user_obj, app_label)
