"""Deployments UI: the deployment list, the DORA page (from the worker's snapshots) and the
incident page's "caused by deployment" link."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.models.incidents import Incident
from portal.htmx import paginate, render_page_or_fragment
from portal.timezones import portal_zone
from toil import dora
from toil.actions.deployments import incident_cause_set
from toil.filters.changes import DeploymentFilterSet
from toil.forms.changes import DoraScopeForm, IncidentCauseForm
from toil.models.deployments import Deployment
from toil.permissions.changes import can_link_incident_cause
from toil.selectors import deployments as deployment_selectors

#: Months the DORA page charts.
DORA_PAGE_MONTHS = 12
HOUR = 3600


def deployment_list(request):
    filterset = DeploymentFilterSet(request.GET, queryset=deployment_selectors.deployment_list())
    page = paginate(request, filterset.qs, tie_breaker="-pk")
    return render_page_or_fragment(
        request,
        page_template="toil/deployment_list.html",
        fragment_template="toil/_deployment_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "none_recorded": page.paginator.count == 0 and not Deployment.objects.exists(),
        },
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 2)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _bound(name: str, key: str, band: str, unit) -> dict:
    """A band's bound as a chart's line: its value in the chart's ``unit`` and its label."""
    return {
        "band": band,
        "value": unit(dora.band_bound(key, band)),
        "label": f"{name}: {dora.band_statement(key, band)}",
    }


def dora_month_rows(series: deployment_selectors.DoraSeries) -> list[dict]:
    rows = []
    for month in reversed(series.months):
        figures = series.figures[month]
        rows.append(
            {
                "month": deployment_selectors.month_start(month),
                "figures": figures,
                "bands": dora.bands(figures),
                "band": dora.overall_band(figures),
            }
        )
    return rows


def dora_page(request):
    form = DoraScopeForm(request.GET or None)
    team = service = None
    if form.is_valid():
        service = form.cleaned_data["service"]
        team = None if service else form.cleaned_data["team"]
    now = timezone.now()
    series = deployment_selectors.dora_series(
        team=team, service=service, months=DORA_PAGE_MONTHS, now=now
    )
    figures = [series.figures[month] for month in series.months]
    chart = {
        "months": [f"{deployment_selectors.month_start(month):%b %Y}" for month in series.months],
        "deployments": [f.successful for f in figures],
        "failures": [f.failures for f in figures],
        "lead_time_hours": [_hours(f.lead_time) for f in figures],
        "recovery_hours": [_hours(f.recovery_time) for f in figures],
        "change_failure_percent": [_percent(f.change_failure_rate) for f in figures],
        "rework_percent": [_percent(f.rework_rate) for f in figures],
        # The lines that give the charts their meaning, from the bands the figures are
        # judged by (toil.dora.BANDS), in the charts' units.
        "time_bounds": [
            _bound("Elite lead time", "lead_time", dora.ELITE, _hours),
            _bound("Elite recovery", "recovery_time", dora.ELITE, _hours),
        ],
        "rate_bounds": [
            _bound("Elite", "change_failure_rate", dora.ELITE, _percent),
            _bound("Medium", "change_failure_rate", dora.MEDIUM, _percent),
        ],
    }
    zone = portal_zone()
    last_complete = dora.last_months(now, 2, zone)[0]
    return render(
        request,
        "toil/dora.html",
        {
            "form": form,
            "team": team,
            "service": service,
            "series": series,
            "month_rows": dora_month_rows(series),
            "chart": chart,
            "band_table": [
                {"name": name, "bounds": bounds} for name, bounds in dora.BAND_TABLE.values()
            ],
            "bands": dora.BAND_ORDER,
            "team_rows": deployment_selectors.dora_team_rows(month=last_complete)
            if service is None
            else [],
            "team_month": deployment_selectors.month_start(last_complete),
        },
    )


@require_POST
def incident_cause_update(request, reference):
    """Set (or clear) the deployment that caused the incident, from the incident page."""
    incident = get_object_or_404(Incident.objects.prefetch_related("services"), reference=reference)
    if not can_link_incident_cause(request.user, incident):
        raise PermissionDenied("Only the incident's teams and responders say what caused it.")
    form = IncidentCauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a deployment from the list.")
        return redirect(incident)
    deployment_id = form.cleaned_data["deployment"]
    deployment = None
    if deployment_id:
        deployment = Deployment.objects.select_related("service").filter(pk=deployment_id).first()
        if deployment is None:
            messages.error(request, f"There is no deployment #{deployment_id}.")
            return redirect(incident)
    try:
        incident_cause_set(incident=incident, deployment=deployment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Caused by {deployment.service.name} {deployment.version}."
            if deployment
            else "The cause is no longer recorded.",
        )
    return redirect(incident)
