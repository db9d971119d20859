"""Post-mortem UI: the post-mortem page and its workflow, inline action items (htmx),
the search of published post-mortems and "my action items". Reads go through
incidents.selectors.postmortems, writes through incidents.actions, rules through
incidents.postmortems."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents import postmortems
from incidents.actions import postmortems as postmortems_actions
from incidents.actions.postmortems import (
    action_item_create,
    action_item_update,
    postmortem_return_to_draft,
    postmortem_submit_for_review,
    postmortem_update,
)
from incidents.choices import PostMortemStatus
from incidents.filters.postmortems import ActionItemFilterSet, PostMortemFilterSet
from incidents.forms.postmortems import ActionItemForm, PostMortemForm
from incidents.models.incidents import Incident
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.selectors import postmortems as postmortem_selectors
from portal.forms import add_action_error
from portal.htmx import paginate, posted, render_page_or_fragment, wants_fragment
from portal.roles import is_sre_lead


def _postmortem_or_404(reference) -> PostMortem:
    return get_object_or_404(
        postmortem_selectors.postmortem_detail(), incident__reference=reference
    )


# --- the post-mortem ------------------------------------------------------------------------


def postmortem_detail(request, reference):
    postmortem = (
        postmortem_selectors.postmortem_detail().filter(incident__reference=reference).first()
    )
    if postmortem is None:
        incident = get_object_or_404(
            Incident.objects.prefetch_related("services"), reference=reference
        )
        return render(
            request,
            "incidents/postmortem_missing.html",
            {
                "incident": incident,
                "may_start": incident.resolved_at is not None
                and postmortems.can_start_postmortem(request.user, incident),
            },
        )
    user = request.user
    return render(
        request,
        "incidents/postmortem_detail.html",
        {
            "postmortem": postmortem,
            "incident": postmortem.incident,
            "sections": [
                (PostMortem._meta.get_field(name).verbose_name, getattr(postmortem, name))
                for name in PostMortem.SECTIONS
            ],
            "durations": postmortems.durations(postmortem.incident),
            "budget_impacts": postmortem_selectors.postmortem_budget_impact(postmortem),
            "may_edit": postmortems.can_edit_postmortem(user, postmortem),
            "may_submit": postmortems.can_submit_for_review(user, postmortem),
            "may_publish": postmortems.can_publish(user, postmortem),
            # A reviewer who may not publish is told why instead of missing a button.
            "publish_refusal": postmortems.publish_refusal(user, postmortem)
            if postmortem.status == PostMortemStatus.IN_REVIEW
            and (postmortems.is_reviewer(user, postmortem) or is_sre_lead(user))
            else None,
            "may_return": postmortems.can_return_to_draft(user, postmortem),
            **_action_items_context(request, postmortem),
        },
    )


@require_POST
def postmortem_start(request, reference):
    incident = get_object_or_404(Incident.objects.prefetch_related("services"), reference=reference)
    if not postmortems.can_start_postmortem(request.user, incident):
        raise PermissionDenied("Only the incident's commander, teams and SRE leads start it.")
    try:
        postmortems_actions.postmortem_start(incident=incident, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("postmortem_detail", reference)
    messages.success(request, "The post-mortem was started from the incident's record.")
    return redirect("postmortem_edit", reference)


def postmortem_edit(request, reference):
    postmortem = _postmortem_or_404(reference)
    if not postmortems.can_edit_postmortem(request.user, postmortem):
        raise PermissionDenied(
            "Only the post-mortem's author, the incident's commander and teams and SRE leads "
            "edit it, and only until it is published."
        )
    detail_url = reverse("postmortem_detail", args=[reference])
    form = PostMortemForm(posted(request), instance=postmortem)
    if request.method == "POST" and form.is_valid():
        try:
            postmortem_update(postmortem=postmortem, by=request.user, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, "The post-mortem was saved.")
            return redirect(detail_url)
    return render(
        request,
        "incidents/postmortem_form.html",
        {
            "form": form,
            "title": f"Post-mortem of {reference}",
            "cancel_url": detail_url,
            "postmortem": postmortem,
        },
    )


def _workflow_step(request, reference, *, allowed, action, done, refused):
    postmortem = _postmortem_or_404(reference)
    if not allowed(request.user, postmortem):
        raise PermissionDenied(refused(request.user, postmortem) if callable(refused) else refused)
    try:
        action(postmortem=postmortem, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("postmortem_detail", reference)


@require_POST
def postmortem_submit(request, reference):
    return _workflow_step(
        request,
        reference,
        allowed=postmortems.can_submit_for_review,
        action=postmortem_submit_for_review,
        done="The post-mortem was submitted for review.",
        refused="Only the post-mortem's editors submit a draft for review.",
    )


@require_POST
def postmortem_publish(request, reference):
    return _workflow_step(
        request,
        reference,
        allowed=postmortems.can_publish,
        action=postmortems_actions.postmortem_publish,
        done="The post-mortem was published.",
        refused=lambda user, postmortem: (
            postmortems.publish_refusal(user, postmortem)
            or "Only a post-mortem in review is published."
        ),
    )


@require_POST
def postmortem_return(request, reference):
    return _workflow_step(
        request,
        reference,
        allowed=postmortems.can_return_to_draft,
        action=postmortem_return_to_draft,
        done="The post-mortem is a draft again.",
        refused="Only its reviewers, editors and SRE leads return a post-mortem in review.",
    )


# --- action items on the post-mortem page (htmx) ---------------------------------------------


def _action_items_context(request, postmortem, *, form=None, form_url=None):
    user = request.user
    items = list(postmortem.action_items.all())
    return {
        "postmortem": postmortem,
        "action_items": items,
        "editable_item_ids": {
            item.pk for item in items if postmortems.can_edit_action_item(user, item)
        },
        "may_add_items": postmortems.can_manage_action_items(user, postmortem),
        "item_form": form,
        "item_form_url": form_url,
    }


def _action_item_form_view(request, postmortem, *, item, form_url, success_message):
    """Show or save an action item's form: inside the post-mortem's action-item section for
    htmx, as a page of its own without JavaScript."""
    form = ActionItemForm(posted(request), instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            if item.pk is None:
                action_item_create(postmortem=postmortem, **form.action_arguments())
            else:
                action_item_update(action_item=item, **form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            if not wants_fragment(request):
                messages.success(request, success_message)
                return redirect("postmortem_detail", postmortem.incident.reference)
            postmortem = _postmortem_or_404(postmortem.incident.reference)
            return render(
                request,
                "incidents/action_item_section.html",
                _action_items_context(request, postmortem),
            )
    if wants_fragment(request):
        return render(
            request,
            "incidents/action_item_section.html",
            _action_items_context(request, postmortem, form=form, form_url=form_url),
        )
    return render(
        request,
        "form_page.html",
        {
            "form": form,
            "title": f"{'Add an' if item.pk is None else 'Edit the'} action item of "
            f"{postmortem.incident.reference}",
            "cancel_url": reverse("postmortem_detail", args=[postmortem.incident.reference]),
        },
    )


def action_item_add(request, reference):
    postmortem = _postmortem_or_404(reference)
    if not postmortems.can_manage_action_items(request.user, postmortem):
        raise PermissionDenied(
            "Only the post-mortem's editors and SRE leads add action items to it."
        )
    return _action_item_form_view(
        request,
        postmortem,
        item=ActionItem(postmortem=postmortem),
        form_url=reverse("action_item_add", args=[reference]),
        success_message="The action item was added.",
    )


def action_item_edit(request, reference, pk):
    postmortem = _postmortem_or_404(reference)
    item = next((item for item in postmortem.action_items.all() if item.pk == pk), None)
    if item is None:
        raise Http404("This post-mortem has no such action item.")
    if not postmortems.can_edit_action_item(request.user, item):
        raise PermissionDenied(
            "Only the item's owner, the post-mortem's editors and SRE leads change it."
        )
    return _action_item_form_view(
        request,
        postmortem,
        item=item,
        form_url=reverse("action_item_edit", args=[reference, pk]),
        success_message="The action item was saved.",
    )


# --- lists ----------------------------------------------------------------------------------


def postmortem_list(request):
    """Search of the post-mortems: the published ones (what the organisation has learned)
    unless a status or "past due" is asked for (the ones still being written)."""
    # The rows read the incident and its services' names, not the reviewers and the author
    # the API's list also reads, and none of the sections: a post-mortem's text runs to pages.
    postmortems = (
        postmortem_selectors.postmortem_list()
        .select_related(None)
        .select_related("incident")
        .only(
            "status",
            "due_at",
            "published_at",
            "incident__reference",
            "incident__title",
            "incident__severity",
            "incident__started_at",
        )
        .prefetch_related(None)
    )
    if not request.GET.getlist("status") and not request.GET.get("past_due"):
        postmortems = postmortems.filter(status=PostMortemStatus.PUBLISHED)
    filterset = PostMortemFilterSet(
        request.GET, queryset=postmortems.order_by("-published_at", "-pk")
    )
    page = paginate(request, filterset.qs)
    page.object_list = postmortem_selectors.with_service_names(page.object_list)
    return render_page_or_fragment(
        request,
        page_template="incidents/postmortem_list.html",
        fragment_template="incidents/postmortem_results.jinja",
        context={
            "filter": filterset,
            "page_obj": page,
            "searching": bool(request.GET.get("q", "").strip()),
        },
    )


def action_item_list(request):
    """Action items of every team, filtered by team, owner, status and overdue."""
    filterset = ActionItemFilterSet(
        request.GET, queryset=postmortem_selectors.action_item_list().order_by("due_date", "pk")
    )
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="incidents/action_item_list.html",
        fragment_template="incidents/action_item_results.html",
        context={"filter": filterset, "page_obj": page},
    )


def action_item_mine(request):
    """The signed-in person's action items, overdue ones marked, wherever they came from."""
    mine = postmortem_selectors.action_item_list().filter(owner=request.user)
    filterset = ActionItemFilterSet(request.GET, queryset=mine)
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="incidents/action_item_mine.html",
        fragment_template="incidents/action_item_mine_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "has_any": page.paginator.count > 0
            or ActionItem.objects.filter(owner=request.user).exists(),
        },
    )
