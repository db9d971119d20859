"""Writes of the maturity scorecards: running the checks and scoring services (coalesced: a
change marks its services dirty, one task recomputes each dirty service once), exemptions,
campaigns and the weekly history."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, JSONField, OuterRef, Q, Sum, Value
from django.utils import timezone

from portal import doorbell
from portal.timezones import portal_date
from services import tasks
from services.checks.registry import CheckResult, run_checks
from services.choices import ExemptionStatus
from services.models.catalog import Service
from services.models.readiness import ReviewItem
from services.models.scorecards import (
    Campaign,
    Exemption,
    ScorecardResult,
    ScorecardTrend,
    ServiceChecks,
    ServiceChecksDirty,
)
from services.readiness import apply_check
from services.scorecards import Level, Rule, evaluate
from services.selectors import scorecards as scorecard_selectors
from services.selectors.checks import service_facts

#: Seconds between the first change that dirties a service and its recompute: the changes
#: arriving meanwhile (a storm of alerts, a bulk edit) are taken in the same run.
RECOMPUTE_DELAY_SECONDS = 5
#: Services one recompute task takes; it rings again while dirty ones remain.
DIRTY_BATCH = 2000
#: Rows per INSERT when results are written.
WRITE_BATCH = 500


def checks_mark_dirty(*, service_ids: Iterable[int]) -> None:
    """Record that these services' checks must run again (in the caller's transaction), and
    ring the recompute once it commits, unless every one was dirty already (a ring is then on
    its way, or the sweep will come)."""
    ids = {service_id for service_id in service_ids if service_id is not None}
    if not ids:
        return
    already = ServiceChecksDirty.objects.filter(service=OuterRef("pk"))
    rows = list(
        Service.objects.filter(pk__in=ids)
        .annotate(dirty=Exists(already))
        .values_list("pk", "dirty")
    )
    if not rows:
        return
    now = timezone.now()
    # An upsert: a recompute holding these rows makes it wait, then insert anew, so a change
    # committed after the recompute read its facts is never dropped with the row.
    ServiceChecksDirty.objects.bulk_create(
        [ServiceChecksDirty(service_id=pk, marked_at=now) for pk, _ in rows],
        update_conflicts=True,
        unique_fields=["service"],
        update_fields=["marked_at"],
    )
    if not all(dirty for _, dirty in rows):
        doorbell.ring_on_commit(tasks.recompute_dirty_checks, countdown=RECOMPUTE_DELAY_SECONDS)


def checks_mark_all_dirty() -> None:
    """Every service must be checked again (a new scorecard version, the nightly run)."""
    checks_mark_dirty(service_ids=Service.objects.values_list("pk", flat=True))


def checks_recompute_dirty(*, now: datetime, limit: int = DIRTY_BATCH) -> int:
    """Claim up to ``limit`` dirty services (rows another run holds are skipped), recompute
    them and clear their marks, in one transaction. Returns how many were recomputed; the task
    rings again when that was a full batch."""
    with transaction.atomic():
        claimed = list(
            ServiceChecksDirty.objects.select_for_update(skip_locked=True)
            .order_by("marked_at")
            .values_list("service_id", flat=True)[:limit]
        )
        if not claimed:
            return 0
        checks_recompute(service_ids=claimed, now=now)
        ServiceChecksDirty.objects.filter(service_id__in=claimed).delete()
    return len(claimed)


def _json(value) -> Value:
    """A JSON value for bulk_create: as an expression it is sent as one parameter per row;
    PostgreSQL's array form of a bulk insert (UNNEST) would quote every JSON text in Python,
    which took most of a 1,000-service recompute (bench/README.md)."""
    return Value(value, output_field=JSONField())


def _scored(scorecard, levels, rules, check_results, exempt, computed_at) -> ScorecardResult:
    evaluation = evaluate(levels, rules, check_results, exempt)
    level = next(
        (level for level in scorecard.levels.all() if level.rank == evaluation.level_rank), None
    )
    return ScorecardResult(
        scorecard=scorecard,
        level=level,
        level_rank=evaluation.level_rank,
        score=evaluation.score,
        failing=_json(evaluation.failing),
        outcomes=_json([outcome.as_json() for outcome in evaluation.outcomes]),
        computed_at=computed_at,
    )


@transaction.atomic
def checks_recompute(*, service_ids: Iterable[int] | None, now: datetime) -> int:
    """Run every registered check on the services (all when None), store the outcomes, score
    the services on every current scorecard and refresh the automatic criteria of their open
    readiness reviews. A fixed number of queries for any number of services."""
    facts = service_facts(None if service_ids is None else list(service_ids), now=now)
    results = {service_id: run_checks(service) for service_id, service in facts.items()}
    ServiceChecks.objects.bulk_create(
        [
            ServiceChecks(
                service_id=service_id,
                results=_json({name: result.as_json() for name, result in checks.items()}),
                computed_at=now,
            )
            for service_id, checks in results.items()
        ],
        update_conflicts=True,
        unique_fields=["service"],
        update_fields=["results", "computed_at"],
        batch_size=WRITE_BATCH,
    )
    scorecards = scorecard_selectors.current_scorecards()
    exemptions = scorecard_selectors.active_exemptions(list(results), today=portal_date(now))
    rows = []
    for scorecard in scorecards:
        levels = [Level(level.rank, level.name) for level in scorecard.levels.all()]
        rules = [
            Rule(rule.check_name, rule.title, rule.weight, rule.level.rank)
            for rule in scorecard.rules.all()
        ]
        for service_id, checks in results.items():
            exempt = exemptions.get((service_id, scorecard.key), frozenset())
            result = _scored(scorecard, levels, rules, checks, exempt, now)
            result.service_id = service_id
            rows.append(result)
    ScorecardResult.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["service", "scorecard"],
        update_fields=["level", "level_rank", "score", "failing", "outcomes", "computed_at"],
        batch_size=WRITE_BATCH,
    )
    stale = ScorecardResult.objects.exclude(scorecard__in=scorecards)
    if service_ids is not None:
        stale = stale.filter(service_id__in=list(results))
    stale.delete()
    _refresh_open_reviews(results, now)
    return len(results)


def _refresh_open_reviews(results: dict[int, dict[str, CheckResult]], now: datetime) -> None:
    """Automatic criteria of open reviews follow their checks; answers a person gave (not
    applicable, waived) stay."""
    changed = []
    for item in scorecard_selectors.open_review_automatic_items(list(results)):
        result = results[item.review.service_id].get(item.criterion.check_name)
        if result is None:
            continue
        if apply_check(item, result, now):
            changed.append(item)
    ReviewItem.objects.bulk_update(
        changed, ["status", "check_reason", "check_url", "checked_at"], batch_size=WRITE_BATCH
    )


# --- exemptions --------------------------------------------------------------------------------


@transaction.atomic
def exemption_request(
    *, service: Service, scorecard_key: str, check_name: str, reason: str, expires_on, by
) -> Exemption:
    """Ask for a rule to count as passed for this service until ``expires_on``."""
    scorecard = scorecard_selectors.current_scorecard(scorecard_key)
    if scorecard is None:
        raise ValidationError({"scorecard_key": f"No scorecard has the key “{scorecard_key}”."})
    if not scorecard.rules.filter(check_name=check_name).exists():
        raise ValidationError({"check_name": f"{scorecard.title} has no rule “{check_name}”."})
    today = portal_date(timezone.now())
    if expires_on <= today:
        raise ValidationError({"expires_on": "An exemption expires after today."})
    same_rule = Exemption.objects.filter(
        service=service, scorecard_key=scorecard_key, check_name=check_name
    )
    in_force = Q(status=ExemptionStatus.PENDING) | scorecard_selectors.active_exemptions_q(today)
    if same_rule.filter(in_force).exists():
        raise ValidationError(
            {"check_name": "This rule already has an exemption pending or in force."}
        )
    exemption = Exemption(
        service=service,
        scorecard_key=scorecard_key,
        check_name=check_name,
        reason=reason,
        expires_on=expires_on,
        requested_by=by,
    )
    exemption.full_clean()
    exemption.save()
    return exemption


def _decide(exemption: Exemption, status: str, by, note: str) -> Exemption:
    Exemption.objects.select_for_update().filter(pk=exemption.pk).values_list("pk").get()
    exemption.refresh_from_db()
    if exemption.status != ExemptionStatus.PENDING:
        raise ValidationError(
            {"status": f"This exemption is already {exemption.get_status_display().lower()}."}
        )
    exemption.status, exemption.decided_by = status, by
    exemption.decided_at, exemption.decision_note = timezone.now(), note.strip()
    exemption.full_clean()
    exemption.save()
    return exemption


@transaction.atomic
def exemption_approve(*, exemption: Exemption, by, note: str = "") -> Exemption:
    """An SRE lead lets the rule count as passed until the exemption expires."""
    exemption = _decide(exemption, ExemptionStatus.APPROVED, by, note)
    checks_mark_dirty(service_ids=[exemption.service_id])
    return exemption


@transaction.atomic
def exemption_reject(*, exemption: Exemption, by, note: str = "") -> Exemption:
    if not note.strip():
        raise ValidationError({"note": "Say why the exemption is refused."})
    return _decide(exemption, ExemptionStatus.REJECTED, by, note)


# --- campaigns ------------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(*, by=None, **fields) -> Campaign:
    campaign = Campaign(created_by=by, **fields)
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields) -> Campaign:
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    campaign.delete()


# --- the weekly history ---------------------------------------------------------------------------


def week_start(now: datetime):
    today = portal_date(now)
    return today - timedelta(days=today.weekday())


@transaction.atomic
def scorecard_trends_record(*, now: datetime) -> int:
    """This week's snapshot of every current scorecard, per team and for the organisation (a
    second run in the same week replaces it). Returns how many rows were written."""
    week = week_start(now)
    written = 0
    for scorecard in scorecard_selectors.current_scorecards():
        names = {level.rank: level.name for level in scorecard.levels.all()}
        teams: dict[int | None, dict] = {}
        grouped = (
            ScorecardResult.objects.filter(scorecard=scorecard)
            .values("service__owner_team_id", "level_rank")
            .annotate(services=Count("pk"), score_sum=Sum("score"))
            .order_by()
        )
        for row in grouped:
            for team_id in (row["service__owner_team_id"], None):
                figures = teams.setdefault(team_id, {"services": 0, "score_sum": 0, "levels": {}})
                figures["services"] += row["services"]
                figures["score_sum"] += row["score_sum"]
                name = names.get(row["level_rank"], "none")
                figures["levels"][name] = figures["levels"].get(name, 0) + row["services"]
        rows = [
            ScorecardTrend(
                scorecard_key=scorecard.key,
                team_id=team_id,
                week=week,
                services=figures["services"],
                average_score=figures["score_sum"] / figures["services"],
                level_counts=figures["levels"],
                recorded_at=now,
            )
            for team_id, figures in teams.items()
        ]
        update = ["services", "average_score", "level_counts", "recorded_at"]
        ScorecardTrend.objects.bulk_create(
            [row for row in rows if row.team_id is not None],
            update_conflicts=True,
            unique_fields=["scorecard_key", "team", "week"],
            update_fields=update,
        )
        # The organisation's row: an upsert cannot name a partial unique constraint.
        for row in rows:
            if row.team_id is None:
                ScorecardTrend.objects.update_or_create(
                    scorecard_key=row.scorecard_key,
                    team=None,
                    week=week,
                    defaults={name: getattr(row, name) for name in update},
                )
        written += len(rows)
    return written
