"""Compliance pages: the matrix of services by checks, check definitions, a check's run
history on one service (and its attestation), findings, and the auditors' CSV. Reads go
through portal.compliance.selectors, writes through portal.compliance.actions."""

import csv
import re
from dataclasses import dataclass
from datetime import UTC
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.compliance import selectors
from portal.compliance.actions.attestations import compliance_attest
from portal.compliance.actions.checks import (
    compliance_check_create,
    compliance_check_delete,
    compliance_check_update,
)
from portal.compliance.actions.findings import (
    compliance_finding_accept_risk,
    compliance_finding_acknowledge,
)
from portal.compliance.choices import CheckMethod, FindingStatus
from portal.compliance.filters import (
    ComplianceCheckFilterSet,
    ComplianceFindingFilterSet,
    ComplianceMatrixFilterSet,
    ComplianceResultFilterSet,
)
from portal.compliance.forms import AcceptRiskForm, AttestationForm, ComplianceCheckForm
from portal.compliance.models.checks import ComplianceCheck
from portal.forms import add_action_error, form_page
from portal.htmx import paginate, posted, render_page_or_fragment
from portal.roles import can_edit_team_records, is_sre_lead
from services.models.catalog import Service

MONTH = re.compile(r"(\d{4})-(\d{2})")


def _require_sre_lead(user, what="manage compliance checks"):
    if not is_sre_lead(user):
        raise PermissionDenied(f"Only SRE leads {what}.")


# --- the matrix --------------------------------------------------------------------------------


def compliance_matrix(request):
    """Services by checks: each cell the last result and its age, opening the run history."""
    now = timezone.now()
    filterset = ComplianceMatrixFilterSet(request.GET, queryset=selectors.matrix_rows())
    page = paginate(request, filterset.qs)
    chosen = filterset.form.cleaned_data.get("check") if filterset.is_valid() else None
    checks = list(chosen) if chosen else list(selectors.enabled_checks())
    cells = selectors.matrix_cells([service.pk for service in page], [c.pk for c in checks])
    stale_before = selectors.stale_before(now)
    # Each cell's link, badge and age worked out here rather than in the template: a page
    # has up to 25 rows of a cell per check.
    history = {
        check.pk: reverse("compliance_history", args=[check.slug, "-"])[:-2] for check in checks
    }
    rows = [
        (
            service,
            [
                MatrixCell.of(
                    cells.get((service.pk, check.pk)), check, service, history, now, stale_before
                )
                for check in checks
            ],
        )
        for service in page
    ]
    return render_page_or_fragment(
        request,
        page_template="compliance/matrix.html",
        fragment_template="compliance/_matrix_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "checks": checks,
            "rows": rows,
            "month": timezone.localtime(now).strftime("%Y-%m"),
        },
    )


