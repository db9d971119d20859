"""SLO UI: the SLO scorecards (org and team), an SLO's page, its edit forms and maintenance
windows. Reads go through selectors, writes through actions."""

import zoneinfo
from datetime import datetime
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers

from portal.forms import form_page
from portal.htmx import paginate, posted, render_page_or_fragment
from portal.roles import can_edit
from portal.timezones import zone_named
from services.actions import slos as slos_actions
from services.actions.slos import maintenance_window_create, slo_create, slo_update
from services.budget.figures import BURN_RATE_RULES
from services.budget.windows import BURN_RATE_KEYS
from services.checks.catalog import MIN_COVERAGE
from services.filters import SLOFilterSet
from services.forms import (
    MaintenanceWindowForm,
    SLOForm,
)
from services.models.catalog import Service, Team
from services.models.slos import SLO, MaintenanceWindow
from services.selectors import slos as slo_selectors
from services.templatetags.slo_format import low_coverage
from services.templatetags.slo_format import objective as objective_text


def _scorecard_queryset():
    # Only the columns the rows show: an SLO's queries, labels and policy, and its snapshot's
    # burn rates and errors, are its own page's. Reading all of them made the database sort
    # and send rows ten times as wide, and Python decode their JSON: at 2,000 SLOs the
    # page's query took 15 ms instead of 4.
    # Worst budget first: the SLOs that need attention lead; never-computed ones come last.
    return (
        slo_selectors.slo_list()
        .select_related(None)
        .select_related("service__owner_team", "status")
        .only(
            "name",
            "slug",
            "objective",
            "service__name",
            "service__slug",
            "service__tier",
            "service__owner_team__name",
            "service__owner_team__slug",
            "status__policy_tier",
            "status__alert",
            "status__stale",
            "status__latest_data_at",
            "status__coverage",
            "status__monthly",
        )
        .order_by(F("budget_remaining").asc(nulls_last=True), "service__name", "name")
    )


def _render_scorecard(request, *, queryset, context):
    filterset = SLOFilterSet(request.GET, queryset=queryset)
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/scorecard.html",
        fragment_template="services/_scorecard_results.jinja",
        context={
            "filter": filterset,
            "page_obj": page,
            "none_defined": page.paginator.count == 0 and not queryset.exists(),
            **context,
        },
    )


def slo_list(request):
    """The org scorecard: every SLO, from its status snapshot."""
    return _render_scorecard(
        request, queryset=_scorecard_queryset(), context={"title": "SLO scorecard", "team": None}
    )


def team_scorecard(request, slug):
    team = get_object_or_404(Team, slug=slug)
    return _render_scorecard(
        request,
        queryset=_scorecard_queryset().filter(service__owner_team=team),
        context={"title": f"{team.name}: SLO scorecard", "team": team},
    )


def _get_slo(queryset, service_slug, slo_slug):
    return get_object_or_404(queryset, service__slug=service_slug, slug=slo_slug)


def _require_slo_editor(user, slo_or_service, verb):
    if not can_edit(user, slo_or_service):
        raise PermissionDenied(f"Only the owning team's engineers and SRE leads {verb} its SLOs.")


def _monthly_rows(slo, status) -> list[dict]:
    """The snapshot's calendar months, newest first, named in the SLO's time zone (where
    its months begin); the months before its first data are left out, a gap after is shown."""
    months = list(status.monthly if status else [])
    while months and months[0]["attainment"] is None:
        months.pop(0)
    if not months:
        return []
    # A zone dropped from the time zone database: the months keep their UTC names.
    zone = zone_named(slo.time_zone) or zoneinfo.ZoneInfo("UTC")
    rows = []
    for month in reversed(months):
        start = datetime.fromisoformat(month["start"]).astimezone(zone)
        rows.append({**month, "label": f"{start:%B %Y}"})
    return rows


