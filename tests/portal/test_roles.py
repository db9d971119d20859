"""portal.roles asks the services app who edits which team through its selector, named in
settings, so that the portal's infrastructure imports no app."""

import ast
from pathlib import Path

import pytest

import portal.roles
from portal.roles import can_edit_team_records, editable_team_ids

pytestmark = pytest.mark.django_db

PORTAL = Path(portal.roles.__file__).parent
INFRASTRUCTURE = [
    PORTAL / "roles.py",
    PORTAL / "errors.py",
    PORTAL / "middleware.py",
    PORTAL / "safe_yaml.py",
    *sorted((PORTAL / "api").glob("*.py")),
]


def only_the_search_team(user):
    from services.models.catalog import Team

    return frozenset(Team.objects.filter(slug="search").values_list("pk", flat=True))


def test_team_rights_come_from_the_selector_the_settings_name(owner, search_team, settings):
    settings.PORTAL_EDITABLE_TEAM_IDS = "tests.portal.test_roles.only_the_search_team"

    assert editable_team_ids(owner) == frozenset({search_team.pk})
    assert can_edit_team_records(owner, search_team.pk)
    assert not can_edit_team_records(owner, owner.memberships.get().team_id)


def test_by_default_an_engineer_edits_their_teams_and_a_viewer_none(owner, viewer, payments):
    assert editable_team_ids(owner) == frozenset({payments.pk})
    assert editable_team_ids(viewer) == frozenset()


@pytest.mark.parametrize("module", INFRASTRUCTURE, ids=lambda path: path.name)
def test_portal_infrastructure_imports_no_app(module):
    tree = ast.parse(module.read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    assert not imported & {"services", "incidents"}
    assert ".memberships" not in module.read_text()


def test_a_signed_in_user_s_groups_come_with_the_user_and_answer_without_a_query(
    viewer, django_assert_num_queries
):
    from django.contrib.auth.models import Group

    from portal.roles import RoleBackend, in_group

    for name in ("Change approvers", "PRR reviewers"):  # the migrations may have made them
        viewer.groups.add(Group.objects.get_or_create(name=name)[0])
    with django_assert_num_queries(1):
        user = RoleBackend().get_user(viewer.pk)
    with django_assert_num_queries(0):
        assert in_group(user, "Change approvers")
        assert in_group(user, "PRR reviewers")
        assert not in_group(user, "SRE lead")
    # A user read some other way (a token, a factory) is asked.
    with django_assert_num_queries(1):
        assert in_group(viewer, "Change approvers")
