"""The inventory's invariants live on its models: every write path meets them, and the
database's own figures agree with toil.roi."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests.factories import TeamFactory
from tests.toil.factories import ToilEntryFactory, ToilItemFactory
from toil import roi
from toil.choices.toil import FrequencyUnit, ToilStatus
from toil.models.inventory import ToilEntry, ToilItem

pytestmark = pytest.mark.django_db


def test_the_database_computes_monthly_minutes_roi_and_payback_as_the_domain_does():
    item = ToilItemFactory(automation_effort_hours=50)
    item.refresh_from_db()
    assert item.monthly_minutes == 1500
    assert item.roi_score == 7500
    assert item.payback_months == 2


def test_an_item_without_an_effort_estimate_has_no_payback():
    item = ToilItemFactory()
    item.refresh_from_db()
    assert item.payback_months is None


class TestGeneratedFiguresAgree(TestCase):
    @settings(max_examples=40, deadline=None)
    @given(
        frequency=st.integers(min_value=1, max_value=10_000),
        unit=st.sampled_from(FrequencyUnit.values),
        minutes=st.integers(min_value=1, max_value=7 * 24 * 60),
        potential=st.integers(min_value=1, max_value=5),
    )
    def test_for_any_item(self, frequency, unit, minutes, potential):
        item = ToilItemFactory(
            frequency=frequency,
            frequency_unit=unit,
            minutes_each=minutes,
            automation_potential=potential,
        )
        item.refresh_from_db()
        expected = roi.monthly_minutes(frequency, unit, minutes)
        assert item.monthly_minutes == expected
        assert item.roi_score == roi.roi_score(expected, potential)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes_each", 0),
        ("minutes_each", -5),
        ("frequency", 0),
        ("automation_potential", 0),
        ("automation_potential", 6),
    ],
)
def test_out_of_range_figures_are_refused_by_clean_and_by_the_database(field, value):
    item = ToilItemFactory.build(team=TeamFactory(), **{field: value})
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert field in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        ToilItem.objects.bulk_create([item])


def test_a_team_has_one_item_per_task_whatever_the_case():
    item = ToilItemFactory(task="Manual deployments")
    twin = ToilItemFactory.build(team=item.team, task="manual DEPLOYMENTS")
    with pytest.raises(ValidationError, match="already has a toil item with this task"):
        twin.full_clean()
    ToilItemFactory(task="Manual deployments")  # another team's is fine


def test_an_automated_item_needs_its_date_and_others_none():
    item = ToilItemFactory.build(team=TeamFactory(), status=ToilStatus.AUTOMATED)
    with pytest.raises(ValidationError, match="date it was automated"):
        item.full_clean()
    item = ToilItemFactory.build(team=TeamFactory(), automated_on=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError):
        item.full_clean()


def test_an_item_with_fewer_than_four_characteristics_may_not_be_toil():
    item = ToilItemFactory.build(tactical=False, no_enduring_value=False)
    assert item.characteristics_met == 4
    assert not item.may_not_be_toil
    item.grows_with_service = False
    assert item.may_not_be_toil


def test_toil_cannot_be_logged_for_a_day_to_come(frozen_time):
    entry = ToilEntryFactory.build(
        item=ToilItemFactory(), user=None, date=dt.date(2026, 3, 11), minutes=30
    )
    with pytest.raises(ValidationError) as refused:
        entry.full_clean()
    assert "date" in refused.value.message_dict


@pytest.mark.parametrize("minutes", [0, 24 * 60 + 1])
def test_logged_minutes_are_at_least_one_and_at_most_a_day(minutes):
    entry = ToilEntryFactory.build(item=ToilItemFactory(), user=None, minutes=minutes)
    with pytest.raises(ValidationError) as refused:
        entry.full_clean()
    assert "minutes" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        ToilEntry.objects.bulk_create([entry])


def test_items_keep_their_history_without_the_computed_figures():
    item = ToilItemFactory()
    item.minutes_each = 45
    item.save()
    assert [change.minutes_each for change in item.history.order_by("history_date")] == [30, 45]
    assert not hasattr(item.history.model, "roi_score")
