"""Writes to the catalog: keyword-only, validated, atomic."""

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from services import budget, prometheus, selectors, tasks
from services.choices import BudgetingMethod, QueryKind
from services.metrics import SYNC_DURATION, SYNC_ERRORS
from services.models import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    Membership,
    Service,
    SLIBucket,
    SLOStatus,
    Tag,
    Team,
)


def tags_for_names(names: Iterable[str]) -> list[Tag]:
    """The tags with these names, created when new; names differing only in case are one tag."""
    tags = {}
    for name in names:
        name = name.strip()
        slug = slugify(name)
        if not slug:
            continue
        if slug not in tags:
            tags[slug] = Tag.objects.get_or_create(slug=slug, defaults={"name": name})[0]
    return list(tags.values())


def _set_service_relations(service: Service, *, depends_on, tags) -> None:
    if depends_on is not None:
        depends_on = list(depends_on)
        if any(dependency.pk == service.pk for dependency in depends_on):
            raise ValidationError({"depends_on": "A service cannot depend on itself."})
        service.depends_on.set(depends_on)
    if tags is not None:
        service.tags.set(tags_for_names(tags))


@transaction.atomic
def service_create(*, depends_on: Iterable[Service] = (), tags: Iterable[str] = (), **fields):
    service = Service(**fields)
    service.full_clean()
    service.save()
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    depends_on: Iterable[Service] | None = None,
    tags: Iterable[str] | None = None,
    **fields,
) -> Service:
    """Change the given fields; relations are replaced only when passed."""
    for name, value in fields.items():
        setattr(service, name, value)
    service.full_clean()
    service.save()
    _set_service_relations(service, depends_on=depends_on, tags=tags)
    return service


@transaction.atomic
def service_delete(*, service: Service) -> None:
    service.delete()


