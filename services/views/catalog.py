"""Catalog UI: services, teams and the Backstage upload. Reads go through selectors, writes
through actions; a list's full page and its htmx fragment come from one view."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from portal.forms import form_page
from portal.htmx import paginate, posted, render_page_or_fragment
from portal.roles import can_create_anything, can_edit, is_sre_lead
from services.actions import catalog as catalog_actions
from services.actions.catalog import service_create, service_update, team_create, team_update
from services.backstage.importer import import_sources
from services.backstage.sources import BackstageImportError, Source
from services.filters import ServiceFilterSet, TeamFilterSet
from services.forms import (
    BackstageImportForm,
    ServiceForm,
    TeamForm,
)
from services.models.catalog import Service, Team
from services.selectors import catalog as catalog_selectors
from services.selectors import slos as slo_selectors


def _require_sre_lead(user):
    if not is_sre_lead(user):
        raise PermissionDenied("Only SRE leads manage teams and imports.")


def service_list(request):
    # The rows read only these columns (a service's description and links can be long), and
    # their tags' names.
    services = (
        catalog_selectors.service_list()
        .only("name", "slug", "tier", "lifecycle", "owner_team__name", "owner_team__slug")
        .prefetch_related(None)
    )
    filterset = ServiceFilterSet(request.GET, queryset=services)
    page = paginate(request, filterset.qs)
    page.object_list = catalog_selectors.with_tag_names(page.object_list)
    return render_page_or_fragment(
        request,
        page_template="services/service_list.html",
        fragment_template="services/_service_results.jinja",
        context={
            "filter": filterset,
            "page_obj": page,
            # Only an empty result needs to know whether the catalog itself is empty.
            "catalog_is_empty": page.paginator.count == 0 and not Service.objects.exists(),
            "may_add": can_create_anything(request.user),
        },
    )


def service_detail(request, slug):
    service = catalog_selectors.service_page_of(slug)
    if service is None:
        raise Http404("No service has this slug.")
    tags, depends_on, dependents = catalog_selectors.service_neighbours(service)
    return render(
        request,
        "services/service_detail.html",
        {
            "service": service,
            "tags": tags,
            "depends_on": depends_on,
            "dependents": dependents,
            "may_edit": can_edit(request.user, service),
            "slos": slo_selectors.service_slo_panel(service=service),
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
    service = get_object_or_404(catalog_selectors.service_detail(), slug=slug)
    if not can_edit(request.user, service):
        raise PermissionDenied("Only the owning team's engineers and SRE leads delete a service.")
    if request.method == "POST":
        catalog_actions.service_delete(service=service)
        messages.success(request, f"Service “{service.name}” was deleted.")
        return redirect("service_list")
    return render(request, "services/service_confirm_delete.html", {"object": service})


def team_list(request):
    filterset = TeamFilterSet(request.GET, queryset=catalog_selectors.team_list())
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
    team = get_object_or_404(catalog_selectors.team_detail(), slug=slug)
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
    team = get_object_or_404(catalog_selectors.team_detail(), slug=slug)
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
