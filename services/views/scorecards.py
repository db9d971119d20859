"""Maturity scorecard UI: the organisation's page (levels per team, rule pass rates per team,
campaigns, the trend), its CSV export, a team's page, campaigns and exemptions. Reads go
through selectors (pages read stored results, never run checks), writes through actions."""

import csv
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from portal.forms import form_page
from portal.htmx import PAGE_SIZE, paginate, posted, render_page_or_fragment
from portal.roles import can_edit, is_sre_lead
from portal.timezones import portal_date
from services.actions import scorecards as scorecard_actions
from services.filters import CampaignFilterSet, ExemptionFilterSet, ScorecardResultFilterSet
from services.forms import CampaignForm, ExemptionDecisionForm, ExemptionForm
from services.models.catalog import Service, Team
from services.models.scorecards import Campaign, Exemption, ScorecardResult
from services.scorecards import next_steps
from services.selectors import readiness as readiness_selectors
from services.selectors import scorecards as scorecard_selectors

#: How the teams of the scorecards page sort: the ordering parameter → the standing's key.
TEAM_ORDERING = {
    "team": lambda standing: standing.team.name.casefold(),
    "services": lambda standing: standing.services,
    "score": lambda standing: standing.average_score,
}


def _require_sre_lead(user, doing: str) -> None:
    if not is_sre_lead(user):
        raise PermissionDenied(f"Only SRE leads {doing}.")


def _chosen_scorecard(request, *, with_rules: bool = True):
    """The scorecard a page shows: ``?scorecard=KEY``, else the default one, else the first."""
    scorecards = scorecard_selectors.current_scorecards(with_rules=with_rules)
    wanted = request.GET.get("scorecard") or scorecard_selectors.DEFAULT_SCORECARD
    chosen = next((card for card in scorecards if card.key == wanted), None)
    if chosen is None and scorecards and not request.GET.get("scorecard"):
        chosen = scorecards[0]
    return chosen, scorecards


def _level_names(scorecard) -> list[tuple[int, str]]:
    return [(0, "None")] + [(level.rank, level.name) for level in scorecard.levels.all()]


def _team_ordering(request):
    """The ordering asked for (as the sort headers name it) and its sort key."""
    requested = request.GET.get("ordering") or "score"
    if requested.lstrip("-") not in TEAM_ORDERING:
        requested = "score"
    return requested, TEAM_ORDERING[requested.lstrip("-")]


def _trend_chart(rows) -> dict:
    return {
        "weeks": [row.week.isoformat() for row in rows],
        "scores": [
            round(row.average_score, 1) if row.average_score is not None else None for row in rows
        ],
    }


def _heat_map_row(standing, levels, rule_titles) -> dict:
    """A team's row of the heat map: its services at each level and the share passing each
    rule, as HTML cells built here. 25 teams by 20-odd rules is hundreds of cells: through the
    template language (or format_html) they were most of the page's time."""
    team = escape(standing.team.name)
    cells = []
    for check, title in rule_titles:
        rate = standing.pass_rate(check)
        if rate is None:
            cells.append(f'<td class="number heat-none" title="{team}: {title}">—</td>')
        else:
            cells.append(
                f'<td class="number heat-{round(rate * 10)}" title="{team}: {title}">'
                f"{rate * 100:.0f} %</td>"
            )
    counts = "".join(
        f'<td class="number">{standing.level_counts.get(rank, 0)}</td>' for rank, _ in levels
    )
    return {
        "team": standing.team,
        "url": reverse("team_maturity", args=[standing.team.slug]),
        "services": standing.services,
        "average_score": standing.average_score,
        # Escaped above: the team's name and the rules' titles are the only text.
        "cells": mark_safe(counts + "".join(cells)),
    }


