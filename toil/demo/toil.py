"""Demo toil for `make run` (portal.demo loads it): the rows of two teams' toil spreadsheets
spread over the demo teams, a few months of logged time, one team over the cap (Data: one
engineer backfilling pipeline runs by hand) and one item automated, with the hours it saved
measured. Loading again adds nothing: items are known by team and task, and time is logged
only for a team that has none yet.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from services.models.catalog import Team
from toil import roi
from toil.actions.toil import toil_item_create, toil_item_update, toil_months_refresh
from toil.choices.toil import FrequencyUnit, ToilCategory, ToilStatus
from toil.models.inventory import ToilEntry, ToilItem, organisation_today


@dataclass(frozen=True)
class DemoToil:
    team: str
    task: str
    frequency: int
    minutes: int
    potential: int
    category: str
    logged_by: tuple[str, ...]
    unit: str = FrequencyUnit.MONTH
    effort_hours: int | None = None
    description: str = ""
    # How the time really taken compares with the estimate (1: as estimated).
    reality: float = 1.0


ITEMS = [
    DemoToil(
        "platform",
        "Manual deployments",
        50,
        30,
        5,
        ToilCategory.RELEASES,
        ("ines", "david"),
        effort_hours=80,
        description="Running the release checklist and the deploy script by hand.",
    ),
    DemoToil(
        "search",
        "Log analysis",
        20,
        45,
        3,
        ToilCategory.INTERRUPTS,
        ("nora", "sam"),
        effort_hours=60,
        reality=1.4,
    ),
    DemoToil(
        "identity",
        "Certificate renewal",
        4,
        60,
        5,
        ToilCategory.MANUAL_OPERATIONS,
        ("aisha", "kenji"),
        effort_hours=16,
        description="Renewing and rolling out the sign-in service's certificates.",
    ),
    DemoToil("data", "Database maintenance", 8, 90, 3, ToilCategory.MANUAL_OPERATIONS, ("mei",)),
    DemoToil(
        "payments",
        "Alert investigation",
        100,
        15,
        5,
        ToilCategory.ON_CALL,
        ("priya", "marco"),
        effort_hours=120,
        reality=1.2,
    ),
    DemoToil(
        "checkout",
        "Manual deployment approval",
        20,
        15,
        5,
        ToilCategory.RELEASES,
        ("lena", "tomas"),
        effort_hours=24,
    ),
    DemoToil(
        "payments",
        "Log analysis for incidents",
        8,
        45,
        4,
        ToilCategory.INTERRUPTS,
        ("priya", "marco"),
    ),
    DemoToil(
        "platform",
        "Certificate renewal",
        1,
        30,
        5,
        ToilCategory.MANUAL_OPERATIONS,
        ("ines",),
        effort_hours=8,
    ),
    DemoToil(
        "data",
        "Backfill failed pipeline runs",
        7,
        150,
        4,
        ToilCategory.MANUAL_OPERATIONS,
        ("mei",),
        unit=FrequencyUnit.WEEK,
        effort_hours=40,
        description="Re-running the nightly jobs that failed, one partition at a time.",
        reality=1.6,
    ),
    DemoToil(
        "checkout",
        "Refund requests from support",
        3,
        20,
        2,
        ToilCategory.REQUESTS,
        ("tomas",),
        unit=FrequencyUnit.WEEK,
    ),
]

#: The item automated part-way through the demo's history, and how many days ago.
AUTOMATED = ("identity", "Certificate renewal")
AUTOMATED_DAYS_AGO = 20
#: Months of logged time before this one.
LOGGED_MONTHS = 3


@transaction.atomic
def load_demo_toil(now: datetime) -> None:
    teams = {team.slug: team for team in Team.objects.filter(slug__in={d.team for d in ITEMS})}
    people = {
        user.username: user
        for user in get_user_model().objects.filter(
            username__in={name for demo in ITEMS for name in demo.logged_by}
        )
    }
    rng = random.Random(20260301)
    today = organisation_today(now)
    first_day = roi.add_months(roi.month_start(today), -LOGGED_MONTHS)
    automated_on = today - timedelta(days=AUTOMATED_DAYS_AGO)
    logged_teams = set(
        ToilEntry.objects.filter(item__team__in=teams.values()).values_list(
            "item__team__slug", flat=True
        )
    )
    for demo in ITEMS:
        team = teams.get(demo.team)
        if team is None:
            continue
        item = ToilItem.objects.filter(team=team, task__iexact=demo.task).first()
        if item is None:
            item = toil_item_create(
                team=team,
                task=demo.task,
                description=demo.description,
                category=demo.category,
                frequency=demo.frequency,
                frequency_unit=demo.unit,
                minutes_each=demo.minutes,
                automation_potential=demo.potential,
                automation_effort_hours=demo.effort_hours,
            )
        if demo.team in logged_teams:
            continue
        is_automated = (demo.team, demo.task) == AUTOMATED
        entries = _entries(
            item,
            demo,
            [people[name] for name in demo.logged_by if name in people],
            first_day,
            today,
            rng,
            stop=automated_on if is_automated else None,
        )
        ToilEntry.objects.bulk_create(entries)
        if is_automated and item.status != ToilStatus.AUTOMATED:
            toil_item_update(
                item=item,
                status=ToilStatus.AUTOMATED,
                automated_on=automated_on,
                automation_url="https://git.example.com/identity/cert-renewal/pull/42",
            )
            # What automation still leaves: a look at the renewal report now and then.
            residual = ToilEntry(
                item=item,
                user=people.get(demo.logged_by[0]),
                date=min(automated_on + timedelta(days=5), today),
                minutes=20,
                note="Checked the automated renewal's report.",
            )
            residual.full_clean()
            residual.save()
    toil_months_refresh(now=now)


def _entries(item, demo, people, first_day, today, rng, *, stop=None) -> list[ToilEntry]:
    """The time the team logged on the item since ``first_day``: about as often as the item
    says, each time about as long, times how far reality is off the estimate."""
    if not people:
        return []
    entries = []
    last = min(today, stop - timedelta(days=1)) if stop else today
    for month in roi.months_between(first_day, last):
        occurrences = round(roi.occurrences_per_month(demo.frequency, demo.unit))
        days = roi.days_in_month(month)
        for _ in range(max(1, round(occurrences * rng.uniform(0.85, 1.15)))):
            day = month + timedelta(days=rng.randrange(days))
            if day > last:
                continue
            minutes = max(5, round(demo.minutes * demo.reality * rng.uniform(0.7, 1.3)))
            entry = ToilEntry(
                item=item,
                user=rng.choice(people),
                date=day,
                minutes=min(minutes, 1440),
                note="",
            )
            entry.full_clean()
            entries.append(entry)
    return entries