@transaction.atomic
def team_create(**fields) -> Team:
    team = Team(**fields)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: Team, **fields) -> Team:
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team that owns no services (services must be handed over first)."""
    if team.services.exists():
        raise ValidationError(
            "This team still owns services: move them to another team before deleting it."
        )
    team.delete()


@transaction.atomic
def membership_set(*, team: Team, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    membership.full_clean()
    return membership


@transaction.atomic
def slo_create(**fields) -> SLO:
    slo = SLO(**fields)
    slo.full_clean()
    slo.save()
    return slo


@transaction.atomic
def slo_update(*, slo: SLO, **fields) -> SLO:
    for name, value in fields.items():
        setattr(slo, name, value)
    slo.full_clean()
    slo.save()
    return slo


@transaction.atomic
def slo_delete(*, slo: SLO) -> None:
    """Delete an SLO with its maintenance windows, SLI data and status snapshot."""
    slo.delete()


@transaction.atomic
def maintenance_window_create(*, slo: SLO, **fields) -> MaintenanceWindow:
    window = MaintenanceWindow(slo=slo, **fields)
    window.full_clean()
    window.save()
    return window


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow) -> None:
    window.delete()


def _set_policy_tiers(policy: BudgetPolicy, tiers: Iterable[dict]) -> None:
    """Replace the policy's tiers; a policy needs exactly one bottom tier (no floor), which
    holds every budget below the others, overspent ones included."""
    tiers = [BudgetPolicyTier(policy=policy, **fields) for fields in tiers]
    if sum(tier.min_remaining is None for tier in tiers) != 1:
        raise ValidationError({"tiers": "Exactly one tier, the bottom one, has no floor."})
    names = [tier.name for tier in tiers]
    if len(set(names)) != len(names):
        raise ValidationError({"tiers": "Tier names must differ."})
    policy.tiers.all().delete()
    for tier in tiers:
        tier.full_clean(exclude=["policy"], validate_constraints=False)
    BudgetPolicyTier.objects.bulk_create(tiers)


@transaction.atomic
def budget_policy_create(*, tiers: Iterable[dict], **fields) -> BudgetPolicy:
    policy = BudgetPolicy(**fields)
    policy.full_clean()
    policy.save()
    _set_policy_tiers(policy, tiers)
    return policy


@transaction.atomic
def budget_policy_update(
    *, policy: BudgetPolicy, tiers: Iterable[dict] | None = None, **fields
) -> BudgetPolicy:
    """Change the given fields; the tiers are replaced only when passed."""
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    if tiers is not None:
        _set_policy_tiers(policy, tiers)
    return policy


@transaction.atomic
def budget_policy_delete(*, policy: BudgetPolicy) -> None:
    if policy.slos.exists():
        raise ValidationError("SLOs follow this policy: give them another one before deleting it.")
    policy.delete()


# --- SLI data and status snapshots ---------------------------------------------------------------

#: Most buckets one push may carry: a month of 5-minute buckets with room to spare.
MAX_PUSHED_BUCKETS = 10_000


@transaction.atomic
def slo_buckets_upsert(*, slo: SLO, buckets: Iterable[budget.Bucket]) -> int:
    """Store buckets, replacing those stored for the same starts, so that a re-sync or a re-push
    of a bucket never counts it twice. Returns how many buckets were written."""
    rows = {
        bucket.start: SLIBucket(slo=slo, start=bucket.start, good=bucket.good, total=bucket.total)
        for bucket in buckets
    }
    SLIBucket.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["slo", "start"],
        update_fields=["good", "total"],
        batch_size=2000,
    )
    return len(rows)


def slo_buckets_push(*, slo: SLO, buckets: Iterable[Mapping]) -> int:
    """Store buckets pushed by a source other than Prometheus: each {start, good, total} with the
    start an aware datetime on a 5-minute boundary, not in the future, and 0 <= good <= total.

    All or nothing: one bad bucket stores none, and the errors name every bad bucket by its
    position. Idempotent on start (a bucket pushed again replaces the stored one); the SLO's
    status is recomputed once the push has committed."""
    now = timezone.now()
    checked, errors, starts = [], [], set()
    for position, item in enumerate(buckets):
        try:
            bucket = _pushed_bucket(item, now)
        except (ValueError, TypeError, KeyError) as error:
            errors.append(f"Bucket {position}: {error}")
            continue
        if bucket.start in starts:
            errors.append(f"Bucket {position}: start {bucket.start.isoformat()} is given twice.")
        starts.add(bucket.start)
        checked.append(bucket)
    if not errors and not checked:
        errors.append("Push at least one bucket.")
    if len(checked) > MAX_PUSHED_BUCKETS:
        errors.append(f"Push at most {MAX_PUSHED_BUCKETS} buckets at a time.")
    if errors:
        raise ValidationError({"buckets": errors})
    with transaction.atomic():
        stored = slo_buckets_upsert(slo=slo, buckets=checked)
        tasks.recompute_slo_status.delay_on_commit(slo.pk)
    return stored


def _pushed_bucket(item: Mapping, now: datetime) -> budget.Bucket:
    start, good, total = item["start"], item["good"], item["total"]
    if not isinstance(start, datetime):
        raise TypeError("start must be a date and time.")
    for name, count in (("good", good), ("total", total)):
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"{name} must be a whole number.")
    if budget.align_down(start) != start:
        raise ValueError(f"start {start.isoformat()} must fall on a 5-minute boundary.")
    bucket = budget.Bucket(start=start, good=good, total=total)
    if bucket.start > now:
        raise ValueError(f"start {bucket.start.isoformat()} lies in the future.")
    return bucket


# Prometheus sync.
#
# The SLO's queries are in Sloth's form: events per second averaged over {{.window}}. With
# {{.window}} = 5m and the query evaluated at t, Prometheus averages the counters' increase over
# the 5 minutes ending at t, so the bucket [t - 5m, t) holds rate x 300 s events (rate() and
# increase() both handle counter resets). Prometheus extrapolates to the range's edges when
# scrapes do not fall on them, so counts are rounded to whole events. An evaluation time without
# a value (a gap in the scrapes) is a bucket without data, never a perfect one.

#: Longest range asked for in one query: Prometheus refuses more than 11,000 points per series.
SYNC_CHUNK = timedelta(days=7)


@dataclass(frozen=True)
class SyncResult:
    slo: SLO
    buckets_written: int
    status: SLOStatus


def sli_query(query: str) -> str:
    """The Sloth-form query measuring one bucket: {{.window}} becomes the bucket length."""
    return query.replace("{{.window}}", f"{budget.BUCKET // timedelta(minutes=1)}m")


def _buckets_from_rates(
    slo: SLO, events: Mapping[datetime, float], totals: Mapping[datetime, float]
) -> list[budget.Bucket]:
    """Counts per bucket from per-second rates evaluated at each bucket's end. A bucket needs a
    total; where the events query has no value (no series matched) there were no such events.
    Rounding and extrapolation may push good past total by a fraction: good is capped."""
    seconds = budget.BUCKET.total_seconds()
    buckets = []
    for evaluated_at, total_rate in sorted(totals.items()):
        if math.isnan(total_rate):
            continue
        event_rate = events.get(evaluated_at, 0.0)
        total = max(0, round(total_rate * seconds))
        counted = 0 if math.isnan(event_rate) else max(0, round(event_rate * seconds))
        good = counted if slo.query_kind == QueryKind.GOOD_TOTAL else total - counted
        buckets.append(
            budget.Bucket(
                start=evaluated_at - budget.BUCKET, good=min(max(good, 0), total), total=total
            )
        )
    return buckets


def slo_sync(*, slo: SLO, now: datetime) -> SyncResult:
    """Fetch the SLO's buckets from Prometheus since the last stored one, store them and
    recompute its status.

    The last stored bucket is fetched again (it may have been stored before its last scrape
    arrived); after an outage the backfill reaches back at most to the start of the SLO window.
    Chunks are stored as they arrive, so a failure loses nothing fetched before it. On a
    Prometheus error the status is recomputed from the stored data, marked stale with the error,
    and the error is raised again for the caller to retry (or not: see error.retryable)."""
    started = time.perf_counter()
    window_start, _ = _window(slo, now)
    last_stored = SLIBucket.objects.filter(slo=slo).aggregate(last=Max("start"))["last"]
    chunk_start = max(window_start, last_stored) if last_stored else window_start
    until = budget.align_down(now)
    written = 0
    try:
        while chunk_start < until:
            chunk_end = min(until, chunk_start + SYNC_CHUNK)
            span = {
                "start": chunk_start + budget.BUCKET,
                "end": chunk_end,
                "step": budget.BUCKET,
            }
            events = prometheus.query_range(sli_query(slo.events_query), **span)
            totals = prometheus.query_range(sli_query(slo.total_query), **span)
            written += slo_buckets_upsert(slo=slo, buckets=_buckets_from_rates(slo, events, totals))
            chunk_start = chunk_end
    except prometheus.PrometheusError as error:
        SYNC_ERRORS.labels("retryable" if error.retryable else "permanent").inc()
        slo_status_recompute(slo=slo, now=now, sync_error=str(error))
        raise
    finally:
        SYNC_DURATION.observe(time.perf_counter() - started)
    status = slo_status_recompute(slo=slo, now=now, sync_error="")
    return SyncResult(slo=slo, buckets_written=written, status=status)


# Status snapshots.


def _window(slo: SLO, now: datetime) -> budget.Interval:
    return budget.window_bounds(now, kind=slo.window_kind, days=slo.window_days, tz=slo.time_zone)


def _percent_fraction(percent: Decimal) -> float:
    return float(Decimal(percent) / 100)


def _policy_tiers(policy: BudgetPolicy | None) -> tuple[budget.BudgetTier, ...]:
    """The policy's tiers, best first (the model's ordering), as the budget engine's tiers."""
    if policy is None:
        return budget.DEFAULT_TIERS
    return tuple(
        budget.BudgetTier(
            tier.name,
            -math.inf if tier.min_remaining is None else float(tier.min_remaining),
            tier.min_included,
        )
        for tier in policy.tiers.all()
    )


