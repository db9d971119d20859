"""Toil inventory UI: the inventory across teams with inline add and edit (htmx), an item's
page, logging time, the teams' toil against the cap (the organisation's page) and a team's,
and spreadsheet import and export. Reads go through toil.selectors.toil, writes through
toil.actions.toil."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.forms import add_action_error
from portal.htmx import paginate, posted, render_page_or_fragment, wants_fragment
from portal.roles import can_create_anything, can_edit, can_edit_team_records, is_sre_lead
from services.models.catalog import Service, Team
from toil import roi
from toil.actions.toil import (
    team_capacity_set,
    toil_entry_delete,
    toil_entry_log,
    toil_import,
    toil_item_create,
    toil_item_delete,
    toil_item_update,
)
from toil.choices.toil import MANUAL_STATUSES, ToilCategory, ToilStatus
from toil.filters.toil import TeamToilMonthFilterSet, ToilEntryFilterSet, ToilItemFilterSet
from toil.forms.toil import (
    MonthForm,
    TeamCapacityForm,
    ToilEntryForm,
    ToilImportForm,
    ToilItemForm,
)
from toil.models.inventory import TeamToilCapacity, ToilEntry, ToilItem
from toil.selectors import toil as selectors
from toil.spreadsheet import write_toil_csv

#: What the inventory's results listen for to refresh themselves after an inline change.
ITEMS_CHANGED = "toil-items-changed"
ENTRIES_CHANGED = "toil-entries-changed"
#: How many entries an item's page lists.
RECENT_ENTRIES = 20
#: How many items a team's toil page lists, of those most worth automating and automated.
TEAM_TOP_ITEMS = 10


def _month_of(request):
    """The month asked for with ?month=YYYY-MM, this month when none (or a bad one) is."""
    form = MonthForm(request.GET)
    if form.is_valid() and form.cleaned_data["month"]:
        return roi.month_start(form.cleaned_data["month"])
    return selectors.current_month()


# --- the inventory -----------------------------------------------------------------------------


def toil_item_list(request):
    """The inventory across teams, most worth automating first; inline add and edit."""
    filterset = ToilItemFilterSet(request.GET, queryset=selectors.toil_item_rows())
    page = paginate(request, filterset.qs)
    user = request.user
    context = {
        "filter": filterset,
        "page_obj": page,
        "may_add": can_create_anything(user),
        "editable_item_ids": {item.pk for item in page if can_edit(user, item)},
        "items_changed": ITEMS_CHANGED,
    }
    if not wants_fragment(request):
        context.update(
            {
                "team_choices": Team.objects.order_by("name").values_list("slug", "name"),
                "selected_teams": request.GET.getlist("team"),
                "service_choices": Service.objects.order_by("name").values_list("slug", "name"),
                "selected_services": request.GET.getlist("service"),
            }
        )
    return render_page_or_fragment(
        request,
        page_template="toil/item_list.html",
        fragment_template="toil/_item_results.html",
        context=context,
    )


def _require_item_editor(user, item):
    if not can_edit(user, item):
        raise PermissionDenied("Only the team's engineers and SRE leads change its toil items.")


def toil_item_add(request):
    """Add an item: in place above the inventory for htmx, as a page of its own otherwise."""
    user = request.user
    if not can_create_anything(user):
        raise PermissionDenied("Only engineers of a team and SRE leads add toil items.")
    if request.GET.get("cancel") and wants_fragment(request):
        return render(request, "toil/_item_add.html", {"cancelled": True})
    teams = selectors.teams_editable_by(user)
    initial = {}
    if request.GET.get("team"):
        initial["team"] = teams.filter(slug=request.GET["team"]).first()
    form = ToilItemForm(posted(request), teams=teams, initial=initial, auto_id="new-item-%s")
    if request.method == "POST" and form.is_valid():
        try:
            item = toil_item_create(created_by=user, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            if wants_fragment(request):
                response = render(request, "toil/_item_add.html", {"added": item})
                response["HX-Trigger"] = ITEMS_CHANGED
                return response
            messages.success(request, f"“{item.task}” was added to the inventory.")
            return redirect(item)
    if wants_fragment(request):
        return render(request, "toil/_item_add.html", {"form": form})
    return render(
        request,
        "form_page.html",
        {"form": form, "title": "Add a toil item", "cancel_url": reverse("toil_item_list")},
    )


def _item_or_404(pk) -> ToilItem:
    return get_object_or_404(selectors.toil_item_detail(), pk=pk)


def toil_item_row(request, pk):
    """One row of the inventory (what "Cancel" of an inline edit puts back)."""
    item = _item_or_404(pk)
    return render(
        request,
        "toil/_item_row.html",
        {"item": item, "editable_item_ids": {item.pk} if can_edit(request.user, item) else ()},
    )


def toil_item_edit(request, pk):
    """Edit an item: in its row of the inventory for htmx, as a page of its own otherwise."""
    item = _item_or_404(pk)
    _require_item_editor(request.user, item)
    form = ToilItemForm(posted(request), instance=item, teams=None, auto_id=f"item-{item.pk}-%s")
    if request.method == "POST" and form.is_valid():
        try:
            item = toil_item_update(item=item, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            if wants_fragment(request):
                item = _item_or_404(pk)
                return render(
                    request,
                    "toil/_item_row.html",
                    {"item": item, "editable_item_ids": {item.pk}, "saved": True},
                )
            messages.success(request, f"“{item.task}” was saved.")
            return redirect(item)
    if wants_fragment(request):
        return render(request, "toil/_item_edit_row.html", {"item": item, "form": form})
    return render(
        request,
        "form_page.html",
        {"form": form, "title": f"Edit “{item.task}”", "cancel_url": item.get_absolute_url()},
    )


@require_POST
def toil_item_delete_view(request, pk):
    item = _item_or_404(pk)
    _require_item_editor(request.user, item)
    try:
        toil_item_delete(item=item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(item)
    messages.success(request, f"“{item.task}” was deleted.")
    return redirect("toil_item_list")


def toil_item_detail(request, pk):
    item = _item_or_404(pk)
    user = request.user
    may_log = can_edit(user, item)
    entries = list(
        ToilEntry.objects.filter(item=item)
        .select_related("user")
        .order_by("-date", "-id")[:RECENT_ENTRIES]
    )
    return render(
        request,
        "toil/item_detail.html",
        {
            "item": item,
            "may_edit": can_edit(user, item),
            "may_log": may_log,
            "log_form": ToilEntryForm(
                items=selectors.items_loggable_by(user), fixed_item=item, auto_id="log-%s"
            )
            if may_log
            else None,
            "entries": entries,
            "hours_saved": selectors.item_hours_saved(item),
            "changes": item.history.select_related("history_user").order_by("-history_date")[:10],
        },
    )


# --- logged time -------------------------------------------------------------------------------


def _my_entries(request):
    mine = selectors.toil_entry_list().filter(user=request.user)
    filterset = ToilEntryFilterSet(request.GET, queryset=mine)
    return filterset, paginate(request, filterset.qs)


def toil_entry_mine(request):
    """The signed-in person's logged toil, with the quick-log form."""
    filterset, page = _my_entries(request)
    items = selectors.items_loggable_by(request.user)
    return render_page_or_fragment(
        request,
        page_template="toil/entry_mine.html",
        fragment_template="toil/_entry_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "log_form": ToilEntryForm(items=items, auto_id="log-%s"),
            "entries_changed": ENTRIES_CHANGED,
        },
    )


