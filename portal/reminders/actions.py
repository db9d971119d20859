"""Planning and sending the daily digests.

``digests_plan`` runs every quarter of an hour (beat): for each person whose day has reached
08:00 in their time zone and who has no digest for that day yet, it gathers what is theirs
(portal.reminders.providers) and what is overdue in their teams (escalations), and writes one
Digest row per person and day — before anything is sent. ``digest_send`` claims a row and
sends it; the sweep picks up rows whose ring was lost or whose retry time has come.
"""

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from portal import doorbell, notifications
from portal.profile.selectors import zones_and_digest_choices
from portal.reminders import selectors
from portal.reminders.choices import DigestStatus, Escalation
from portal.reminders.models import Digest, ReminderHistory
from portal.reminders.providers import PROVIDERS, DigestContext, DigestItem, Provider
from services.choices import MembershipRole
from services.selectors import catalog as service_selectors

logger = logging.getLogger(__name__)

#: The digest goes out once the person's day has reached this time, in their zone.
DIGEST_TIME = dt.time(8, 0)
#: Sends of one digest before it is given up as failed.
MAX_ATTEMPTS = 8
#: A digest claimed this long ago and still "sending" was interrupted (its worker died):
#: longer than any task may run (CELERY_TASK_TIME_LIMIT).
INTERRUPTED_AFTER = dt.timedelta(minutes=15)
ESCALATION_KIND = "escalated"
_OFF_SALT = "portal.reminders.digest-off"


def escalation_level(days_late: int) -> int:
    """How far up an item this many days overdue goes: more than ESCALATE_TO_MANAGER_DAYS to
    its team's manager, more than ESCALATE_TO_SRE_LEADS_DAYS to the SRE leads too."""
    if days_late > settings.ESCALATE_TO_SRE_LEADS_DAYS:
        return Escalation.SRE_LEADS
    if days_late > settings.ESCALATE_TO_MANAGER_DAYS:
        return Escalation.MANAGER
    return Escalation.NONE


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after the n-th failed attempt: 30 s, 1 min, 2 min, … at most 30 min."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 30 * 60))


@dataclass
class PlannedDigest:
    user: object
    day: dt.date
    groups: list[dict]
    item_count: int = 0
    escalated_count: int = 0


@dataclass
class DigestPlan:
    """What a planning run decided: the digests to send, the people with nothing due, and
    those skipped for want of an email address."""

    digests: list[PlannedDigest] = field(default_factory=list)
    nothing_due: list[object] = field(default_factory=list)
    without_address: list[object] = field(default_factory=list)


def _item_data(provider: Provider, item: DigestItem, today, level, team_names) -> dict:
    return {
        "kind": provider.kind,
        "kind_label": provider.label,
        "object_id": item.object_id,
        "title": item.title,
        "url": item.url,
        "due": item.due.isoformat() if item.due else None,
        "days_late": item.days_late(today),
        "who": item.who,
        "team": team_names.get(item.team_id, ""),
        "escalation": int(level),
    }


def _people_due(now: dt.datetime, day: dt.date | None) -> dict[int, tuple[object, dt.date, bool]]:
    """{user id: (user, their day, digest wanted)} for the people whose digest of the day is
    due now and not yet planned."""
    people = list(selectors.active_people())
    choices = zones_and_digest_choices([person.pk for person in people])
    due = {}
    for person in people:
        zone, enabled = choices[person.pk]
        if day is None:
            local = now.astimezone(zoneinfo.ZoneInfo(zone))
            if local.time() < DIGEST_TIME:
                continue
            their_day = local.date()
        else:
            their_day = day
        due[person.pk] = (person, their_day, enabled)
    if due:
        planned = set(
            Digest.objects.filter(
                user_id__in=list(due), day__in={their_day for _, their_day, _ in due.values()}
            ).values_list("user_id", "day")
        )
        due = {pk: row for pk, row in due.items() if (pk, row[1]) not in planned}
    return due


