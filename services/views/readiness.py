"""Readiness review UI: a service's readiness page, the review page (criteria by category with
htmx editing per criterion, comments, history), the workflow steps and the list of reviews.
Reads go through selectors, writes through actions, rules through services.readiness."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.forms import add_action_error
from portal.htmx import paginate, posted, render_page_or_fragment, wants_fragment
from services import readiness
from services.actions import readiness as readiness_actions
from services.choices import CriterionStatus
from services.filters import ReviewFilterSet
from services.forms import (
    ItemAnswerForm,
    ItemJudgeForm,
    ReviewCommentForm,
    ReviewDecisionForm,
    ReviewerForm,
    WaiverForm,
)
from services.models.catalog import Service
from services.selectors import readiness as readiness_selectors


def _service_or_404(slug) -> Service:
    return get_object_or_404(Service.objects.select_related("owner_team"), slug=slug)


def _review_or_404(service, pk, *, detail=False):
    reviews = readiness_selectors.review_detail() if detail else readiness_selectors.review_list()
    return get_object_or_404(reviews, service=service, pk=pk)


def readiness_service(request, slug):
    """The service's readiness: its state, current approval, review in progress, past reviews."""
    service = _service_or_404(slug)
    state = readiness_selectors.readiness_of([service], timezone.now())[service.pk]
    reviews = list(readiness_selectors.service_reviews(service))
    return render(
        request,
        "services/readiness_service.html",
        {
            "service": service,
            "readiness": state,
            "reviews": reviews,
            "override": readiness_selectors.production_override(service)
            if state.unreviewed_in_production
            else None,
            "may_request": readiness.can_request_review(request.user, service)
            and state.open_review is None,
        },
    )


