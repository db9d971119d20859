"""Action items and post-mortems of the payments team around "today", 2026-03-10 (a Tuesday)."""

import datetime as dt

import pytest

from incidents.choices import ActionItemStatus, PostMortemStatus
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory

UTC = dt.UTC
TODAY = dt.date(2026, 3, 10)
#: 08:00 in UTC (the suite's TIME_ZONE) on TODAY: the digest is due.
MORNING = dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def postmortem(service, owner):
    incident = IncidentFactory(services=[service], commander=owner, title="Card payments fail")
    return PostMortemFactory(incident=incident, author=owner, status=PostMortemStatus.PUBLISHED)


def item(postmortem, owner, days_from_today, **fields):
    return ActionItemFactory(
        postmortem=postmortem,
        owner=owner,
        due_date=TODAY + dt.timedelta(days=days_from_today),
        title=fields.pop("title", f"Due in {days_from_today} days"),
        **fields,
    )


@pytest.fixture
def items(postmortem, teammate):
    """The teammate's action items: due in 3 days (not yet listed), in 2 days, today,
    3 days late, 9 days late (to the manager) and 16 days late (to SRE leads too), and one
    done while late (never listed)."""
    return {
        "in 3 days": item(postmortem, teammate, 3),
        "in 2 days": item(postmortem, teammate, 2),
        "today": item(postmortem, teammate, 0),
        "3 late": item(postmortem, teammate, -3),
        "9 late": item(postmortem, teammate, -9),
        "16 late": item(postmortem, teammate, -16),
        "done": item(postmortem, teammate, -20, status=ActionItemStatus.DONE),
    }
