"""Change approvals UI: the change list with its 14-day calendar and what awaits the viewer,
writing and moving changes, approvals, the release checklist, freezes, and the gate's
decisions and overrides. Reads go through selectors, writes through actions; a list's page
and its htmx fragment come from one view."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.forms import add_action_error
from portal.htmx import paginate, posted, render_page_or_fragment, wants_fragment
from portal.roles import can_create_anything, is_sre_lead
from portal.timezones import portal_today, portal_zone
from toil import approvals, freezes, gate, risk
from toil.actions import approvals as approval_actions
from toil.actions import changes as actions
from toil.actions import freezes as freeze_actions
from toil.actions import gate as gate_actions
from toil.choices.changes import (
    CATEGORY_EXAMPLES,
    RELEASE_CHECKLIST,
    ChangeStatus,
)
from toil.filters.changes import (
    ChangeFilterSet,
    FreezeFilterSet,
    GateDecisionFilterSet,
    GateOverrideFilterSet,
)
from toil.forms.changes import (
    COMMON_ZONES,
    ChangeDecisionForm,
    ChangeForm,
    ChangeMoveForm,
    ChecklistForm,
    FreezeForm,
    GateOverrideForm,
)
from toil.models.changes import ChangeRequest, FreezeWindow, GateOverride
from toil.permissions.changes import (
    can_change_services,
    can_edit_change,
    can_manage_freeze,
    can_manage_freeze_window,
    can_override_gate,
    can_write_changes,
)
from toil.selectors import changes as selectors
from toil.selectors import freezes as freeze_selectors
from toil.selectors import gate as gate_selectors
from toil.selectors import risk as risk_selectors
from toil.selectors import schedule as schedule_selectors

#: The calendar's length, from today.
CALENDAR_DAYS = 14
#: How many changes awaiting the viewer the list shows above everything else.
AWAITING_SHOWN = 10


# --- the list and the calendar ----------------------------------------------------------------


def change_list(request):
    filterset = ChangeFilterSet(request.GET, queryset=selectors.change_list(), request=request)
    page = paginate(request, filterset.qs, tie_breaker="-pk")
    context = {
        "filter": filterset,
        "page_obj": page,
        "none_recorded": page.paginator.count == 0 and not ChangeRequest.objects.exists(),
        "may_write": can_write_changes(request.user),
    }
    if not wants_fragment(request):
        zone = portal_zone()
        # The panel shows no services: the list's prefetch of them is not needed here.
        awaiting = list(
            selectors.changes_awaiting_approval(request.user).prefetch_related(None)[
                : AWAITING_SHOWN + 1
            ]
        )
        context |= {
            "awaiting": awaiting[:AWAITING_SHOWN],
            "awaiting_more": len(awaiting) > AWAITING_SHOWN,
            "calendar": schedule_selectors.change_calendar(
                today=portal_today(), days=CALENDAR_DAYS, zone=zone
            ),
            "calendar_zone": settings.TIME_ZONE,
            "calendar_changes_per_day": schedule_selectors.CALENDAR_CHANGES_PER_DAY,
        }
    return render_page_or_fragment(
        request,
        page_template="toil/change_list.html",
        fragment_template="toil/_change_results.html",
        context=context,
    )


# --- writing and editing ----------------------------------------------------------------------


def _form_page(request, form, *, title, cancel_url, template="toil/change_form.html", **extra):
    return render(
        request,
        template,
        {
            "form": form,
            "title": title,
            "cancel_url": cancel_url,
            "common_zones": COMMON_ZONES,
            "category_examples": CATEGORY_EXAMPLES,
            **extra,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def change_create(request):
    if not can_write_changes(request.user):
        raise PermissionDenied("Only engineers and SRE leads write change requests.")
    now = timezone.now().astimezone(portal_zone()).replace(second=0, microsecond=0, tzinfo=None)
    initial = {
        "window_start": now + dt.timedelta(days=1),
        "window_end": now + dt.timedelta(days=1, hours=2),
        "services": request.GET.getlist("service"),
        "category": request.GET.get("category") or None,
        "incident": request.GET.get("incident", ""),
    }
    form = ChangeForm(posted(request), initial={k: v for k, v in initial.items() if v})
    if request.method == "POST" and form.is_valid():
        arguments = form.action_arguments()
        if not can_change_services(request.user, arguments["services"]):
            form.add_error("services", "Choose at least one service of your teams.")
        else:
            try:
                change = actions.change_create(author=request.user, **arguments)
            except ValidationError as error:
                add_action_error(form, error)
            else:
                messages.success(request, f"Change #{change.pk} is saved as a draft.")
                return redirect(change)
    return _form_page(request, form, title="New change request", cancel_url=reverse("change_list"))


def _change(pk) -> ChangeRequest:
    return get_object_or_404(selectors.change_detail(), pk=pk)


def _editable_change(request, pk) -> ChangeRequest:
    change = _change(pk)
    if not can_edit_change(request.user, change):
        raise PermissionDenied("Only the change's author, implementer, teams and SRE leads do.")
    return change


def change_edit(request, pk):
    change = _editable_change(request, pk)
    if change.status != ChangeStatus.DRAFT:
        messages.error(request, "Only a draft is edited: this change was already submitted.")
        return redirect(change)
    form = ChangeForm(posted(request), instance=change)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_update(change=change, by=request.user, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, f"Change #{change.pk} was saved.")
            return redirect(change)
    return _form_page(
        request, form, title=f"Edit change #{change.pk}", cancel_url=change.get_absolute_url()
    )


def change_delete(request, pk):
    change = _editable_change(request, pk)
    if request.method == "POST":
        try:
            actions.change_delete(change=change, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(change)
        messages.success(request, f"The draft “{change.title}” was deleted.")
        return redirect("change_list")
    return render(request, "toil/change_confirm_delete.html", {"object": change})


# --- the change page --------------------------------------------------------------------------


def _checklist(change: ChangeRequest) -> list[dict]:
    return [
        {
            "stage": stage,
            "items": [
                {"key": key, "label": label, "done": change.checklist.get(key)}
                for key, label in items
            ],
        }
        for stage, items in RELEASE_CHECKLIST
    ]


def _detail_context(request, change: ChangeRequest, *, move_form=None, decision_form=None):
    user, now = request.user, timezone.now()
    may_edit = can_edit_change(user, change)
    refusal = approvals.approval_refusal(
        selectors.change_facts(change), selectors.approver_facts(user), now
    )
    services = list(change.services.all())
    assessment = risk_selectors.change_risk(change, services)
    context = {
        "change": change,
        "services": services,
        "events": selectors.change_events(change),
        "deployments": change.deployments.select_related("service").order_by("-finished_at")[:10],
        "may_edit": may_edit,
        "moves": [
            {"name": name, "label": approvals.MOVE_LABELS[name]}
            for name in approvals.moves_from(change.status, category=change.category)
        ]
        if may_edit
        else [],
        "may_decide": refusal is None,
        "decision_refusal": refusal,
        "move_form": move_form or ChangeMoveForm(),
        "decision_form": decision_form or ChangeDecisionForm(),
        "approvals_required": selectors.approvals_required(change),
        "review_required": approvals.review_required(
            category=change.category, status=change.status
        ),
        "checklist": _checklist(change),
        "risk": assessment,
        "risk_weights": risk.weight_table(),
        "risk_levels": risk.level_table(),
        "now": now,
    }
    if change.status == ChangeStatus.APPROVED:
        context["conflicts"] = schedule_selectors.change_conflicts(change, now=now)
    if services and change.status not in {ChangeStatus.DRAFT, ChangeStatus.REJECTED}:
        facts = gate_selectors.gate_facts(
            services=services, category=change.category, change=change, now=now
        )
        context["gate_preview"] = gate.decide(facts)
    return context


def change_detail(request, pk):
    change = _change(pk)
    return render(request, "toil/change_detail.html", _detail_context(request, change))


def _after_post(request, change, *, success: str | None, **forms):
    if success:
        messages.success(request, success)
        return redirect(change)
    change = _change(change.pk)
    return render(
        request, "toil/change_detail.html", _detail_context(request, change, **forms), status=400
    )


@require_POST
def change_move(request, pk, move):
    change = _editable_change(request, pk)
    if move not in approvals.MOVES:
        raise PermissionDenied("Unknown move.")
    form = ChangeMoveForm(request.POST)
    if form.is_valid():
        try:
            actions.change_move(
                change=change,
                move=move,
                by=request.user,
                review=form.cleaned_data["review"],
                acknowledge_conflicts=form.cleaned_data["acknowledge_conflicts"],
            )
        except ValidationError as error:
            add_action_error(form, error)
        else:
            target = ChangeStatus(approvals.MOVES[move]).label.lower()
            return _after_post(request, change, success=f"The change is {target}.")
    return _after_post(request, change, success=None, move_form=form)


@require_POST
def change_decide(request, pk):
    change = _change(pk)
    form = ChangeDecisionForm(request.POST)
    if form.is_valid():
        try:
            approval = approval_actions.change_decide(
                change=change, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_action_error(form, error)
        else:
            return _after_post(
                request,
                change,
                success=f"Your decision is recorded: {approval.get_decision_display().lower()}.",
            )
    return _after_post(request, change, success=None, decision_form=form)


@require_POST
def change_checklist(request, pk):
    change = _editable_change(request, pk)
    form = ChecklistForm(request.POST)
    if form.is_valid():
        try:
            actions.change_checklist_tick(change=change, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Unknown checklist item.")
    return redirect(reverse("change_detail", args=[change.pk]) + "#checklist")


# --- freezes ----------------------------------------------------------------------------------


def freeze_list(request):
    filterset = FreezeFilterSet(request.GET, queryset=freeze_selectors.freeze_list())
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="toil/freeze_list.html",
        fragment_template="toil/_freeze_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "none_recorded": page.paginator.count == 0 and not FreezeWindow.objects.exists(),
            "may_add": can_create_anything(request.user),
        },
    )


def _freeze(pk) -> FreezeWindow:
    return get_object_or_404(freeze_selectors.freeze_list(), pk=pk)


def freeze_detail(request, pk):
    freeze = _freeze(pk)
    now = timezone.now()
    upcoming = freezes.occurrences(freeze.rule(), now, now + dt.timedelta(days=120))[:10]
    return render(
        request,
        "toil/freeze_detail.html",
        {
            "freeze": freeze,
            "occurrences": upcoming,
            "in_force": any(start <= now < end for start, end in upcoming),
            "may_edit": can_manage_freeze_window(request.user, freeze),
        },
    )


def _freeze_form_page(request, form, save, *, title, cancel_url):
    if request.method == "POST" and form.is_valid():
        data = form.action_arguments()
        if not can_manage_freeze(
            request.user, scope=data["scope"], team=data["team"], service=data["service"]
        ):
            form.add_error(
                "scope",
                "SRE leads freeze the whole organisation; engineers freeze their own team's "
                "services.",
            )
        else:
            try:
                freeze = save(**data)
            except ValidationError as error:
                add_action_error(form, error)
            else:
                messages.success(request, f"The freeze “{freeze.name}” was saved.")
                return redirect(freeze)
    return _form_page(
        request, form, title=title, cancel_url=cancel_url, template="toil/freeze_form.html"
    )


def freeze_create(request):
    if not can_create_anything(request.user):
        raise PermissionDenied("Only engineers and SRE leads plan freezes.")
    form = FreezeForm(
        posted(request),
        initial={"scope": "service" if not is_sre_lead(request.user) else "organisation"},
    )
    return _freeze_form_page(
        request,
        form,
        lambda **data: freeze_actions.freeze_create(by=request.user, **data),
        title="New freeze window",
        cancel_url=reverse("freeze_list"),
    )


def freeze_edit(request, pk):
    freeze = _freeze(pk)
    if not can_manage_freeze_window(request.user, freeze):
        raise PermissionDenied("Only SRE leads and the frozen team's engineers change it.")
    form = FreezeForm(posted(request), instance=freeze)
    return _freeze_form_page(
        request,
        form,
        lambda **data: freeze_actions.freeze_update(
            freeze=FreezeWindow.objects.get(pk=freeze.pk), by=request.user, **data
        ),
        title=f"Edit “{freeze.name}”",
        cancel_url=freeze.get_absolute_url(),
    )


def freeze_delete(request, pk):
    freeze = _freeze(pk)
    if not can_manage_freeze_window(request.user, freeze):
        raise PermissionDenied("Only SRE leads and the frozen team's engineers delete it.")
    if request.method == "POST":
        freeze_actions.freeze_delete(freeze=freeze, by=request.user)
        messages.success(request, f"The freeze “{freeze.name}” was deleted.")
        return redirect("freeze_list")
    return render(request, "confirm_delete.html", {"object": freeze})


# --- the gate's decisions and overrides ----------------------------------------------------------


def gate_decision_list(request):
    filterset = GateDecisionFilterSet(request.GET, queryset=gate_selectors.gate_decision_list())
    page = paginate(request, filterset.qs, tie_breaker="-pk")
    return render_page_or_fragment(
        request,
        page_template="toil/gate_decision_list.html",
        fragment_template="toil/_gate_decision_results.html",
        context={"filter": filterset, "page_obj": page},
    )


def gate_override_list(request):
    filterset = GateOverrideFilterSet(request.GET, queryset=gate_selectors.gate_override_list())
    page = paginate(request, filterset.qs, tie_breaker="-pk")
    may_override = can_override_gate(request.user)
    form = None
    if may_override:
        form = GateOverrideForm(posted(request), initial={"service": request.GET.get("service")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                override = gate_actions.gate_override_create(
                    service=data["service"],
                    reason=data["reason"],
                    expires_at=timezone.now() + dt.timedelta(hours=data["hours"]),
                    by=request.user,
                )
            except ValidationError as error:
                add_action_error(form, error)
            else:
                messages.success(
                    request,
                    f"Deploys of {override.service.name} pass the gate's denials "
                    f"until {override.expires_at:%Y-%m-%d %H:%M} UTC.",
                )
                return redirect("gate_override_list")
    elif request.method == "POST":
        raise PermissionDenied("Only SRE leads override the gate.")
    return render_page_or_fragment(
        request,
        page_template="toil/gate_override_list.html",
        fragment_template="toil/_gate_override_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "form": form,
            "may_override": may_override,
            "now": timezone.now(),
        },
    )


@require_POST
def gate_override_revoke(request, pk):
    if not can_override_gate(request.user):
        raise PermissionDenied("Only SRE leads override the gate.")
    override = get_object_or_404(GateOverride.objects.select_related("service"), pk=pk)
    gate_actions.gate_override_revoke(override=override, by=request.user)
    messages.success(request, f"The override of {override.service.name} is revoked.")
    return redirect("gate_override_list")
