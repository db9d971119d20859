"""The toil admin for SRE leads: its pages open, and saving goes through the actions, so the
inventory's rules hold and the months are marked for recompute."""

import pytest
from django.urls import reverse

from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil.models.inventory import TeamToilMonthDirty, ToilItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(frozen_time, rings_off):
    return rings_off


@pytest.mark.parametrize(
    "name",
    ["toil_toilitem", "toil_toilentry", "toil_teamtoilcapacity", "toil_teamtoilmonth"],
)
def test_an_sre_lead_opens_each_admin_list(as_user, sre_lead, name, payments, owner):
    ToilEntryFactory(item=ToilItemFactory(team=payments), user=owner)
    response = as_user("sre_lead").get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


def test_an_engineer_has_no_admin(as_user, owner):
    response = as_user("owner").get(reverse("admin:toil_toilitem_changelist"))
    assert response.status_code == 302


def test_an_item_saved_in_the_admin_goes_through_the_action(as_user, sre_lead, payments, service):
    TeamToilMonthDirty.objects.all().delete()
    response = as_user("sre_lead").post(
        reverse("admin:toil_toilitem_add"),
        {
            "team": payments.pk,
            "services": [service.pk],
            "task": "Refunds by hand",
            "description": "",
            "category": "requests",
            "frequency": "3",
            "frequency_unit": "week",
            "minutes_each": "20",
            "automation_potential": "2",
            "manual": "on",
            "repetitive": "on",
            "status": "automated",
            "automation_effort_hours": "",
            "automation_url": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    item = ToilItem.objects.get()
    assert (item.created_by, list(item.services.all())) == (sre_lead, [service])
    assert item.automated_on is not None and item.baseline_monthly_hours == pytest.approx(52 / 12)
    assert TeamToilMonthDirty.objects.filter(team=payments).exists()
    change = as_user("sre_lead").get(reverse("admin:toil_toilitem_change", args=[item.pk]))
    assert change.status_code == 200


def test_a_bad_item_is_refused_in_the_admin(as_user, sre_lead, payments):
    response = as_user("sre_lead").post(
        reverse("admin:toil_toilitem_add"),
        {
            "team": payments.pk,
            "task": "Refunds",
            "category": "requests",
            "frequency": "3",
            "frequency_unit": "week",
            "minutes_each": "0",
            "automation_potential": "7",
            "status": "manual",
        },
    )
    assert response.status_code == 200
    assert {"minutes_each", "automation_potential"} <= set(
        response.context["adminform"].form.errors
    )
    assert not ToilItem.objects.exists()
