"""/me/: a person's own page — their time zone, their daily digest and the latest digests
sent to them, and their report subscriptions."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from portal.htmx import posted
from portal.profile.actions import profile_update
from portal.profile.forms import DigestPreferenceForm
from portal.profile.selectors import profile_of
from portal.reminders.selectors import digests_of
from portal.reports.selectors import subscriptions_of


def me(request):
    profile = profile_of(request.user)
    form = DigestPreferenceForm(posted(request), initial={"digest_enabled": profile.digest_enabled})
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, **form.action_arguments())
        messages.success(
            request,
            "The daily digest is on."
            if form.cleaned_data["digest_enabled"]
            else "The daily digest is off.",
        )
        return redirect("me")
    return render(
        request,
        "portal/me.html",
        {
            "profile": profile,
            "form": form,
            "digests": digests_of(request.user),
            "subscriptions": subscriptions_of(request.user),
            # "Your data" (portal.privacy): what the portal keeps, and how long its logs last.
            "groups": sorted(request.user.groups.values_list("name", flat=True)),
            "retention_days": settings.PORTAL_LOG_RETENTION_DAYS,
        },
    )