def _judge_slices(
    sums: Iterable[tuple[int, int]], timeslices: budget.Timeslices
) -> tuple[int, int]:
    """(good slices, bad slices) among slices with data."""
    judged = [timeslices.is_good(good, total) for good, total in sums if total > 0]
    return sum(judged), len(judged) - sum(judged)


def _compact(value: float | None) -> float | None:
    """Chart values to 5 significant digits: what a chart can show, at a fraction of the JSON."""
    return None if value is None else float(f"{value:.5g}")


@dataclass(frozen=True)
class _Context:
    """What a recompute needs besides the buckets, loaded once for many SLOs."""

    excluded: list[budget.Interval]
    tiers: tuple[budget.BudgetTier, ...]
    last_sync_error: str


def _status_fields(slo: SLO, now: datetime, context: _Context) -> dict:
    objective = budget.objective_from_percent(slo.objective)
    window = _window(slo, now)
    window_start = window[0]
    end = budget.observed_end(window, now)
    excluded = context.excluded
    windows = budget.burn_rate_windows(window_start, end)
    counts, latest = selectors.slo_window_counts(
        slo_id=slo.pk, windows=windows, excluded=excluded, until=now
    )
    timeslices = None
    if slo.budgeting_method == BudgetingMethod.TIMESLICES:
        timeslices = budget.Timeslices(
            timedelta(minutes=slo.slice_minutes), _percent_fraction(slo.slice_target)
        )
        slice_sums = selectors.slo_counts_by_step(
            slo_id=slo.pk, start=window_start, end=end, excluded=excluded, step=timeslices.length
        )
        good_slices, bad_slices = _judge_slices(slice_sums.values(), timeslices)
        slices = budget.SliceCounts(
            good_slices,
            bad_slices,
            budget.count_expected_slices(*window, timeslices.length, excluded),
        )
    else:
        slices = None
    figures = budget.evaluate(
        objective=objective,
        window=window,
        now=now,
        counts=counts,
        latest_data_start=latest,
        slices=slices,
        stale_after=timedelta(minutes=settings.SLI_STALE_AFTER_MINUTES),
        tiers=context.tiers,
    )
    if timeslices is None:
        daily = selectors.slo_counts_by_step(
            slo_id=slo.pk,
            start=window_start,
            end=end,
            excluded=excluded,
            step=timedelta(days=1),
            origin=window_start,
        )
        bad_by_day = {day: total - good for day, (good, total) in daily.items()}
    else:
        bad_by_day = {}
        for part, (good, total) in slice_sums.items():
            if total and not timeslices.is_good(good, total):
                day = (budget.EPOCH + part * timeslices.length - window_start) // timedelta(days=1)
                bad_by_day[max(day, 0)] = bad_by_day.get(max(day, 0), 0) + 1
    return {
        "computed_at": now,
        "window_start": window_start,
        "window_end": window[1],
        "attainment": figures.attainment,
        "allowed_bad": figures.allowed_bad,
        "bad": figures.bad,
        "consumed": figures.consumed,
        "remaining": figures.remaining,
        "burn_rates": figures.burn_rates,
        "alert": figures.alert,
        "policy_tier": figures.policy_tier,
        "coverage": figures.coverage,
        "latest_data_at": latest,
        "stale": figures.stale or bool(context.last_sync_error),
        "time_until_exhaustion": figures.time_until_exhaustion,
        "series": {
            "budget": _budget_series(window_start, end, bad_by_day, figures),
            "burn_1h": _burn_series(slo, window_start, end, excluded, objective),
        },
        "monthly": _monthly(slo, now, end, excluded, objective, timeslices),
    }