def age(delta) -> str:
    """How long ago, coarsely: "5 min", "3 h", "2 d"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """What one cell of the matrix shows; `href` is empty where the check does not apply."""

    href: str = ""
    label: str = ""
    outcome: str = ""
    meta: str = ""
    stale: bool = False
    title: str = ""

    @classmethod
    def of(cls, status, check, service, history, now, stale_before) -> "MatrixCell":
        if status is None:
            return cls()
        if status.outcome:
            label, meta = status.get_outcome_display(), f"{age(now - status.checked_at)} ago"
        else:
            due = timezone.localtime(status.due_at)
            label, meta = "Not run yet", f"due {due.day} {due:%b %H:%M}"
        return cls(
            href=f"{history[check.pk]}{service.slug}/",
            label=label,
            outcome=status.outcome,
            meta=meta,
            stale=status.due_at < stale_before,
            title=f"{check.name} on {service.name}",
        )


def _month(request):
    text = request.GET.get("month", "").strip()
    if not text:
        today = selectors.today()
        return today.year, today.month
    match = MONTH.fullmatch(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        return None
    return int(match.group(1)), int(match.group(2))


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "checked_at",
    "check",
    "kind",
    "method",
    "service",
    "team",
    "outcome",
    "value",
    "detail",
    "duration_ms",
    "result_id",
]


def compliance_export_csv(request):
    """Every result of a month (?month=YYYY-MM, the current one by default), for auditors:
    streamed, oldest first, times in UTC."""
    month = _month(request)
    if month is None:
        return render(
            request,
            "compliance/export_error.html",
            {"given": request.GET.get("month", "")},
            status=400,
        )
    year, number = month
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(CSV_HEADER)
        for result in selectors.results_in_month(year, number).iterator(chunk_size=2000):
            check, service = result.compliance_check, result.service
            yield writer.writerow(
                [
                    result.checked_at.astimezone(UTC).isoformat(),
                    check.slug,
                    check.kind,
                    check.method,
                    service.slug,
                    service.owner_team.slug,
                    result.outcome,
                    "" if result.value is None else result.value,
                    result.detail,
                    result.duration_ms,
                    result.pk,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"compliance-{year:04d}-{number:02d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- checks ------------------------------------------------------------------------------------


def compliance_check_list(request):
    filterset = ComplianceCheckFilterSet(request.GET, queryset=selectors.check_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="compliance/check_list.html",
        fragment_template="compliance/_check_results.html",
        context={"filter": filterset, "page_obj": page, "may_add": is_sre_lead(request.user)},
    )


def compliance_check_detail(request, slug):
    check = get_object_or_404(selectors.check_list(), slug=slug)
    filterset = ComplianceResultFilterSet(
        request.GET, queryset=selectors.result_list().filter(compliance_check=check)
    )
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="compliance/check_detail.html",
        fragment_template="compliance/_result_results.html",
        context={
            "check": check,
            "filter": filterset,
            "page_obj": page,
            "may_edit": is_sre_lead(request.user),
            "show_service": True,
        },
    )


def compliance_check_add(request):
    _require_sre_lead(request.user)
    form = ComplianceCheckForm(posted(request))
    return form_page(
        request,
        form,
        partial(compliance_check_create, by=request.user),
        title="Add a compliance check",
        cancel_url=reverse("compliance_check_list"),
        success=lambda check: f"The check “{check.name}” was created.",
    )


def compliance_check_edit(request, slug):
    _require_sre_lead(request.user)
    check = get_object_or_404(ComplianceCheck, slug=slug)
    form = ComplianceCheckForm(posted(request), instance=check)
    return form_page(
        request,
        form,
        partial(compliance_check_update, check=check, by=request.user),
        title=f"Edit {check.name}",
        cancel_url=check.get_absolute_url(),
        success=lambda check: f"The check “{check.name}” was saved.",
    )


def compliance_check_delete_view(request, slug):
    _require_sre_lead(request.user)
    check = get_object_or_404(ComplianceCheck, slug=slug)
    if request.method == "POST":
        compliance_check_delete(check=check)
        messages.success(request, f"The check “{check.name}” was deleted.")
        return redirect("compliance_check_list")
    return render(request, "compliance/check_confirm_delete.html", {"object": check})


# --- one check on one service ------------------------------------------------------------------


def _check_and_service(check_slug, service_slug):
    check = get_object_or_404(ComplianceCheck, slug=check_slug)
    service = get_object_or_404(Service.objects.select_related("owner_team"), slug=service_slug)
    return check, service


def _may_attest(user, check, service, status) -> bool:
    return (
        check.method == CheckMethod.ATTESTATION
        and status is not None
        and can_edit_team_records(user, service.owner_team_id)
    )


def compliance_history(request, check_slug, service_slug, *, form=None):
    """A check's runs on one service, newest first, with the service's finding for it and,
    for an attestation check, the form to attest."""
    check, service = _check_and_service(check_slug, service_slug)
    status = selectors.status_detail(check, service)
    filterset = ComplianceResultFilterSet(
        request.GET,
        queryset=selectors.result_list().filter(compliance_check=check, service=service),
    )
    page = paginate(request, filterset.qs)
    may_attest = _may_attest(request.user, check, service, status)
    return render_page_or_fragment(
        request,
        page_template="compliance/history.html",
        fragment_template="compliance/_result_results.html",
        context={
            "check": check,
            "service": service,
            "status": status,
            "stale_before": selectors.stale_before(timezone.now()),
            "filter": filterset,
            "page_obj": page,
            "finding": selectors.finding_list()
            .filter(compliance_check=check, service=service)
            .first(),
            "latest_attestation": selectors.latest_attestation(check, service)
            if check.method == CheckMethod.ATTESTATION
            else None,
            "may_attest": may_attest,
            "attest_form": form or (AttestationForm() if may_attest else None),
        },
    )


@require_POST
def compliance_attest_view(request, check_slug, service_slug):
    check, service = _check_and_service(check_slug, service_slug)
    status = selectors.status_detail(check, service)
    if not _may_attest(request.user, check, service, status):
        raise PermissionDenied("Only the owner team's engineers and SRE leads attest.")
    form = AttestationForm(request.POST)
    if form.is_valid():
        try:
            compliance_attest(
                check=check, service=service, by=request.user, **form.action_arguments()
            )
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, f"Attested “{check.name}” for {service.name}.")
            return redirect("compliance_history", check.slug, service.slug)
    response = compliance_history(request, check_slug, service_slug, form=form)
    response.status_code = 400
    return response


# --- findings ----------------------------------------------------------------------------------


def compliance_finding_list(request):
    data = request.GET
    if not data:
        # What needs attention first: the unresolved findings.
        data = data.copy()
        data.setlist("status", [FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
    filterset = ComplianceFindingFilterSet(data, queryset=selectors.finding_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="compliance/finding_list.html",
        fragment_template="compliance/_finding_results.html",
        context={"filter": filterset, "page_obj": page, "today": selectors.today()},
    )


def compliance_finding_detail(request, pk, *, risk_form=None):
    finding = get_object_or_404(selectors.finding_detail(), pk=pk)
    user = request.user
    return render(
        request,
        "compliance/finding_detail.html",
        {
            "finding": finding,
            "today": selectors.today(),
            "may_acknowledge": finding.status == FindingStatus.OPEN
            and can_edit_team_records(user, finding.team_id),
            "may_accept_risk": finding.status in (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)
            and is_sre_lead(user),
            "risk_form": risk_form or AcceptRiskForm(),
            "history": finding.history.select_related("history_user").order_by("-history_date")[
                :20
            ],
        },
        status=400 if risk_form is not None else 200,
    )


@require_POST
def compliance_finding_acknowledge_view(request, pk):
    finding = get_object_or_404(selectors.finding_list(), pk=pk)
    if not can_edit_team_records(request.user, finding.team_id):
        raise PermissionDenied("Only the owner team's engineers and SRE leads acknowledge it.")
    try:
        compliance_finding_acknowledge(finding=finding, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The finding is acknowledged.")
    return redirect(finding)


@require_POST
def compliance_finding_accept_risk_view(request, pk):
    _require_sre_lead(request.user, "accept risks")
    finding = get_object_or_404(selectors.finding_list(), pk=pk)
    form = AcceptRiskForm(request.POST)
    if form.is_valid():
        try:
            compliance_finding_accept_risk(
                finding=finding, by=request.user, **form.action_arguments()
            )
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, "The risk is accepted until the date given.")
            return redirect(finding)
    return compliance_finding_detail(request, pk, risk_form=form)
