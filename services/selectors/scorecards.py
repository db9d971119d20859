"""Reads of maturity scorecards, their results, exemptions, campaigns and history for views,
the API, reports and the recompute: each a fixed number of queries."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from portal.prepared import prepared
from services.choices import OPEN_REVIEW_STATUSES, ExemptionStatus, Lifecycle
from services.models.catalog import Team
from services.models.readiness import ReviewItem
from services.models.scorecards import (
    Campaign,
    Exemption,
    Scorecard,
    ScorecardLevel,
    ScorecardResult,
    ScorecardRule,
    ScorecardTrend,
)
from services.scorecards import lacking_for

#: The scorecard pages show unless another is chosen.
DEFAULT_SCORECARD = "service-maturity"


def _with_levels(scorecards: QuerySet[Scorecard]) -> QuerySet[Scorecard]:
    return scorecards.prefetch_related(
        Prefetch("levels", queryset=ScorecardLevel.objects.order_by("rank"))
    )


def _with_levels_and_rules(scorecards: QuerySet[Scorecard]) -> QuerySet[Scorecard]:
    return scorecards.prefetch_related(
        Prefetch("levels", queryset=ScorecardLevel.objects.order_by("rank")),
        Prefetch(
            "rules",
            queryset=ScorecardRule.objects.select_related("level").order_by(
                "level__rank", "position"
            ),
        ),
    )


def newest_versions() -> QuerySet[Scorecard]:
    """The newest version of each scorecard, as a query (for filters and subqueries)."""
    newest = Scorecard.objects.filter(key=OuterRef("key")).order_by("-version").values("version")
    return Scorecard.objects.filter(version=Subquery(newest[:1]))


def current_scorecards(*, with_rules: bool = True) -> list[Scorecard]:
    """The newest version of each scorecard, with levels (and rules): three queries, two
    without the rules."""
    prefetch = _with_levels_and_rules if with_rules else _with_levels
    return list(prefetch(newest_versions()).order_by("key"))


def current_scorecard(key: str) -> Scorecard | None:
    return _with_levels_and_rules(Scorecard.objects.filter(key=key)).order_by("-version").first()


def scorecard_versions() -> QuerySet[Scorecard]:
    return _with_levels_and_rules(Scorecard.objects.select_related("loaded_by")).order_by(
        "key", "-version"
    )


def active_exemptions_q(today: date) -> Q:
    return Q(status=ExemptionStatus.APPROVED, expires_on__gte=today)


def active_exemptions(service_ids: Sequence[int], *, today: date) -> dict[tuple, frozenset[str]]:
    """The checks each service is exempt from, by (service id, scorecard key)."""
    exempt: dict[tuple, set[str]] = {}
    rows = Exemption.objects.filter(active_exemptions_q(today), service_id__in=service_ids)
    for service_id, key, check in rows.values_list("service_id", "scorecard_key", "check_name"):
        exempt.setdefault((service_id, key), set()).add(check)
    return {key: frozenset(checks) for key, checks in exempt.items()}


def open_review_automatic_items(service_ids: Sequence[int]) -> QuerySet[ReviewItem]:
    return (
        ReviewItem.objects.filter(
            review__service_id__in=service_ids,
            review__status__in=OPEN_REVIEW_STATUSES,
        )
        .exclude(criterion__check_name="")
        .select_related("review", "criterion")
    )


def result_list() -> QuerySet[ScorecardResult]:
    """Results with their service, team, scorecard and level (one query)."""
    return ScorecardResult.objects.select_related(
        "service__owner_team", "scorecard", "level"
    ).order_by("service__name", "scorecard__key")


@dataclass(frozen=True)
class ServiceResult:
    """A service's result on one scorecard as its page shows it: the level reached, and the
    next level with the failing rules (stored outcomes) that stand between them."""

    scorecard_key: str
    scorecard_title: str
    level_name: str | None
    level_rank: int
    score: int
    computed_at: datetime
    next_level: str | None
    lacking: list[dict]


@prepared
def _service_result_rows(*, service_id):
    above = ScorecardLevel.objects.filter(
        scorecard_id=OuterRef("scorecard_id"), rank__gt=OuterRef("level_rank")
    ).order_by("rank")
    return (
        ScorecardResult.objects.filter(service_id=service_id)
        .annotate(
            next_name=Subquery(above.values("name")[:1]),
            next_rank=Subquery(above.values("rank")[:1]),
        )
        .order_by("scorecard__key")
        .values_list(
            "scorecard__key",
            "scorecard__title",
            "level__name",
            "level_rank",
            "score",
            "computed_at",
            "outcomes",
            "next_name",
            "next_rank",
        )
    )


def service_results(service_id: int) -> list[ServiceResult]:
    """The service's results on each scorecard, with the level above each (its name and rank
    read by subqueries): one query, of the columns the page shows (prepared)."""
    rows = _service_result_rows(service_id=service_id)
    results = []
    for key, title, level_name, level_rank, score, computed_at, outcomes, *following in rows:
        next_name, next_rank = following
        results.append(
            ServiceResult(
                scorecard_key=key,
                scorecard_title=title,
                level_name=level_name,
                level_rank=level_rank,
                score=score,
                computed_at=computed_at,
                next_level=next_name,
                lacking=[] if next_rank is None else lacking_for(next_rank, outcomes),
            )
        )
    return results


def exemption_list() -> QuerySet[Exemption]:
    return Exemption.objects.select_related(
        "service__owner_team", "requested_by", "decided_by"
    ).order_by("-requested_at", "-pk")


def exemptions_expiring(before: date) -> QuerySet[Exemption]:
    """Approved exemptions that expire before ``before`` (a date in the portal's zone), soonest
    first, expired ones included: a reminder keeps from them what it needs (today onwards)."""
    return (
        exemption_list()
        .filter(status=ExemptionStatus.APPROVED, expires_on__lt=before)
        .order_by("expires_on", "pk")
    )


# --- the org and team pages ----------------------------------------------------------------------


@dataclass
class TeamStanding:
    """A team's row on the scorecards page: its services at each level (ranks 0…n), average
    score, and for each rule how many of its services pass it."""

    team: Team
    services: int
    average_score: float | None
    level_counts: dict[int, int] = field(default_factory=dict)
    passing: dict[str, int] = field(default_factory=dict)

    def pass_rate(self, check: str) -> float | None:
        return self.passing.get(check, 0) / self.services if self.services else None


def team_standings(results: QuerySet[ScorecardResult]) -> list[TeamStanding]:
    """Every team's standing over ``results`` (already filtered to one scorecard): its services
    at each level and average score, in one query (a row per team and level), for the page to
    sort and page in memory; pass rates come with pass_rates() for the page's teams."""
    standings: dict[int, TeamStanding] = {}
    totals: Counter = Counter()
    for team_id, name, slug, rank, count, score_sum in (
        results.order_by()
        .values_list(
            "service__owner_team_id",
            "service__owner_team__name",
            "service__owner_team__slug",
            "level_rank",
        )
        .annotate(count=Count("pk"), score_sum=Sum("score"))
    ):
        standing = standings.get(team_id)
        if standing is None:
            team = Team(pk=team_id, name=name, slug=slug)
            standing = standings[team_id] = TeamStanding(team=team, services=0, average_score=None)
        standing.level_counts[rank] = count
        standing.services += count
        totals[team_id] += score_sum or 0
    for team_id, standing in standings.items():
        standing.average_score = totals[team_id] / standing.services
    return list(standings.values())


def pass_rates(results: QuerySet[ScorecardResult], scorecard: Scorecard, standings) -> None:
    """Fill in how many services of each of these teams pass each rule (one query)."""
    by_team = {standing.team.pk: standing for standing in standings}
    failing: dict[int, Counter] = {team_id: Counter() for team_id in by_team}
    rows = results.filter(service__owner_team_id__in=list(by_team)).order_by()
    for team_id, names in rows.values_list("service__owner_team_id", "failing"):
        failing[team_id].update(names)
    for team_id, standing in by_team.items():
        standing.passing = {
            rule.check_name: standing.services - failing[team_id][rule.check_name]
            for rule in scorecard.rules.all()
        }


def level_distribution(results: QuerySet[ScorecardResult]) -> dict[int, int]:
    return dict(results.order_by().values_list("level_rank").annotate(count=Count("pk")))


def organisation_levels(standings) -> dict[int, int]:
    """The services at each level over every team's standing."""
    levels: Counter = Counter()
    for standing in standings:
        levels.update(standing.level_counts)
    return dict(levels)


# --- campaigns ------------------------------------------------------------------------------

#: How long after its due date a campaign still shows on the scorecard and team pages.
CAMPAIGN_SHOWN_DAYS_AFTER_DUE = 30


@dataclass
class CampaignTeamProgress:
    team: Team
    services: int = 0
    at_target: int = 0
    failing: list = field(default_factory=list)  # (result, the outcomes it lacks)

    @property
    def percent(self) -> int:
        return round(100 * self.at_target / self.services) if self.services else 100


@dataclass
class CampaignProgress:
    campaign: Campaign
    scorecard: Scorecard | None
    target_rank: int | None
    services: int = 0
    at_target: int = 0
    teams: list[CampaignTeamProgress] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.at_target / self.services) if self.services else 100


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("created_by").order_by("due_on", "name")


