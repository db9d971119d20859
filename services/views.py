"""Catalog and SLO UI: services, teams, the Backstage upload, SLOs and their scorecards.
Reads go through selectors, writes through actions; a list's full page and its htmx
fragment come from one view."""

import zoneinfo
from datetime import datetime
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from portal.forms import form_page
from portal.htmx import paginate, posted, render_page_or_fragment
from portal.roles import can_create_anything, can_edit, is_sre_lead
from services import selectors
from services.actions import catalog as catalog_actions
from services.actions import slos as slos_actions
from services.actions.catalog import service_create, service_update, team_create, team_update
from services.actions.slos import maintenance_window_create, slo_create, slo_update
from services.backstage.importer import import_sources
from services.backstage.sources import BackstageImportError, Source
from services.budget.windows import BURN_RATE_KEYS
from services.filters import ServiceFilterSet, SLOFilterSet, TeamFilterSet
from services.forms import (
    BackstageImportForm,
    MaintenanceWindowForm,
    ServiceForm,
    SLOForm,
    TeamForm,
)
from services.models.catalog import Service, Team
from services.models.slos import SLO, MaintenanceWindow


def _require_sre_lead(user):
    if not is_sre_lead(user):
        raise PermissionDenied("Only SRE leads manage teams and imports.")


def service_list(request):
    filterset = ServiceFilterSet(request.GET, queryset=selectors.service_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/service_list.html",
        fragment_template="services/_service_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            # Only an empty result needs to know whether the catalog itself is empty.
            "catalog_is_empty": page.paginator.count == 0 and not Service.objects.exists(),
            "may_add": can_create_anything(request.user),
        },
    )


def service_detail(request, slug):
    service = get_object_or_404(selectors.service_detail(), slug=slug)
    return render(
        request,
        "services/service_detail.html",
        {
            "service": service,
            "may_edit": can_edit(request.user, service),
            "slos": selectors.slo_list().filter(service=service).order_by("name"),
        },
    )


def service_add(request):
    if not can_create_anything(request.user):
        raise PermissionDenied("You are not an engineer of any team.")
    # The team page's "Add a service" link names the team to preselect.
    form = ServiceForm(
        posted(request),
        initial={"owner_team": request.GET.get("owner_team")},
        user=request.user,
    )
    return form_page(
        request,
        form,
        service_create,
        title="Add a service",
        cancel_url=reverse("service_list"),
        success=lambda service: f"Service “{service.name}” was added to the catalog.",
    )


def service_edit(request, slug):
    service = get_object_or_404(Service, slug=slug)
    if not can_edit(request.user, service):
        raise PermissionDenied("Only the owning team's engineers and SRE leads edit a service.")
    # Taken before validation, which writes the submitted values onto the instance.
    title, cancel_url = f"Edit {service.name}", service.get_absolute_url()
    form = ServiceForm(posted(request), instance=service, user=request.user)
    return form_page(
        request,
        form,
        partial(service_update, service=service),
        title=title,
        cancel_url=cancel_url,
        success=lambda service: f"Service “{service.name}” was saved.",
    )


def service_delete(request, slug):
    service = get_object_or_404(selectors.service_detail(), slug=slug)
    if not can_edit(request.user, service):
        raise PermissionDenied("Only the owning team's engineers and SRE leads delete a service.")
    if request.method == "POST":
        catalog_actions.service_delete(service=service)
        messages.success(request, f"Service “{service.name}” was deleted.")
        return redirect("service_list")
    return render(request, "services/service_confirm_delete.html", {"object": service})


def team_list(request):
    filterset = TeamFilterSet(request.GET, queryset=selectors.team_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/team_list.html",
        fragment_template="services/_team_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "may_add": is_sre_lead(request.user),
        },
    )


def team_detail(request, slug):
    team = get_object_or_404(selectors.team_detail(), slug=slug)
    return render(
        request,
        "services/team_detail.html",
        {
            "team": team,
            "may_manage": is_sre_lead(request.user),
            "may_add_service": can_edit(request.user, team),
        },
    )


def team_add(request):
    _require_sre_lead(request.user)
    form = TeamForm(posted(request))
    return form_page(
        request,
        form,
        team_create,
        title="Add a team",
        cancel_url=reverse("team_list"),
        success=lambda team: f"Team “{team.name}” was created.",
    )


def team_edit(request, slug):
    _require_sre_lead(request.user)
    team = get_object_or_404(Team, slug=slug)
    title, cancel_url = f"Edit {team.name}", team.get_absolute_url()
    form = TeamForm(posted(request), instance=team)
    return form_page(
        request,
        form,
        partial(team_update, team=team),
        title=title,
        cancel_url=cancel_url,
        success=lambda team: f"Team “{team.name}” was saved.",
    )


def team_delete(request, slug):
    _require_sre_lead(request.user)
    team = get_object_or_404(selectors.team_detail(), slug=slug)
    if request.method == "POST":
        try:
            catalog_actions.team_delete(team=team)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(team)
        messages.success(request, f"Team “{team.name}” was deleted.")
        return redirect("team_list")
    return render(request, "services/team_confirm_delete.html", {"object": team})


def backstage_import(request):
    _require_sre_lead(request.user)
    form = BackstageImportForm(posted(request), request.FILES if request.method == "POST" else None)
    report_lines = None
    if request.method == "POST" and form.is_valid():
        sources = [Source(name, text) for name, text in form.cleaned_data["files"]]
        try:
            report_lines = import_sources(sources).summary_lines()
        except BackstageImportError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The catalog was imported.")
    return render(
        request,
        "services/backstage_import.html",
        {"form": form, "report_lines": report_lines},
    )


# --- SLOs --------------------------------------------------------------------------------


def _scorecard_queryset():
    # Worst budget first: the SLOs that need attention lead; never-computed ones come last.
    return selectors.slo_list().order_by(
        F("budget_remaining").asc(nulls_last=True), "service__name", "name"
    )


def _render_scorecard(request, *, queryset, context):
    filterset = SLOFilterSet(request.GET, queryset=queryset)
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/scorecard.html",
        fragment_template="services/_scorecard_results.html",
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
    try:
        zone = zoneinfo.ZoneInfo(slo.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A zone dropped from the time zone database: the months keep their UTC names.
        zone = zoneinfo.ZoneInfo("UTC")
    rows = []
    for month in reversed(months):
        start = datetime.fromisoformat(month["start"]).astimezone(zone)
        rows.append({**month, "label": f"{start:%B %Y}"})
    return rows


def slo_detail(request, service_slug, slo_slug):
    """The SLO page; its status block alone when htmx refreshes it."""
    slo = _get_slo(selectors.slo_detail(), service_slug, slo_slug)
    status = getattr(slo, "status", None)
    context = {
        "slo": slo,
        "status": status,
        "burn_rate_rows": [
            (key, status.burn_rates.get(key) if status else None) for key in BURN_RATE_KEYS
        ],
        "may_edit": can_edit(request.user, slo),
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
