"""Incident UI: the list, declaring, the incident page with its live timeline and in-place
changes, status updates and the metrics page. Reads go through selectors, writes through
actions; a page and its htmx fragment come from one view."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from incidents.actions import incidents as incidents_actions
from incidents.actions.incidents import incident_subscribe, incident_update
from incidents.actions.status_updates import status_update_queue
from incidents.choices import Severity, StatusUpdateKind
from incidents.filters.incidents import IncidentFilterSet
from incidents.forms.incidents import (
    IncidentDeclareForm,
    IncidentEditForm,
    IncidentMetricsForm,
    IncidentNoteForm,
    IncidentReopenForm,
    IncidentRoleForm,
    IncidentSeverityForm,
    IncidentStatusForm,
    StatusUpdateForm,
    StatusUpdateKindForm,
)
from incidents.models.incidents import Incident, StatusUpdate, TimelineEntry
from incidents.permissions import (
    can_command,
    can_declare,
    can_send_status_updates,
    can_write_timeline,
)
from incidents.selectors import incidents as incident_selectors
from incidents.selectors import metrics as metric_selectors
from incidents.status_updates import NOBODY_TO_TELL, recipients_of
from portal import notifications
from portal.forms import add_action_error, form_page
from portal.htmx import paginate, posted, render_page_or_fragment
from services.selectors import slos as slo_selectors

#: How often an open incident's page asks for new timeline entries.
TIMELINE_POLL_SECONDS = 10


# --- List and declaring ---------------------------------------------------------------------


def incident_list(request):
    filterset = IncidentFilterSet(request.GET, queryset=incident_selectors.incident_rows())
    page = paginate(request, filterset.qs, tie_breaker="-pk")
    page.object_list = incident_selectors.with_service_links(page.object_list)
    return render_page_or_fragment(
        request,
        page_template="incidents/incident_list.html",
        fragment_template="incidents/_incident_results.jinja",
        context={
            "filter": filterset,
            "page_obj": page,
            # Only an empty result needs to know whether there are incidents at all.
            "none_recorded": page.paginator.count == 0 and not Incident.objects.exists(),
            "may_declare": can_declare(request.user),
        },
    )


def _declare_initial(query) -> dict:
    """The fields a link prefills (``?service=<slug>&slo=<slug>``, from a paging SLO's page):
    the affected service, and a title and summary naming the SLO."""
    service, slo = slo_selectors.service_and_slo(query.get("service", ""), query.get("slo", ""))
    if service is None:
        return {}
    initial = {"services": [service.pk]}
    if slo is not None:
        initial["title"] = f"{service.name}: {slo.name} burns its error budget"
        initial["summary"] = f"The SLO “{slo.name}” of {service.name} pages."
    return initial


def incident_declare(request):
    if not can_declare(request.user):
        raise PermissionDenied("Only engineers and SRE leads declare incidents.")
    form = IncidentDeclareForm(posted(request), initial=_declare_initial(request.GET))
    if request.method == "POST" and form.is_valid():
        try:
            incident = incidents_actions.incident_declare(
                declared_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, f"{incident.reference} is declared. You follow it.")
            return redirect(incident)
    return render(
        request,
        "incidents/incident_declare.html",
        {"form": form, "severity_levels": incident_selectors.severity_levels().values()},
    )


# --- The incident page ----------------------------------------------------------------------


def _incident(reference) -> Incident:
    return get_object_or_404(incident_selectors.incident_detail(), reference=reference)


def _incident_page(request, reference) -> Incident:
    """The incident as its page (or a part of it) shows it."""
    incident = incident_selectors.incident_page_of(request.user, reference)
    if incident is None:
        raise Http404("No incident has this reference.")
    return incident


def _timeline_context(request, incident) -> dict:
    return {
        "incident": incident,
        "timeline_entries": incident_selectors.timeline_entries(incident=incident),
        "may_write_timeline": can_write_timeline(request.user, incident),
        "poll_seconds": TIMELINE_POLL_SECONDS,
    }


def _detail_context(request, incident, **forms):
    user = request.user
    may_command = can_command(user, incident)
    context = {
        **_timeline_context(request, incident),
        "status_updates": incident_selectors.status_updates(incident=incident),
        "may_command": may_command,
        "may_send_updates": can_send_status_updates(user, incident),
        "note_form": forms.get("note_form") or IncidentNoteForm(),
        "now": timezone.now(),
    }
    if may_command:
        # The controls of whoever commands the incident; building them (the role form's
        # people above all) is wasted on everyone else, who reads the page most.
        context |= {
            "status_form": forms.get("status_form") or IncidentStatusForm(incident=incident),
            "reopen_form": forms.get("reopen_form") or IncidentReopenForm(incident=incident),
            "severity_form": forms.get("severity_form")
            or IncidentSeverityForm(initial={"severity": incident.severity}),
            "role_form": forms.get("role_form") or IncidentRoleForm(incident=incident),
        }
    return context


def incident_detail(request, reference):
    incident = _incident_page(request, reference)
    if request.htmx and request.htmx.target == "timeline":
        # The live timeline asks for itself every few seconds.
        response = render(
            request, "incidents/_timeline.jinja", _timeline_context(request, incident)
        )
    else:
        response = render(
            request, "incidents/incident_detail.html", _detail_context(request, incident)
        )
    # The same URL answers with the page or the timeline alone: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _after_change(request, incident, *, success: str | None = None, **forms):
    """The answer to an in-place change: the incident's state and timeline again (htmx), or
    the page; a form with errors is shown with them instead of the fresh one."""
    incident = _incident_page(request, incident.reference)
    if success and not request.htmx:
        messages.success(request, success)
        return redirect(incident)
    context = _detail_context(request, incident, **forms)
    if request.htmx:
        # htmx swaps 200 answers only: errors come with 200 and the form explains them.
        return render(request, "incidents/_incident_state.html", context)
    return render(request, "incidents/incident_detail.html", context, status=400)


def _commanded_incident(request, reference) -> Incident:
    incident = _incident(reference)
    if not can_command(request.user, incident):
        raise PermissionDenied("Only the incident commander and SRE leads steer the incident.")
    return incident


def _timeline_incident(request, reference) -> Incident:
    incident = _incident(reference)
    if not can_write_timeline(request.user, incident):
        raise PermissionDenied("Only the incident's teams and responders write its timeline.")
    return incident


def _change_in_place(request, incident, form_name: str, form, change, *, success: str):
    """An in-place change of the incident page: `change(form.cleaned_data)` runs the action
    once the form is valid; its refusal shows on the form, as the form's own errors do."""
    if form.is_valid():
        try:
            change(form.cleaned_data)
        except ValidationError as error:
            add_action_error(form, error)
        else:
            return _after_change(request, incident, success=success)
    return _after_change(request, incident, **{form_name: form})


@require_POST
def incident_change_status(request, reference):
    incident = _commanded_incident(request, reference)
    return _change_in_place(
        request,
        incident,
        "status_form",
        IncidentStatusForm(request.POST, incident=incident),
        lambda data: incidents_actions.incident_change_status(
            incident=incident, status=data["status"], by=request.user
        ),
        success="The status was changed.",
    )


@require_POST
def incident_reopen(request, reference):
    """Move the incident back (reopen it), with the confirmation and the reason the form
    asks for; the reason goes on the timeline."""
    incident = _commanded_incident(request, reference)
    return _change_in_place(
        request,
        incident,
        "reopen_form",
        IncidentReopenForm(request.POST, incident=incident),
        lambda data: incidents_actions.incident_change_status(
            incident=incident, status=data["status"], note=data["note"], by=request.user
        ),
        success="The incident was moved back; the reason is on the timeline.",
    )


@require_POST
def incident_change_severity(request, reference):
    incident = _commanded_incident(request, reference)
    return _change_in_place(
        request,
        incident,
        "severity_form",
        IncidentSeverityForm(request.POST),
        lambda data: incidents_actions.incident_change_severity(
            incident=incident, severity=data["severity"], by=request.user
        ),
        success="The severity was changed.",
    )


@require_POST
def incident_assign_role(request, reference):
    incident = _commanded_incident(request, reference)
    return _change_in_place(
        request,
        incident,
        "role_form",
        IncidentRoleForm(request.POST, incident=incident),
        lambda data: incidents_actions.incident_assign_role(
            incident=incident, role=data["role"], user=data["person"], by=request.user
        ),
        success="The role was assigned.",
    )


@require_POST
def incident_add_note(request, reference):
    incident = _timeline_incident(request, reference)
    return _change_in_place(
        request,
        incident,
        "note_form",
        IncidentNoteForm(request.POST),
        lambda data: incidents_actions.incident_add_note(
            incident=incident, by=request.user, **data
        ),
        success="The note was added.",
    )


@require_POST
def timeline_entry_pin(request, reference, entry_id):
    incident = _timeline_incident(request, reference)
    entry = get_object_or_404(TimelineEntry, pk=entry_id, incident=incident)
    pinned = request.POST.get("pinned") == "true"
    incidents_actions.timeline_entry_pin(entry=entry, pinned=pinned)
    return _after_change(
        request, incident, success="Marked as a key event." if pinned else "No longer a key event."
    )


def incident_edit(request, reference):
    incident = _commanded_incident(request, reference)
    # Taken before validation, which writes the submitted values onto the instance.
    title, cancel_url = f"Edit {incident.reference}", incident.get_absolute_url()
    form = IncidentEditForm(posted(request), instance=incident)

    def save(**arguments):
        # Validation wrote the submitted values onto the form's instance: the action gets the
        # incident as stored, and compares against that.
        stored = Incident.objects.get(pk=incident.pk)
        return incident_update(incident=stored, by=request.user, **arguments)

    return form_page(
        request,
        form,
        save,
        title=title,
        cancel_url=cancel_url,
        success=lambda saved: f"{saved.reference} was saved.",
    )


@require_POST
def incident_follow(request, reference):
    """Anyone signed in may follow an incident: they receive its status updates."""
    incident = _incident(reference)
    following = request.POST.get("following") == "true"
    incident_subscribe(incident=incident, user=request.user, subscribed=following)
    return _after_change(
        request,
        incident,
        success="You follow this incident." if following else "You no longer follow it.",
    )


# --- Status updates -------------------------------------------------------------------------


def _draft(incident, kind) -> dict:
    draft = incident_selectors.status_update_draft(incident, kind, now=timezone.now())
    return {"kind": kind, "subject": draft.subject, "body": draft.body}


def status_update_new(request, reference):
    """Choose a kind → a draft from the incident's facts → edit → preview → send."""
    incident = _incident(reference)
    if not can_send_status_updates(request.user, incident):
        raise PermissionDenied(
            "Only the incident commander, its communications lead and SRE leads send updates."
        )
    kind = request.POST.get("kind") or request.GET.get("kind")
    if kind not in StatusUpdateKind.values:
        kind_form = StatusUpdateKindForm(request.GET if "kind" in request.GET else None)
        return render(
            request,
            "incidents/status_update_kind.html",
            {"incident": incident, "kind_form": kind_form},
        )
    recipients = recipients_of(incident)
    context = {
        "incident": incident,
        "kind_label": StatusUpdateKind(kind).label,
        "recipients": recipients,
    }
    if request.method != "POST":
        form = StatusUpdateForm(initial=_draft(incident, kind))
        return render(request, "incidents/status_update_form.html", {**context, "form": form})
    form = StatusUpdateForm(request.POST)
    step = request.POST.get("step")
    if form.is_valid() and not recipients:
        form.add_error(None, NOBODY_TO_TELL)
    if not form.is_valid() or step == "edit":
        return render(request, "incidents/status_update_form.html", {**context, "form": form})
    if step == "send":
        try:
            status_update_queue(incident=incident, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_action_error(form, error)
            return render(request, "incidents/status_update_form.html", {**context, "form": form})
        messages.success(
            request,
            f"The status update is on its way to {len(recipients)} "
            f"recipient{pluralize(len(recipients))}.",
        )
        return redirect(incident)
    unsaved = StatusUpdate(incident=incident, **form.cleaned_data)
    preview = notifications.render_email(
        "status-update", {"status_update": unsaved, "incident": incident}, recipients
    )
    return render(
        request,
        "incidents/status_update_preview.html",
        {**context, "form": form, "preview": preview},
    )


# --- Metrics --------------------------------------------------------------------------------


def _severity_rows(counts: dict, names: dict) -> list[dict]:
    """Rows of a counts-by-severity table, the most incidents first."""
    codes = Severity.values  # built anew on each access: once, not once per row
    rows = [
        {
            "name": names.get(key, "—"),
            "counts": [by_severity[code] for code in codes],
            "total": sum(by_severity.values()),
            "key": key,
        }
        for key, by_severity in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row["total"], row["name"]))


def incident_metrics(request):
    form = IncidentMetricsForm(request.GET or None)
    months = form.period_months()
    team = form.cleaned_data.get("team") if form.is_valid() else None
    calendar_month = form.calendar_month()
    if calendar_month is None:
        period = metric_selectors.incident_metrics_of(team=team, months=months, now=timezone.now())
    else:
        # One calendar month, as its monthly report counts it: few incidents, counted live.
        start, end = calendar_month
        figures, service_names, team_names = metric_selectors.incident_metrics_for_period(
            start=start,
            end=end,
            incidents=Incident.objects.filter(team=team) if team else None,
            tz=timezone.get_default_timezone(),
        )
        period = metric_selectors.PeriodMetrics(
            figures, service_names, team_names, start, end, None
        )
    figures = period.figures
    service_rows = _severity_rows(figures.by_service, period.service_names)
    for row in service_rows:
        row["mtbf"] = figures.mtbf_by_service.get(row["key"])
    team_rows = _severity_rows(figures.by_team, period.team_names)
    for row in team_rows:
        row["mtbf"] = figures.mtbf_by_team.get(row["key"])
    chart = {
        "months": [f"{month:%b %Y}" for month in figures.by_month],
        "severities": Severity.values,
        "counts": {
            code: [counts[code] for counts in figures.by_month.values()] for code in Severity.values
        },
    }
    return render(
        request,
        "incidents/incident_metrics.html",
        {
            "form": form,
            "figures": figures,
            "start": period.start,
            "end": period.end,
            "computed_at": period.computed_at,
            "calendar_month": calendar_month
            and f"{calendar_month[0]:%B %Y} ({calendar_month[0].tzinfo})",
            "team": team,
            "severities": Severity.values,
            "month_rows": [
                {
                    "month": month,
                    "counts": [counts[code] for code in Severity.values],
                    "total": sum(counts.values()),
                }
                for month, counts in figures.by_month.items()
            ],
            "service_rows": service_rows,
            "team_rows": team_rows,
            "chart": chart,
        },
    )
