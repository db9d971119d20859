"""The report archive: the list with the viewer's subscriptions, each report as it was
emailed (with its images), and the SRE leads' regenerate and send-me-a-copy."""

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.htmx import paginate, render_page_or_fragment
from portal.reports import selectors
from portal.reports.actions import (
    recipient_footer,
    report_copy_request,
    report_regenerate,
    subscription_create,
    subscription_delete,
    unsubscribe_target,
)
from portal.reports.choices import DeliveryReason, ReportStatus
from portal.reports.filters import ReportFilterSet
from portal.reports.forms import SubscriptionForm
from portal.reports.models import ORG_SCOPE, MonthlyReport
from portal.reports.months import parse_month
from portal.reports.render import cid_of, with_footer
from portal.roles import is_sre_lead
from services.models.catalog import Team
from services.selectors import catalog as service_selectors


def _subscription_context(user, teams) -> dict:
    """The viewer's subscriptions (each with its unsubscribe button) and the reports they may
    still subscribe to (one form: a hundred teams make a hundred forms otherwise)."""
    subscribed = {subscription.team_id for subscription in selectors.subscriptions_of(user)}
    scopes = [(ORG_SCOPE, "Organisation", None)] + [(slug, name, pk) for pk, slug, name in teams]
    items = [
        ({"scope": scope, "name": name}, team_id in subscribed) for scope, name, team_id in scopes
    ]
    return {
        "subscribed": [item for item, mine in items if mine],
        "available": [item for item, mine in items if not mine],
    }


def report_list(request):
    filterset = ReportFilterSet(request.GET, queryset=selectors.report_list())
    reports = filterset.qs if filterset.is_valid() else MonthlyReport.objects.none()
    page = paginate(request, reports, tie_breaker="-pk")
    teams = service_selectors.team_choices()
    return render_page_or_fragment(
        request,
        page_template="reports/report_list.html",
        fragment_template="reports/_report_results.html",
        context={
            "filter": filterset,
            "page_obj": page,
            "none_yet": page.paginator.count == 0 and not MonthlyReport.objects.exists(),
            "teams": teams,
            # Read once: each of a hundred options asking the form would cost a bound value.
            "selected_scope": filterset.form["scope"].value() or "",
            "selected_month": filterset.form["month"].value() or "",
            **_subscription_context(request.user, teams),
        },
    )


def _report(scope: str, month: str) -> MonthlyReport:
    try:
        first_day = parse_month(month).first_day
        return selectors.report_of(scope, first_day)
    except (ValidationError, MonthlyReport.DoesNotExist) as error:
        raise Http404("There is no report of this scope and month.") from error


def _viewer_reason(report, user) -> str | None:
    subscribed = selectors.subscriptions_of(user).filter(team_id=report.team_id).exists()
    return DeliveryReason.SUBSCRIBER if subscribed else None


def report_detail(request, scope, month):
    report = _report(scope, month)
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "images": list(report.images.defer("png")),
            "deliveries": selectors.delivery_counts(report),
            "problems": selectors.delivery_problems(report),
            "recipients": selectors.report_deliveries(report),
            "subscribed": _viewer_reason(report, request.user) is not None,
            "may_manage": is_sre_lead(request.user),
            "ready": report.status == ReportStatus.READY,
        },
    )


@xframe_options_sameorigin
@csp_replace(
    {
        # An email's HTML carries its styles inline (mail clients read no stylesheet); this
        # document is the portal's own rendering of its own report, shown in the report
        # page's frame, and runs no script.
        "style-src": ["'unsafe-inline'"],
        "style-src-attr": ["'unsafe-inline'"],
        "script-src": ["'none'"],
        "frame-ancestors": ["'self'"],
    }
)
def report_email(request, scope, month):
    """The report's HTML as the email carries it, with the images served by the portal and
    the viewer's own footer (their unsubscribe link, if subscribed): shown in a frame."""
    report = _report(scope, month)
    if report.status != ReportStatus.READY:
        raise Http404("This report has not been generated yet.")
    reason = _viewer_reason(report, request.user)
    footer_html = recipient_footer(report, request.user, reason)[0] if reason else ""
    html, _ = with_footer(report.html, "", footer_html=footer_html, footer_text="")
    for image in report.images.defer("png"):
        url = reverse("report_image", args=[report.scope, report.month_key, image.name])
        html = html.replace(f"cid:{cid_of(image.name)}", url)
    # Links open in the portal's own window, not inside the frame.
    html = html.replace("<head>", '<head><base target="_top">', 1)
    return HttpResponse(html)


def report_image(request, scope, month, name):
    report = _report(scope, month)
    image = report.images.filter(name=name).first()
    if image is None:
        raise Http404("No such image in this report.")
    response = HttpResponse(bytes(image.png), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _require_sre_lead(user):
    if not is_sre_lead(user):
        raise PermissionDenied("Only SRE leads regenerate reports or ask for copies.")


@require_POST
def report_regenerate_view(request, scope, month):
    _require_sre_lead(request.user)
    report = _report(scope, month)
    if report.status not in (ReportStatus.READY, ReportStatus.FAILED):
        messages.error(request, "The report is still being generated; try again in a minute.")
    else:
        report_regenerate(report=report, by=request.user, now=timezone.now())
        messages.success(
            request, "The report was generated again from today's records. Nobody was sent it."
        )
    return redirect(report)


@require_POST
def report_copy_view(request, scope, month):
    _require_sre_lead(request.user)
    report = _report(scope, month)
    try:
        delivery = report_copy_request(report=report, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"A copy is on its way to {delivery.address}.")
    return redirect(report)


def _back(request):
    target = request.POST.get("next", "")
    return (
        target if target.startswith("/") and not target.startswith("//") else reverse("report_list")
    )


@require_POST
def subscription_add(request):
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("scope", ["Choose a report."])))
        return redirect(_back(request))
    team = form.cleaned_data["scope"]
    try:
        subscription_create(user=request.user, team=team)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"You will get the {team.name if team else 'organisation'}'s report each month.",
        )
    return redirect(_back(request))


@require_POST
def subscription_remove(request):
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("scope", ["Choose a report."])))
        return redirect(_back(request))
    team = form.cleaned_data["scope"]
    subscription_delete(user_id=request.user.pk, team_id=team.pk if team else None)
    messages.success(
        request,
        f"You are no longer subscribed to the {team.name if team else 'organisation'}'s report.",
    )
    return redirect(_back(request))


@csrf_exempt  # the signed token is the proof; mail clients' one-click POST has no CSRF token
@login_not_required
def report_unsubscribe(request, token):
    """The emailed unsubscribe link: GET asks to confirm (mail scanners follow links), POST
    unsubscribes (also RFC 8058's one-click POST)."""
    target = unsubscribe_target(token)
    if target is None:
        raise Http404("This link is not valid.")
    user_id, team_id = target
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise Http404("That team no longer exists.")
    done = False
    if request.method == "POST":
        subscription_delete(user_id=user_id, team_id=team_id)
        done = True
    return render(
        request,
        "reports/unsubscribe.html",
        {"scope_name": team.name if team else "the organisation", "done": done},
    )
