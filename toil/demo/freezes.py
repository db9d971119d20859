"""Demo freeze windows for `make run` (toil.demo.changes loads them): the organisation's
recurring weekend freeze and the Payments team's quarter close. Known by name: loading again
adds only what is missing."""

import datetime as dt
from zoneinfo import ZoneInfo

from services.models.catalog import Service
from toil.choices.changes import FreezeScope
from toil.models.changes import FreezeWindow

PARIS = ZoneInfo("Europe/Paris")


def _last_friday_afternoon(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(PARIS)
    days_back = (local.weekday() - 4) % 7 + 7
    friday = (local - dt.timedelta(days=days_back)).date()
    return dt.datetime.combine(friday, dt.time(16, 0), tzinfo=PARIS)


def load_demo_freezes(now: dt.datetime, people) -> None:
    if not FreezeWindow.objects.filter(name="Weekend freeze").exists():
        start = _last_friday_afternoon(now)
        weekend = FreezeWindow.objects.create(
            name="Weekend freeze",
            reason="Nobody ships on a weekend: fewer people are around to notice and fix.",
            scope=FreezeScope.ORGANISATION,
            start=start.astimezone(dt.UTC),
            end=(start + dt.timedelta(days=2, hours=16)).astimezone(dt.UTC),
            time_zone="Europe/Paris",
            recurrence="FREQ=WEEKLY;BYDAY=FR",
            created_by=people.get("admin"),
        )
        weekend.overriders.set([people[name] for name in ("ines",) if name in people])
    payments = Service.objects.filter(slug="payments-api").select_related("owner_team").first()
    if payments and not FreezeWindow.objects.filter(name="Payments quarter close").exists():
        start = (now + dt.timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)
        FreezeWindow.objects.create(
            name="Payments quarter close",
            reason="Finance closes the quarter's books from the payments ledger.",
            scope=FreezeScope.TEAM,
            team=payments.owner_team,
            start=start,
            end=start + dt.timedelta(days=2),
            time_zone="UTC",
            created_by=people.get("priya"),
        )