def _target_rank(campaign: Campaign, scorecard: Scorecard | None) -> int | None:
    levels = scorecard.levels.all() if scorecard else ()
    return next((level.rank for level in levels if level.name == campaign.target_level), None)


def campaigns_progress(
    *,
    today: date | None = None,
    team: Team | None = None,
    campaigns=None,
    scorecards=None,
    teams: dict | None = None,
) -> list[CampaignProgress]:
    """The progress of ``campaigns`` (by default those not past due by more than
    CAMPAIGN_SHOWN_DAYS_AFTER_DUE days before ``today``): the services in scope (the
    campaign's tiers, not deprecated; only ``team``'s when given) and how many hold the target
    level or above, overall and per team. Five queries for any number of campaigns and teams
    (two when the current ``scorecards`` and the ``teams`` by id are handed in)."""
    if campaigns is None:
        campaigns = campaign_list()
        if today is not None:
            shown_from = today - timedelta(days=CAMPAIGN_SHOWN_DAYS_AFTER_DUE)
            campaigns = campaigns.filter(due_on__gte=shown_from)
        campaigns = list(campaigns)
    if not campaigns:
        return []
    if scorecards is None:
        scorecards = current_scorecards(with_rules=False)
    scorecards = {scorecard.key: scorecard for scorecard in scorecards}
    results = ScorecardResult.objects.filter(scorecard__in=list(scorecards.values())).exclude(
        service__lifecycle=Lifecycle.DEPRECATED
    )
    if team is not None:
        results = results.filter(service__owner_team=team)
    counts = list(
        results.order_by()
        .values_list("scorecard__key", "service__tier", "service__owner_team_id", "level_rank")
        .annotate(count=Count("pk"))
    )
    missing = {row[2] for row in counts} - set(teams or {})
    teams = {**(teams or {}), **(Team.objects.in_bulk(missing) if missing else {})}
    progress_list = []
    for campaign in campaigns:
        scorecard = scorecards.get(campaign.scorecard_key)
        target = _target_rank(campaign, scorecard)
        progress = CampaignProgress(campaign=campaign, scorecard=scorecard, target_rank=target)
        by_team: dict[int, CampaignTeamProgress] = {}
        tiers = set(campaign.tiers)
        for key, tier, team_id, rank, count in counts:
            if target is None or key != campaign.scorecard_key or tier not in tiers:
                continue
            team_progress = by_team.setdefault(team_id, CampaignTeamProgress(team=teams[team_id]))
            team_progress.services += count
            progress.services += count
            if rank >= target:
                team_progress.at_target += count
                progress.at_target += count
        progress.teams = sorted(by_team.values(), key=lambda item: (item.percent, item.team.name))
        progress_list.append(progress)
    return progress_list