@require_POST
def readiness_review_request(request, slug):
    service = _service_or_404(slug)
    if not readiness.can_request_review(request.user, service):
        raise PermissionDenied("Only the owner team's engineers and SRE leads request a review.")
    try:
        review = readiness_actions.review_request(service=service, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("readiness_service", slug)
    messages.success(request, "The review was started: answer its criteria, then submit it.")
    return redirect(review)


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _review_context(request, review, **forms):
    user = request.user
    items = list(review.items.all())
    categories = []
    for item in items:
        category = item.criterion.category
        if not categories or categories[-1][0] != category:
            categories.append((category, []))
        categories[-1][1].append(item)
    reviewers = readiness_selectors.reviewer_candidates(review.service)
    return {
        "review": review,
        "service": review.service,
        "categories": categories,
        "progress": readiness.review_progress(items),
        "blockers": readiness.approval_blockers(items),
        "entries": list(review.entries.all()),
        "may_answer": readiness.can_answer(user, review),
        "may_judge": readiness.can_judge(user, review),
        "may_submit": readiness.can_submit(user, review),
        "may_assign": readiness.can_assign_reviewer(user, review),
        "may_comment": readiness.can_comment(user, review),
        "submit_form": forms.get("submit_form") or ReviewerForm(reviewers=reviewers),
        "assign_form": forms.get("assign_form") or ReviewerForm(reviewers=reviewers),
        "comment_form": forms.get("comment_form") or ReviewCommentForm(),
        "decision_form": forms.get("decision_form") or ReviewDecisionForm(),
    }


def readiness_review_detail(request, slug, pk):
    service = _service_or_404(slug)
    review = _review_or_404(service, pk, detail=True)
    return render(request, "services/readiness_review.html", _review_context(request, review))


def _workflow_step(request, slug, pk, *, allowed, refused, form_key, make_form, run, done):
    """One workflow step posted from a form on the review page. Refused input shows the page
    again with the form's errors (an action's refusal on the form), answered 400."""
    service = _service_or_404(slug)
    review = _review_or_404(service, pk)
    if not allowed(request.user, review):
        raise PermissionDenied(refused)
    form = make_form(service, request.POST)
    if form.is_valid():
        try:
            run(review, form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, done)
            return redirect(review)
    review = _review_or_404(service, pk, detail=True)
    context = _review_context(request, review, **{form_key: form})
    return render(request, "services/readiness_review.html", context, status=400)


def _reviewer_form(service, data):
    return ReviewerForm(data, reviewers=readiness_selectors.reviewer_candidates(service))


@require_POST
def readiness_review_submit(request, slug, pk):
    return _workflow_step(
        request,
        slug,
        pk,
        allowed=readiness.can_submit,
        refused="Only the owner team's engineers and SRE leads submit a review.",
        form_key="submit_form",
        make_form=_reviewer_form,
        run=lambda review, arguments: readiness_actions.review_submit(
            review=review, by=request.user, **arguments
        ),
        done="The review was submitted: the reviewer takes it from here.",
    )


@require_POST
def readiness_review_assign(request, slug, pk):
    return _workflow_step(
        request,
        slug,
        pk,
        allowed=readiness.can_assign_reviewer,
        refused="Only SRE leads change the reviewer of a review in review.",
        form_key="assign_form",
        make_form=_reviewer_form,
        run=lambda review, arguments: readiness_actions.review_assign(
            review=review, by=request.user, **arguments
        ),
        done="The reviewer was changed.",
    )


@require_POST
def readiness_review_approve(request, slug, pk):
    return _workflow_step(
        request,
        slug,
        pk,
        allowed=readiness.can_judge,
        refused="Only the review's reviewer approves it.",
        form_key="decision_form",
        make_form=lambda service, data: ReviewDecisionForm(data),
        run=lambda review, arguments: readiness_actions.review_approve(
            review=review, by=request.user, **arguments
        ),
        done="The review was approved.",
    )


@require_POST
def readiness_review_request_changes(request, slug, pk):
    return _workflow_step(
        request,
        slug,
        pk,
        allowed=readiness.can_judge,
        refused="Only the review's reviewer requests changes.",
        form_key="decision_form",
        make_form=lambda service, data: ReviewDecisionForm(data),
        run=lambda review, arguments: readiness_actions.review_request_changes(
            review=review, by=request.user, **arguments
        ),
        done="Changes were requested: the owner team sees them on the review.",
    )


@require_POST
def readiness_review_comment(request, slug, pk):
    return _workflow_step(
        request,
        slug,
        pk,
        allowed=readiness.can_comment,
        refused="Only the owner team, the reviewer and SRE leads comment on a review.",
        form_key="comment_form",
        make_form=lambda service, data: ReviewCommentForm(data),
        run=lambda review, arguments: readiness_actions.review_comment(
            review=review, by=request.user, **arguments
        ),
        done="Your comment was added.",
    )


# --- one criterion (htmx) ---------------------------------------------------------------------


#: The steps on one criterion, and who may take each.
ITEM_STEPS = {
    "answer": readiness.can_answer,
    "judge": readiness.can_judge,
    "waive": readiness.can_judge,
    "unwaive": readiness.can_judge,
}


def _item_form(step, item, data=None):
    if step == "answer":
        initial = {
            "status": item.status if item.status != CriterionStatus.WAIVED else "",
            "evidence_url": item.evidence_url,
            "note": item.note,
        }
        return ItemAnswerForm(data, initial=initial, automatic=item.criterion.is_automatic)
    if step == "judge":
        return ItemJudgeForm(data, initial={"comment": item.reviewer_comment})
    if step == "waive":
        waiver = getattr(item, "waiver", None)
        initial = (
            {"reason": waiver.reason, "owner": waiver.owner_id, "expires_on": waiver.expires_on}
            if waiver
            else {}
        )
        return WaiverForm(data, initial=initial, people=_people())
    return None


def _run_item_step(step, item, user, arguments):
    if step == "answer":
        readiness_actions.review_item_answer(item=item, by=user, **arguments)
    elif step == "judge":
        readiness_actions.review_item_judge(item=item, by=user, **arguments)
    elif step == "waive":
        readiness_actions.review_item_waive(item=item, by=user, **arguments)
    else:
        readiness_actions.review_item_unwaive(item=item, by=user)


def readiness_review_item(request, slug, pk, item_id):
    """One criterion of a review: its row, or its form (``?step=answer|judge|waive``) in place
    for htmx; a POST runs the step and answers with the fresh row (or the whole review page
    without JavaScript)."""
    service = _service_or_404(slug)
    review = _review_or_404(service, pk)
    item = readiness_selectors.review_item(review, item_id)
    if item is None:
        raise Http404("This review has no such criterion.")
    step = request.POST.get("step") or request.GET.get("step") or ""
    if step and step not in ITEM_STEPS:
        raise Http404("No such step.")
    if step and not ITEM_STEPS[step](request.user, review):
        raise PermissionDenied("You cannot change this criterion now.")
    form = _item_form(step, item, posted(request)) if step else None
    if request.method == "POST" and step and (form is None or form.is_valid()):
        try:
            _run_item_step(step, item, request.user, form.action_arguments() if form else {})
        except ValidationError as error:
            if form is None:
                messages.error(request, " ".join(error.messages))
            else:
                add_action_error(form, error)
        else:
            if not wants_fragment(request):
                messages.success(request, f"“{item.criterion.title}” was saved.")
                return redirect(review)
            form, step = None, ""
            item = readiness_selectors.review_item(review, item_id)
    elif request.method == "POST" and not step:
        raise Http404("Name the step to take.")
    context = {
        "review": review,
        "service": service,
        "item": item,
        "item_form": form,
        "step": step,
        "may_answer": readiness.can_answer(request.user, review),
        "may_judge": readiness.can_judge(request.user, review),
    }
    if wants_fragment(request):
        if request.method == "POST":  # the step may have moved the review's progress
            context["progress"] = readiness.review_progress(
                readiness_selectors.review_items().filter(review=review)
            )
        return render(request, "services/_review_item_fragment.html", context)
    if form is None:
        return redirect(review)
    return render(request, "services/readiness_item_form.html", context)


# --- the list of reviews --------------------------------------------------------------------------


def readiness_review_list(request):
    filterset = ReviewFilterSet(
        request.GET, queryset=readiness_selectors.review_list(), request=request
    )
    page = paginate(request, filterset.qs)
    return render_page_or_fragment(
        request,
        page_template="services/readiness_review_list.html",
        fragment_template="services/_readiness_review_results.html",
        context={"filter": filterset, "page_obj": page},
    )