def digests_plan(*, now: dt.datetime, day: dt.date | None = None, dry_run=False) -> DigestPlan:
    """Plan the digests due at ``now`` (or, with ``day``, everyone's digest of that day, as
    ``manage.py send_reminders --date`` does) and, unless ``dry_run``, record them and ring
    for their sending. Items are late by the portal's calendar (TIME_ZONE)."""
    plan = DigestPlan()
    due = _people_due(now, day)
    if not due:
        return plan
    today = day or timezone.localdate(now)
    managers = service_selectors.team_managers()
    team_people = service_selectors.team_member_ids(MembershipRole.ENGINEER)
    for team_id, manager_id in managers.items():
        team_people.setdefault(team_id, set()).add(manager_id)
    team_names = {pk: name for pk, _slug, name in service_selectors.team_choices()}
    sre_leads = selectors.sre_lead_ids()
    context = DigestContext(
        today=today,
        now=now,
        people={pk: row[0] for pk, row in due.items()},
        team_people=team_people,
    )
    own: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    escalated: dict[int, list[dict]] = defaultdict(list)
    reached: dict[tuple[str, str], tuple[str, int, set[int]]] = {}
    for provider in PROVIDERS:
        for item in provider.gather(context):
            level = escalation_level(item.days_late(today))
            data = _item_data(provider, item, today, level, team_names)
            for recipient in item.recipient_ids:
                own[recipient][provider.kind].append(data)
            above = set()
            if level >= Escalation.MANAGER and item.team_id in managers:
                above.add(managers[item.team_id])
            if level >= Escalation.SRE_LEADS:
                above |= sre_leads
            above -= set(item.recipient_ids)
            for person in above:
                escalated[person].append(data)
            reached[(provider.kind, item.object_id)] = (
                item.title,
                level,
                set(item.recipient_ids) | above,
            )
    labels = {provider.kind: provider.label for provider in PROVIDERS}
    rows = []
    for pk, (person, their_day, enabled) in due.items():
        groups = []
        if enabled:
            groups = [
                {"kind": kind, "label": labels[kind], "escalated": False, "items": items}
                for kind, items in own.get(pk, {}).items()
            ]
        count = sum(len(group["items"]) for group in groups)
        mine_above = escalated.get(pk, [])
        if mine_above:
            groups.append(
                {
                    "kind": ESCALATION_KIND,
                    "label": "Overdue in your teams",
                    "escalated": True,
                    "items": sorted(mine_above, key=lambda data: -data["days_late"]),
                }
            )
        planned = PlannedDigest(person, their_day, groups, count + len(mine_above), len(mine_above))
        status = DigestStatus.PENDING
        error = ""
        if not planned.item_count:
            plan.nothing_due.append(person)
            status = DigestStatus.NOTHING_DUE
        elif not person.email:
            plan.without_address.append(person)
            status, error = DigestStatus.FAILED, "The account has no email address."
        else:
            plan.digests.append(planned)
        rows.append(
            Digest(
                user=person,
                day=their_day,
                address=person.email,
                status=status,
                items=groups,
                item_count=planned.item_count,
                escalated_count=planned.escalated_count,
                last_error=error,
            )
        )
    if plan.without_address:
        logger.warning(
            "Digests skipped, no email address: %s",
            ", ".join(person.username for person in plan.without_address),
        )
    if dry_run:
        return plan
    sent_to = {planned.user.pk for planned in plan.digests}
    with transaction.atomic():
        Digest.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        _histories_record(
            [
                (kind, object_id, title, level)
                for (kind, object_id), (title, level, people) in reached.items()
                if people & sent_to
            ],
            today,
        )
        pending = Digest.objects.filter(
            status=DigestStatus.PENDING,
            user_id__in=sent_to,
            day__in={planned.day for planned in plan.digests},
        ).values_list("pk", flat=True)
        from portal.reminders import tasks

        for digest_id in pending:
            doorbell.ring_on_commit(tasks.send_digest, digest_id)
    return plan


