import datetime as dt

import factory

from tests.factories import TeamFactory, UserFactory
from toil.choices.toil import FrequencyUnit, ToilCategory
from toil.models.inventory import ToilEntry, ToilItem


class ToilItemFactory(factory.django.DjangoModelFactory):
    """Manual deployments as the inventory table has them: 50 a month, 30 minutes each."""

    class Meta:
        model = ToilItem

    team = factory.SubFactory(TeamFactory)
    task = factory.Sequence(lambda n: f"Toil task {n}")
    category = ToilCategory.RELEASES
    frequency = 50
    frequency_unit = FrequencyUnit.MONTH
    minutes_each = 30
    automation_potential = 5


class ToilEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ToilEntry

    item = factory.SubFactory(ToilItemFactory)
    user = factory.SubFactory(UserFactory)
    date = dt.date(2026, 3, 2)
    minutes = 60