def scorecard_overview(request):
    """The organisation's scorecard page: one row per team (its services at each level, its
    average score, its pass rate of each rule: the heat map), worst average first."""
    scorecard, scorecards = _chosen_scorecard(request)
    if scorecard is None:
        return render(request, "services/scorecard_overview.html", {"scorecard": None})
    results = ScorecardResult.objects.filter(scorecard=scorecard)
    # The teams are sorted here (TEAM_ORDERING), not the services' results.
    criteria = request.GET.copy()
    criteria.pop("ordering", None)
    filterset = ScorecardResultFilterSet(criteria, queryset=results)
    filtered = filterset.qs
    ordering, key = _team_ordering(request)
    standings = scorecard_selectors.team_standings(filtered)
    standings.sort(key=lambda standing: standing.team.name.casefold())
    standings.sort(key=key, reverse=ordering.startswith("-"))
    page = Paginator(standings, PAGE_SIZE).get_page(request.GET.get("page"))
    scorecard_selectors.pass_rates(filtered, scorecard, page.object_list)
    levels = _level_names(scorecard)
    rules = list(scorecard.rules.all())
    rule_titles = [(rule.check_name, escape(rule.title)) for rule in rules]
    distribution = scorecard_selectors.organisation_levels(standings)
    now = timezone.now()
    return render_page_or_fragment(
        request,
        page_template="services/scorecard_overview.html",
        fragment_template="services/_scorecard_overview_results.html",
        context={
            "scorecard": scorecard,
            "scorecards": scorecards,
            "filter": filterset,
            "page_obj": page,
            "ordering": ordering,
            "rows": [_heat_map_row(standing, levels, rule_titles) for standing in page.object_list],
            "levels": levels,
            "rules": rules,
            "distribution": [(name, distribution.get(rank, 0)) for rank, name in levels],
            "service_count": sum(distribution.values()),
            "unreviewed_count": readiness_selectors.production_without_review(now).count(),
            "campaigns": scorecard_selectors.campaigns_progress(
                today=portal_date(now),
                scorecards=scorecards,
                teams={standing.team.pk: standing.team for standing in standings},
            ),
            "chart": {
                "teams": [standing.team.name for standing in page.object_list],
                "levels": [name for _, name in levels],
                "counts": [
                    [standing.level_counts.get(rank, 0) for standing in page.object_list]
                    for rank, _ in levels
                ],
            },
            "trend": _trend_chart(scorecard_selectors.trend(scorecard.key, team=None)),
        },
    )


def scorecard_export(request):
    """The filtered results as CSV: one row per service, with the rules it fails."""
    scorecard, _ = _chosen_scorecard(request)
    if scorecard is None:
        raise Http404("No scorecard is loaded.")
    titles = {rule.check_name: rule.title for rule in scorecard.rules.all()}
    filterset = ScorecardResultFilterSet(
        request.GET,
        queryset=scorecard_selectors.result_list().filter(scorecard=scorecard).defer("outcomes"),
    )

    def rows():
        yield ["service", "team", "tier", "lifecycle", "scorecard", "version", "level", "score",
               "failing rules", "computed at"]  # fmt: skip
        for result in filterset.qs.iterator(chunk_size=500):
            service = result.service
            yield [
                service.slug,
                service.owner_team.slug,
                service.tier,
                service.lifecycle,
                scorecard.key,
                scorecard.version,
                result.level.name if result.level else "none",
                result.score,
                "; ".join(titles.get(check, check) for check in result.failing),
                result.computed_at.isoformat(),
            ]

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{scorecard.key}-results.csv"'
    return response


class _Echo:
    """A file-like object whose write() hands the row back (csv.writer into a stream)."""

    def write(self, value):
        return value


def team_maturity(request, slug):
    """A team's scorecard: each service's level, score and what it lacks for the next level,
    the team's trend and its campaigns."""
    team = get_object_or_404(Team, slug=slug)
    # The results carry their rules' titles: the rules themselves are not read.
    scorecard, scorecards = _chosen_scorecard(request, with_rules=False)
    context = {"team": team, "scorecard": scorecard, "scorecards": scorecards}
    if scorecard is None:
        return render(request, "services/team_maturity.html", context)
    results = scorecard_selectors.result_list().filter(
        scorecard=scorecard, service__owner_team=team
    )
    filterset = ScorecardResultFilterSet(
        request.GET, queryset=results.order_by("level_rank", "score", "service__name")
    )
    page = paginate(request, filterset.qs)
    levels = list(scorecard.levels.all())
    rows = []
    for result in page.object_list:
        target, lacking = next_steps(levels, result.level_rank, result.outcomes)
        rows.append((result, target, lacking))
    now = timezone.now()
    services = [result.service for result in page.object_list]
    context.update(
        {
            "filter": filterset,
            "page_obj": page,
            "rows": rows,
            "readiness": readiness_selectors.readiness_of(services, now),
            "level_counts": scorecard_selectors.level_distribution(results),
            "levels": _level_names(scorecard),
            "campaigns": scorecard_selectors.campaigns_progress(
                today=portal_date(now), team=team, scorecards=scorecards, teams={team.pk: team}
            ),
            "trend": _trend_chart(scorecard_selectors.trend(scorecard.key, team=team)),
            "may_request_exemption": can_edit(request.user, team),
        }
    )
    return render_page_or_fragment(
        request,
        page_template="services/team_maturity.html",
        fragment_template="services/_team_maturity_results.html",
        context=context,
    )