def _histories_record(items: list[tuple[str, str, str, int]], day: dt.date) -> None:
    """Upsert each item's reminder history in one statement per thousand: a day counts once
    however often the planner runs, and the escalation only ever rises."""
    table = ReminderHistory._meta.db_table
    for start in range(0, len(items), 1000):
        batch = items[start : start + 1000]
        values = ", ".join(["(%s, %s, %s, %s, %s, 1, %s, %s)"] * len(batch))
        parameters = []
        for kind, object_id, title, level in batch:
            parameters += [
                kind,
                object_id,
                title[:300],
                day,
                day,
                level,
                day if level else None,
            ]
        sql = f"""
            INSERT INTO {table} (kind, object_id, title, first_reminded_on, last_reminded_on,
                                 times_reminded, escalation, escalated_on)
            VALUES {values}
            ON CONFLICT (kind, object_id) DO UPDATE SET
                title = excluded.title,
                times_reminded = {table}.times_reminded + CASE
                    WHEN {table}.last_reminded_on < excluded.last_reminded_on THEN 1 ELSE 0 END,
                last_reminded_on = CASE
                    WHEN {table}.last_reminded_on < excluded.last_reminded_on
                    THEN excluded.last_reminded_on ELSE {table}.last_reminded_on END,
                escalated_on = CASE WHEN excluded.escalation > {table}.escalation
                    THEN excluded.escalated_on ELSE {table}.escalated_on END,
                escalation = CASE WHEN excluded.escalation > {table}.escalation
                    THEN excluded.escalation ELSE {table}.escalation END
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)


# --- sending ------------------------------------------------------------------------------------


def digest_off_token(user) -> str:
    return signing.Signer(salt=_OFF_SALT).sign(str(user.pk))


def digest_off_user_id(token: str) -> int | None:
    """The id of the person a digest-off link was made for; None for a forged link."""
    try:
        return int(signing.Signer(salt=_OFF_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def digest_message(digest: Digest) -> notifications.Message:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    off_url = base + reverse("digest_off", args=[digest_off_token(digest.user)])
    groups = [
        {
            **group,
            "items": [
                {**item, "due": dt.date.fromisoformat(item["due"]) if item["due"] else None}
                for item in group["items"]
            ],
        }
        for group in digest.items
    ]
    message = notifications.render_email(
        "digest",
        {"digest": digest, "person": digest.user, "groups": groups, "off_url": off_url},
        [digest.address],
    )
    return notifications.Message(
        subject=message.subject,
        text=message.text,
        html=message.html,
        to=message.to,
        headers={
            "List-Unsubscribe": f"<{off_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def digest_send(*, digest_id: int, now: dt.datetime | None = None) -> str:
    """Send one digest if it is still to send: claim it (pending → sending) first, so that a
    second task finds nothing to do. Returns what became of it."""
    now = now or timezone.now()
    claimed = (
        selectors.digests_due(now)
        .filter(pk=digest_id)
        .update(status=DigestStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due"
    digest = Digest.objects.select_related("user").get(pk=digest_id)
    try:
        notifications.send(digest_message(digest))
    except notifications.RetryableNotificationError as error:
        if digest.attempts >= MAX_ATTEMPTS:
            Digest.objects.filter(pk=digest_id).update(
                status=DigestStatus.FAILED,
                last_error=f"Gave up after {digest.attempts} tries: {error}",
            )
            return DigestStatus.FAILED
        delay = retry_delay(digest.attempts)
        Digest.objects.filter(pk=digest_id).update(
            status=DigestStatus.PENDING, next_attempt_at=now + delay, last_error=str(error)
        )
        from portal.reminders import tasks

        doorbell.ring_on_commit(tasks.send_digest, digest_id, countdown=delay.total_seconds())
        return DigestStatus.PENDING
    except notifications.PermanentNotificationError as error:
        Digest.objects.filter(pk=digest_id).update(
            status=DigestStatus.FAILED, last_error=str(error)
        )
        return DigestStatus.FAILED
    Digest.objects.filter(pk=digest_id).update(
        status=DigestStatus.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    return DigestStatus.SENT


def digests_sweep(*, now: dt.datetime) -> int:
    """Ring for every digest due to be sent (a lost ring, a retry whose time has come), and
    give up on those a dead worker left "sending": whether the mail server took them is
    unknown, and sending twice is worse than once missing. Returns how many were rung."""
    interrupted = Digest.objects.filter(
        status=DigestStatus.SENDING, claimed_at__lt=now - INTERRUPTED_AFTER
    ).update(
        status=DigestStatus.FAILED,
        last_error="Interrupted while sending; not sent again in case it went out.",
    )
    if interrupted:
        logger.warning("%s digests were interrupted while sending.", interrupted)
    from portal.reminders import tasks

    due = list(selectors.digests_due(now).values_list("pk", flat=True)[:1000])
    for digest_id in due:
        doorbell.ring(tasks.send_digest, digest_id)
    return len(due)