def _chart_context(slo, status) -> dict:
    """What the SLO page's charts draw besides their series: the objective, for the budget's
    zero line, and the alerting rules' burn-rate thresholds for this SLO's window."""
    thresholds = {}
    if status is not None:
        slo_window = status.window_end - status.window_start
        for rule in BURN_RATE_RULES:
            value = round(rule.threshold(slo_window), 2)
            thresholds.setdefault(value, f"{rule.severity} ({rule.long_window})")
    return {
        "objective": objective_text(slo.objective),
        "thresholds": [{"value": value, "label": label} for value, label in thresholds.items()],
    }


def slo_detail(request, service_slug, slo_slug):
    """The SLO page; its status block alone when htmx refreshes it."""
    slo = _get_slo(slo_selectors.slo_detail(), service_slug, slo_slug)
    status = getattr(slo, "status", None)
    context = {
        "slo": slo,
        "status": status,
        "burn_rate_rows": [
            (key, status.burn_rates.get(key) if status else None) for key in BURN_RATE_KEYS
        ],
        "may_edit": can_edit(request.user, slo),
        "chart_context": _chart_context(slo, status),
        "low_coverage": bool(status and low_coverage(status)),
        "min_coverage": MIN_COVERAGE,
        # When the budget runs out at the current 1h burn rate, for Django's timeuntil.
        "exhausted_at": (
            status.computed_at + status.time_until_exhaustion
            if status and status.time_until_exhaustion is not None
            else None
        ),
    }
    if request.htmx and not request.htmx.boosted:
        template = "services/_slo_status.html"
    else:
        template = "services/slo_detail.html"
        context["maintenance_form"] = MaintenanceWindowForm()
        context["monthly_rows"] = _monthly_rows(slo, status)
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def slo_add(request, service_slug):
    service = get_object_or_404(Service, slug=service_slug)
    _require_slo_editor(request.user, service, "add")
    form = SLOForm(posted(request), instance=SLO(service=service))
    return form_page(
        request,
        form,
        partial(slo_create, service=service),
        title=f"Add an SLO to {service.name}",
        cancel_url=service.get_absolute_url(),
        success=lambda slo: f"SLO “{slo.name}” was added to {service.name}.",
    )


def slo_edit(request, service_slug, slo_slug):
    slo = _get_slo(SLO.objects.select_related("service"), service_slug, slo_slug)
    _require_slo_editor(request.user, slo, "edit")
    title, cancel_url = f"Edit {slo.name}", slo.get_absolute_url()
    form = SLOForm(posted(request), instance=slo)
    return form_page(
        request,
        form,
        partial(slo_update, slo=slo),
        title=title,
        cancel_url=cancel_url,
        success=lambda slo: f"SLO “{slo.name}” was saved.",
    )


def slo_delete(request, service_slug, slo_slug):
    slo = _get_slo(SLO.objects.select_related("service"), service_slug, slo_slug)
    _require_slo_editor(request.user, slo, "delete")
    if request.method == "POST":
        slos_actions.slo_delete(slo=slo)
        messages.success(request, f"SLO “{slo.name}” was deleted.")
        return redirect(slo.service)
    return render(request, "services/slo_confirm_delete.html", {"object": slo})


def maintenance_window_add(request, service_slug, slo_slug):
    slo = _get_slo(SLO.objects.select_related("service"), service_slug, slo_slug)
    _require_slo_editor(request.user, slo, "plan maintenance for")
    form = MaintenanceWindowForm(posted(request))
    return form_page(
        request,
        form,
        partial(maintenance_window_create, slo=slo),
        title=f"Plan maintenance for {slo.name}",
        cancel_url=slo.get_absolute_url(),
        success=lambda window: "The maintenance window was added.",
        redirect_to=slo,
    )


def maintenance_window_delete(request, service_slug, slo_slug, pk):
    window = get_object_or_404(
        MaintenanceWindow.objects.select_related("slo__service"),
        pk=pk,
        slo__slug=slo_slug,
        slo__service__slug=service_slug,
    )
    _require_slo_editor(request.user, window.slo, "plan maintenance for")
    if request.method == "POST":
        slos_actions.maintenance_window_delete(window=window)
        messages.success(request, "The maintenance window was deleted.")
        return redirect(window.slo)
    return render(request, "services/slo_maintenance_confirm_delete.html", {"object": window})