def campaign_detail_progress(campaign: Campaign) -> CampaignProgress:
    """The campaign's progress with, for each team, the services below the target level and
    the rules each lacks (one more query)."""
    progress = campaigns_progress(campaigns=[campaign])[0]
    if progress.target_rank is None:
        return progress
    teams = {team_progress.team.pk: team_progress for team_progress in progress.teams}
    below = (
        ScorecardResult.objects.filter(
            scorecard=progress.scorecard,
            service__tier__in=campaign.tiers,
            level_rank__lt=progress.target_rank,
        )
        .exclude(service__lifecycle=Lifecycle.DEPRECATED)
        .select_related("service", "level")
        .order_by("service__name")
    )
    for result in below:
        teams[result.service.owner_team_id].failing.append(
            (result, lacking_for(progress.target_rank, result.outcomes))
        )
    return progress


# --- history and reports ----------------------------------------------------------------------


def trend(scorecard_key: str, *, team: Team | None, weeks: int = 26) -> list[ScorecardTrend]:
    rows = ScorecardTrend.objects.filter(scorecard_key=scorecard_key, team=team)
    return list(reversed(rows.order_by("-week")[:weeks]))


def maturity_levels_by_team(
    scorecard_key: str = DEFAULT_SCORECARD, *, scorecard: Scorecard | None = None
) -> dict[Team, dict[str, int]]:
    """For each team, how many of its services hold each level of the scorecard ("none" below
    the first), from the stored results: for the monthly report. ``scorecard``: the current
    version, when the caller has read it already (with its levels)."""
    scorecard = scorecard or current_scorecard(scorecard_key)
    if scorecard is None:
        return {}
    names = {level.rank: level.name for level in scorecard.levels.all()}
    counts: dict[int, dict[str, int]] = {}
    for team_id, rank, count in (
        ScorecardResult.objects.filter(scorecard=scorecard)
        .order_by()
        .values_list("service__owner_team_id", "level_rank")
        .annotate(count=Count("pk"))
    ):
        counts.setdefault(team_id, {})[names.get(rank, "none")] = count
    teams = Team.objects.in_bulk(list(counts))
    return {
        teams[team_id]: levels for team_id, levels in sorted(counts.items()) if team_id in teams
    }