# --- campaigns ------------------------------------------------------------------------------------


def campaign_list(request):
    filterset = CampaignFilterSet(request.GET, queryset=scorecard_selectors.campaign_list())
    page = paginate(request, filterset.qs)
    progress = scorecard_selectors.campaigns_progress(campaigns=list(page.object_list))
    return render_page_or_fragment(
        request,
        page_template="services/campaign_list.html",
        fragment_template="services/_campaign_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "campaigns": progress,
            "may_add": is_sre_lead(request.user),
        },
    )


def campaign_detail(request, slug):
    campaign = get_object_or_404(scorecard_selectors.campaign_list(), slug=slug)
    progress = scorecard_selectors.campaign_detail_progress(campaign)
    return render(
        request,
        "services/campaign_detail.html",
        {"progress": progress, "campaign": campaign, "may_manage": is_sre_lead(request.user)},
    )


def _campaign_form(request, instance=None):
    return CampaignForm(
        posted(request), instance=instance, scorecards=scorecard_selectors.current_scorecards()
    )


def campaign_add(request):
    _require_sre_lead(request.user, "start campaigns")
    return form_page(
        request,
        _campaign_form(request),
        partial(scorecard_actions.campaign_create, by=request.user),
        title="Start a campaign",
        cancel_url=reverse("campaign_list"),
        success=lambda campaign: f"Campaign “{campaign.name}” was started.",
    )


def campaign_edit(request, slug):
    _require_sre_lead(request.user, "change campaigns")
    campaign = get_object_or_404(Campaign, slug=slug)
    title, cancel_url = f"Edit {campaign.name}", campaign.get_absolute_url()
    return form_page(
        request,
        _campaign_form(request, campaign),
        partial(scorecard_actions.campaign_update, campaign=campaign),
        title=title,
        cancel_url=cancel_url,
        success=lambda campaign: f"Campaign “{campaign.name}” was saved.",
    )


def campaign_delete(request, slug):
    _require_sre_lead(request.user, "end campaigns")
    campaign = get_object_or_404(Campaign, slug=slug)
    if request.method == "POST":
        scorecard_actions.campaign_delete(campaign=campaign)
        messages.success(request, f"Campaign “{campaign.name}” was deleted.")
        return redirect("campaign_list")
    return render(
        request,
        "confirm_delete.html",
        {"object": campaign, "cancel_url": campaign.get_absolute_url()},
    )


# --- exemptions -----------------------------------------------------------------------------------


def exemption_list(request):
    filterset = ExemptionFilterSet(request.GET, queryset=scorecard_selectors.exemption_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/exemption_list.html",
        fragment_template="services/_exemption_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "may_decide": is_sre_lead(request.user),
            "decision_form": ExemptionDecisionForm(),
        },
    )


def exemption_add(request, slug):
    service = get_object_or_404(Service.objects.select_related("owner_team"), slug=slug)
    if not can_edit(request.user, service):
        raise PermissionDenied("Only the owner team's engineers and SRE leads ask for exemptions.")
    scorecard, _ = _chosen_scorecard(request)
    if scorecard is None:
        raise Http404("No scorecard is loaded.")
    form = ExemptionForm(
        posted(request),
        initial={"check_name": request.GET.get("check")},
        rules=scorecard.rules.all(),
    )
    return form_page(
        request,
        form,
        partial(
            scorecard_actions.exemption_request,
            service=service,
            scorecard_key=scorecard.key,
            by=request.user,
        ),
        title=f"Ask for an exemption for {service.name} ({scorecard.title})",
        cancel_url=service.get_absolute_url(),
        success=lambda exemption: "The exemption was asked for: an SRE lead decides on it.",
        redirect_to=service,
    )


def _decide_exemption(request, pk, *, decide, done):
    _require_sre_lead(request.user, "decide on exemptions")
    exemption = get_object_or_404(Exemption, pk=pk)
    form = ExemptionDecisionForm(request.POST)
    form.is_valid()
    try:
        decide(exemption=exemption, by=request.user, note=form.cleaned_data.get("note", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("exemption_list")


@require_POST
def exemption_approve(request, pk):
    return _decide_exemption(
        request, pk, decide=scorecard_actions.exemption_approve, done="The exemption was approved."
    )


@require_POST
def exemption_reject(request, pk):
    return _decide_exemption(
        request, pk, decide=scorecard_actions.exemption_reject, done="The exemption was refused."
    )