def toil_entry_add(request):
    """Log time: from the quick-log form or an item's page. htmx gets the form back, fresh
    after a save (and the lists listening refresh), with its errors otherwise."""
    user = request.user
    items = selectors.items_loggable_by(user)
    fixed = None
    item_id = request.POST.get("item") or request.GET.get("item")
    if request.POST.get("fixed") and item_id and item_id.isdigit():
        fixed = ToilItem.objects.filter(pk=item_id).first()
    form = ToilEntryForm(posted(request), items=items, fixed_item=fixed, auto_id="log-%s")
    saved = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = toil_entry_log(user=user, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            if not wants_fragment(request):
                messages.success(request, f"{saved.minutes} minutes logged on “{saved.item}”.")
                return redirect(request.POST.get("next") or "toil_entry_mine")
            form = ToilEntryForm(items=items, fixed_item=fixed, auto_id="log-%s")
    context = {"log_form": form, "logged": saved, "fixed_item": fixed}
    if wants_fragment(request):
        response = render(request, "toil/_entry_form.html", context)
        if saved:
            response["HX-Trigger"] = ENTRIES_CHANGED
        return response
    return render(request, "toil/entry_add.html", context)


@require_POST
def toil_entry_delete_view(request, pk):
    entry = get_object_or_404(ToilEntry.objects.select_related("item"), pk=pk)
    if entry.user_id != request.user.pk and not is_sre_lead(request.user):
        raise PermissionDenied("Only the person who logged the time and SRE leads delete it.")
    toil_entry_delete(entry=entry)
    if wants_fragment(request):
        response = HttpResponse("")
        response["HX-Trigger"] = ENTRIES_CHANGED
        return response
    messages.success(request, "The entry was deleted.")
    return redirect(request.POST.get("next") or "toil_entry_mine")


# --- teams against the cap ---------------------------------------------------------------------


def _chart_of_categories(org_months):
    return {
        "months": [f"{figures.figures.month:%b %Y}" for figures in org_months],
        "categories": [
            {
                "key": value,
                "label": label,
                "hours": [
                    round(figures.figures.by_category.get(value, {}).get("measured", 0.0), 1)
                    for figures in org_months
                ],
            }
            for value, label in ToilCategory.choices
        ],
    }


def toil_team_list(request):
    """Every team's toil in a month against the cap, over-cap teams first by default, and the
    organisation's hours by category over the last year."""
    month = _month_of(request)
    query = request.GET.copy()
    query["month"] = f"{month:%Y-%m}"
    filterset = TeamToilMonthFilterSet(query, queryset=selectors.team_month_snapshots(month))
    page = paginate(request, filterset.qs)
    context = {
        "filter": filterset,
        "page_obj": page,
        "month": month,
        "month_value": f"{month:%Y-%m}",
        "cap_percent": settings.TOIL_CAP_PERCENT,
        "uncomputed": selectors.teams_without_figures(month),
    }
    if not wants_fragment(request):
        year = selectors.last_months(now=timezone.now())
        org_months = selectors.org_toil_months(year)
        context.update(
            {
                "organisation": selectors.org_toil_month(month),
                "chart": _chart_of_categories(org_months),
            }
        )
    return render_page_or_fragment(
        request,
        page_template="toil/team_list.html",
        fragment_template="toil/_team_results.html",
        context=context,
    )


def toil_team_detail(request, slug):
    team = get_object_or_404(Team, slug=slug)
    month = _month_of(request)
    months = [roi.add_months(month, offset) for offset in range(1 - selectors.CHART_MONTHS, 1)]
    history = selectors.team_toil_months(team, months)
    toil = history[-1]
    capacity = TeamToilCapacity.objects.filter(team=team).first()
    may_edit = can_edit_team_records(request.user, team.pk)
    items = ToilItem.objects.filter(team=team)
    top_items = list(
        items.filter(status__in=MANUAL_STATUSES).order_by("-roi_score", "task")[:TEAM_TOP_ITEMS]
    )
    automated = list(
        items.filter(status=ToilStatus.AUTOMATED).order_by("-automated_on")[:TEAM_TOP_ITEMS]
    )
    chart = {
        "months": [f"{entry.figures.month:%b %Y}" for entry in history],
        "share": [_percent(entry.figures.share) for entry in history],
        "estimated": [_percent(entry.figures.estimated_share) for entry in history],
        "cap": settings.TOIL_CAP_PERCENT,
    }
    return render(
        request,
        "toil/team_detail.html",
        {
            "team": team,
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "previous_month": f"{roi.add_months(month, -1):%Y-%m}",
            "next_month": f"{roi.add_months(month, 1):%Y-%m}"
            if month < selectors.current_month()
            else None,
            "toil": toil,
            "history": list(reversed(history)),
            "categories": [
                (label, toil.figures.by_category.get(value, {"estimated": 0, "measured": 0}))
                for value, label in ToilCategory.choices
            ],
            "cap_percent": settings.TOIL_CAP_PERCENT,
            "capacity_form": TeamCapacityForm(
                initial={"hours_per_engineer": capacity.hours_per_engineer if capacity else None}
            ),
            "default_hours": settings.TOIL_HOURS_PER_ENGINEER,
            "may_edit": may_edit,
            "top_items": top_items,
            "automated": automated,
            "chart": chart,
        },
    )


def _percent(fraction):
    return None if fraction is None else round(fraction * 100, 1)


@require_POST
def toil_team_capacity(request, slug):
    team = get_object_or_404(Team, slug=slug)
    if not can_edit_team_records(request.user, team.pk):
        raise PermissionDenied("Only the team's engineers and SRE leads set its capacity.")
    form = TeamCapacityForm(request.POST)
    if form.is_valid():
        team_capacity_set(team=team, hours_per_engineer=form.cleaned_data["hours_per_engineer"])
        messages.success(
            request, "The capacity was saved; the figures are recomputed in a few seconds."
        )
    else:
        messages.error(request, " ".join(form.errors["hours_per_engineer"]))
    return redirect("toil_team_detail", slug)


# --- spreadsheets ------------------------------------------------------------------------------


def toil_import_view(request):
    user = request.user
    if not can_create_anything(user):
        raise PermissionDenied("Only engineers of a team and SRE leads import toil.")
    teams = selectors.teams_editable_by(user)
    form = ToilImportForm(posted(request), request.FILES or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        team = form.cleaned_data["team"]
        try:
            result = toil_import(team=team, rows=form.cleaned_data["file"], by=user)
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(
                request,
                f"Imported into {team.name}: {result.created} new item"
                f"{'s' if result.created != 1 else ''}, {result.updated} updated.",
            )
            return redirect(f"{reverse('toil_item_list')}?team={team.slug}")
    return render(request, "toil/import.html", {"form": form})


def toil_export(request):
    """The inventory (or one team's, ?team=SLUG) as a toil spreadsheet."""
    items = selectors.toil_item_rows().order_by("team__name", "task")
    query = QueryDict(mutable=True)
    if request.GET.get("team"):
        query["team"] = request.GET["team"]
    filterset = ToilItemFilterSet(query, queryset=items)
    response = HttpResponse(
        write_toil_csv(filterset.qs if filterset.is_valid() else items.none()),
        content_type="text/csv; charset=utf-8",
    )
    name = f"toil-{request.GET['team']}" if filterset.is_valid() and query else "toil"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
