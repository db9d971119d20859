"""Readiness and maturity on other pages: the service page's readiness and scorecard panels
and the team page's maturity panel (one include line each in the page's template), and the
filters their templates use."""

from django import template
from django.template.backends.utils import csrf_input_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.jinja import render_part
from portal.roles import can_edit
from portal.timezones import portal_date
from services import readiness
from services.checks.links import fix_link_for
from services.choices import ReadinessState
from services.selectors import readiness as readiness_selectors
from services.selectors import scorecards as scorecard_selectors

register = template.Library()

#: How many missing criteria the readiness panel lists before "and N more".
MISSING_SHOWN = 6

STATE_CLASSES = {
    ReadinessState.READY: "readiness-ok",
    ReadinessState.READY_WITH_WAIVERS: "readiness-ok",
    ReadinessState.WAIVER_EXPIRED: "readiness-bad",
    ReadinessState.REVIEW_DUE: "readiness-bad",
    ReadinessState.IN_REVIEW: "readiness-pending",
    ReadinessState.NEVER_REVIEWED: "readiness-none",
}


@register.filter
def readiness_class(state: str) -> str:
    return STATE_CLASSES.get(state, "readiness-none")


@register.filter
def readiness_badges(readiness) -> str:
    """A service's readiness state as a badge, and a second one while it runs in production
    without a review: the same markup on the service page, the readiness page and the team
    maturity list, in either template engine."""
    unreviewed = (
        ' <span class="badge readiness-bad">In production without a readiness review</span>'
        if readiness.unreviewed_in_production
        else ""
    )
    return format_html(
        '<span class="badge {}">{}</span>{}',
        readiness_class(readiness.state),
        readiness.state_label,
        mark_safe(unreviewed),
    )


@register.simple_tag(takes_context=True)
def fix_link(context, url, service):
    """A failed check's fix link if the person looking may act where it leads, else ""
    (services.checks.links): ``{% fix_link outcome.fix_url service as fix %}``."""
    return fix_link_for(context["request"].user, url, service)


#: What Jinja2 templates call by name (portal.jinja).
JINJA_GLOBALS = {"fix_link_for": fix_link_for}


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def service_readiness_panels(context, service):
    """The service page's readiness panel (state, approval, checklist version, what is missing:
    the open review's required criteria not done, else the newest checklist's automatic
    criteria the service fails today) and its maturity panel (level and score on each
    scorecard, and what to do next to reach the next level), a Jinja2 template. Three to four
    queries: readiness, what is missing, the scorecard results, and the gate's override when
    the service is in production without a review."""
    request = context["request"]
    user = request.user
    now = timezone.now()
    state = readiness_selectors.readiness_of([service], now)[service.pk]
    missing, progress = [], None
    if state.open_review is not None:
        items = readiness_selectors.open_review_items(review=state.open_review)
        progress = readiness.review_progress(items)
        missing = [item.criterion.title for item in readiness.approval_blockers(items)]
    elif state.state != ReadinessState.READY:
        missing = readiness_selectors.failing_automatic_criteria(service)
    return render_part(
        "services/_readiness_panels.jinja",
        {
            "service": service,
            "readiness": state,
            "progress": progress,
            "missing": missing[:MISSING_SHOWN],
            "missing_more": max(len(missing) - MISSING_SHOWN, 0),
            "override": readiness_selectors.production_override(service)
            if state.unreviewed_in_production
            else None,
            "may_request": state.open_review is None
            and readiness.can_request_review(user, service),
            "needs_review": readiness.needs_review_for_production(service.tier),
            "results": scorecard_selectors.service_results(service.pk),
            "may_request_exemption": can_edit(user, service),
            "user": user,
            "csrf_input": csrf_input_lazy(request),
        },
    )


@register.inclusion_tag("services/_team_maturity_panel.html")
def team_maturity_panel(team):
    """The team page's maturity panel: its services per level on the default scorecard and its
    campaigns' progress. Three to six queries."""
    scorecards = scorecard_selectors.current_scorecards(with_rules=False)
    scorecard = next(
        (card for card in scorecards if card.key == scorecard_selectors.DEFAULT_SCORECARD), None
    )
    counts, levels = {}, []
    if scorecard is not None:
        results = scorecard_selectors.result_list().filter(
            scorecard=scorecard, service__owner_team=team
        )
        counts = scorecard_selectors.level_distribution(results)
        levels = [(0, "None")] + [(level.rank, level.name) for level in scorecard.levels.all()]
    return {
        "team": team,
        "scorecard": scorecard,
        "distribution": [(name, counts.get(rank, 0)) for rank, name in levels],
        "service_count": sum(counts.values()),
        "campaigns": scorecard_selectors.campaigns_progress(
            today=portal_date(timezone.now()),
            team=team,
            scorecards=scorecards,
            teams={team.pk: team},
        ),
    }
