"""The change, freeze, deployment and logged-time lists sort as every list of the portal does:
text whatever its case ("Alpha", "beta", "Charlie"), in both directions, and ties broken the
same way every time, on the pages and in the API (which share their FilterSets)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.toil.change_factories import ChangeFactory, DeploymentFactory, FreezeFactory
from tests.toil.factories import ToilEntryFactory, ToilItemFactory

pytestmark = pytest.mark.django_db

# Made in this order; byte order (the C collation) would put "Charlie" before "beta".
NAMES = ["beta", "Alpha", "Charlie"]
SORTED = ["Alpha", "beta", "Charlie"]


def page_values(client, url, ordering, value):
    response = client.get(url, {"ordering": ordering})
    assert response.status_code == 200
    return [value(row) for row in response.context["page_obj"]]


def api_values(api, url, ordering, key):
    response = api.get(url, {"ordering": ordering})
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_changes_sort_by_title_whatever_the_case_in_both_directions(
    client_for, api_client_for, viewer, service
):
    for title in NAMES:
        ChangeFactory(title=title, services=[service])
    client, api = client_for(viewer), api_client_for(viewer)
    for ordering, expected in (("title", SORTED), ("-title", SORTED[::-1])):
        assert page_values(client, reverse("change_list"), ordering, lambda c: c.title) == expected
        assert api_values(api, "/api/changes/", ordering, "title") == expected


def test_changes_of_the_same_status_are_ordered_the_latest_planned_first(
    client_for, api_client_for, viewer, service
):
    now = timezone.now()
    changes = [
        ChangeFactory(window_start=now + dt.timedelta(days=days), services=[service])
        for days in (3, 1, 2)
    ]
    expected = [changes[0].pk, changes[2].pk, changes[1].pk]
    for ordering in ("status", "-status", "category"):
        pks = page_values(client_for(viewer), reverse("change_list"), ordering, lambda c: c.pk)
        assert pks == expected
        assert api_values(api_client_for(viewer), "/api/changes/", ordering, "id") == expected


def test_freezes_sort_by_name_whatever_the_case_in_both_directions(
    client_for, api_client_for, viewer
):
    for name in NAMES:
        FreezeFactory(name=name)
    client, api = client_for(viewer), api_client_for(viewer)
    for ordering, expected in (("name", SORTED), ("-name", SORTED[::-1])):
        assert page_values(client, reverse("freeze_list"), ordering, lambda f: f.name) == expected
        assert api_values(api, "/api/freeze-windows/", ordering, "name") == expected


def test_freezes_starting_together_are_ordered_by_name_whatever_the_case(
    client_for, api_client_for, viewer
):
    start = timezone.now().replace(microsecond=0)
    for name in NAMES:
        FreezeFactory(name=name, start=start)
    assert page_values(client_for(viewer), reverse("freeze_list"), "start", lambda f: f.name) == (
        SORTED
    )
    assert api_values(api_client_for(viewer), "/api/freeze-windows/", "-start", "name") == SORTED


def test_deployments_sort_by_version_whatever_the_case_in_both_directions(
    client_for, api_client_for, viewer, service
):
    for version in NAMES:
        DeploymentFactory(service=service, version=version)
    client, api = client_for(viewer), api_client_for(viewer)
    url = reverse("deployment_list")
    for ordering, expected in (("version", SORTED), ("-version", SORTED[::-1])):
        assert page_values(client, url, ordering, lambda d: d.version) == expected
        assert api_values(api, "/api/deployments/", ordering, "version") == expected


def test_deployments_of_the_same_status_are_ordered_the_latest_finished_first(
    client_for, api_client_for, viewer, service
):
    now = timezone.now()
    deployments = [
        DeploymentFactory(service=service, finished_at=now - dt.timedelta(hours=hours))
        for hours in (1, 3, 2)
    ]
    expected = [deployments[0].pk, deployments[2].pk, deployments[1].pk]
    url = reverse("deployment_list")
    for ordering in ("status", "-status"):
        assert page_values(client_for(viewer), url, ordering, lambda d: d.pk) == expected
        assert api_values(api_client_for(viewer), "/api/deployments/", ordering, "id") == expected


def test_logged_time_sorts_by_task_whatever_the_case_in_both_directions(
    client_for, api_client_for, owner, payments
):
    for task in NAMES:
        ToilEntryFactory(item=ToilItemFactory(team=payments, task=task), user=owner)
    client, api = client_for(owner), api_client_for(owner)
    url = reverse("toil_entry_mine")
    for ordering, expected in (("task", SORTED), ("-task", SORTED[::-1])):
        assert page_values(client, url, ordering, lambda e: e.item.task) == expected
        assert api_values(api, "/api/toil-entries/", ordering, "task") == expected


def test_logged_time_of_the_same_length_is_ordered_newest_first(
    client_for, api_client_for, owner, payments
):
    item = ToilItemFactory(team=payments)
    entries = [
        ToilEntryFactory(item=item, user=owner, date=dt.date(2026, 3, day)) for day in (3, 1, 2)
    ]
    expected = [entries[0].pk, entries[2].pk, entries[1].pk]
    url = reverse("toil_entry_mine")
    for ordering in ("minutes", "-minutes"):
        assert page_values(client_for(owner), url, ordering, lambda e: e.pk) == expected
        assert api_values(api_client_for(owner), "/api/toil-entries/", ordering, "id") == expected