def _budget_series(window_start, end, bad_by_day, figures) -> list[list]:
    """[time, budget remaining] at the end of each day of the window so far (the last point at
    the observed end): the burn-down chart, which ends at the snapshot's remaining."""
    day = timedelta(days=1)
    days = -((window_start - end) // day)
    points, spent = [], 0
    for index in range(days):
        spent += bad_by_day.get(index, 0)
        remaining = 1 - spent / figures.allowed_bad if figures.allowed_bad else None
        moment = min(end, window_start + (index + 1) * day)
        points.append([moment.isoformat(), _compact(remaining)])
    return points


def _burn_series(slo, window_start, end, excluded, objective) -> list[list]:
    """[time, burn rate] of each hour of the window so far, at the hour's end; hours are counted
    back from the observed end, so the last point is the 1h burn rate of the snapshot."""
    hour = timedelta(hours=1)
    hours = -((window_start - end) // hour)
    sums = selectors.slo_counts_by_step(
        slo_id=slo.pk, start=window_start, end=end, excluded=excluded, step=hour, origin=end
    )
    points = []
    for part in range(-hours, 0):
        good, total = sums.get(part, (0, 0))
        rate = budget.burn_rate(budget.WindowCounts(good, total, 0, 0), objective)
        points.append([(end + (part + 1) * hour).isoformat(), _compact(rate)])
    return points


#: Calendar months of attainment history a snapshot carries, the current one included.
MONTHS_OF_HISTORY = 12


def _monthly(slo, now, end, excluded, objective, timeslices) -> list[dict]:
    """Attainment per calendar month (in the SLO's time zone) for the last 12 months, each
    measured with the SLO's budgeting method; the current month so far."""
    zone = ZoneInfo(slo.time_zone)
    local = now.astimezone(zone)
    months_back = local.year * 12 + local.month - MONTHS_OF_HISTORY
    first = datetime(months_back // 12, months_back % 12 + 1, 1, tzinfo=zone).astimezone(UTC)
    sums = selectors.slo_counts_by_month(
        slo_id=slo.pk,
        start=first,
        end=end,
        excluded=excluded,
        time_zone=slo.time_zone,
        slice_length=timeslices.length if timeslices else None,
    )
    history = []
    for month_start, month_end in budget.calendar_months(first, end, zone):
        local_start = month_start.astimezone(zone)
        parts = sums.get((local_start.year, local_start.month), [])
        if timeslices is None:
            good = sum(good for good, _ in parts)
            total = sum(total for _, total in parts)
        else:
            good, bad = _judge_slices(parts, timeslices)
            total = good + bad
        attainment = good / total if total else None
        history.append(
            {
                "start": month_start.isoformat(),
                "end": month_end.isoformat(),
                "attainment": attainment,
                "met": None if attainment is None else attainment >= objective,
            }
        )
    return history


def _contexts(slos: Iterable[SLO]) -> dict[int, _Context]:
    """Maintenance windows, policy tiers and the last sync error of many SLOs in four queries."""
    slo_ids = [slo.pk for slo in slos]
    windows: dict[int, list[budget.Interval]] = {}
    for slo_id, start, end in MaintenanceWindow.objects.filter(slo_id__in=slo_ids).values_list(
        "slo_id", "start", "end"
    ):
        windows.setdefault(slo_id, []).append((start, end))
    policies = list(BudgetPolicy.objects.prefetch_related("tiers"))
    tiers = {policy.pk: _policy_tiers(policy) for policy in policies}
    default_policy = next((policy.pk for policy in policies if policy.is_default), None)
    errors = dict(
        SLOStatus.objects.filter(slo_id__in=slo_ids).values_list("slo_id", "last_sync_error")
    )
    return {
        slo.pk: _Context(
            excluded=budget.excluded_bucket_ranges(windows.get(slo.pk, [])),
            tiers=tiers.get(slo.budget_policy_id or default_policy, budget.DEFAULT_TIERS),
            last_sync_error=errors.get(slo.pk, ""),
        )
        for slo in slos
    }


@transaction.atomic
def slo_status_recompute(*, slo: SLO, now: datetime, sync_error: str | None = None) -> SLOStatus:
    """Compute the SLO's snapshot from its stored buckets and store it.

    `sync_error` records a Prometheus sync's outcome: "" after a successful sync (also sets
    last_sync_at), the error's message after a failed one (the snapshot is stale while it
    stands), None when no sync happened (a push): the last outcome is kept."""
    context = _contexts([slo])[slo.pk]
    if sync_error is not None:
        context = _Context(context.excluded, context.tiers, sync_error)
    fields = _status_fields(slo, now, context)
    fields["last_sync_error"] = context.last_sync_error
    if sync_error == "":
        fields["last_sync_at"] = now
    status, _ = SLOStatus.objects.update_or_create(slo=slo, defaults=fields)
    return status


#: Snapshots written per statement by slo_statuses_recompute().
STATUS_BATCH = 500


def slo_statuses_recompute(*, now: datetime, slos: Iterable[SLO] | None = None) -> int:
    """Recompute the snapshot of every SLO (or of `slos`) from stored buckets: the context of all
    SLOs in four queries, the figures in four queries per SLO, snapshots written in batches.
    Sync outcomes (last sync time and error) are kept. Returns how many were written."""
    slos = list(SLO.objects.all() if slos is None else slos)
    contexts = _contexts(slos)
    written = 0
    for first in range(0, len(slos), STATUS_BATCH):
        batch = [
            SLOStatus(slo=slo, **_status_fields(slo, now, contexts[slo.pk]))
            for slo in slos[first : first + STATUS_BATCH]
        ]
        figures = [
            field.name
            for field in SLOStatus._meta.concrete_fields
            if field.name not in {"slo", "last_sync_at", "last_sync_error"}
        ]
        with transaction.atomic():
            SLOStatus.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["slo"], update_fields=figures
            )
        written += len(batch)
    return written
