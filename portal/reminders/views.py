"""The one-click link that turns the daily digest off, from the email itself."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from portal.profile.actions import profile_update
from portal.reminders.actions import digest_off_user_id


@csrf_exempt  # the signed token is the proof; mail clients' one-click POST carries no CSRF token
@login_not_required
def digest_off(request, token):
    """GET asks to confirm (link checkers in mail systems follow links); POST turns it off,
    also as RFC 8058's one-click unsubscribe that mail clients send."""
    user_id = digest_off_user_id(token)
    person = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user_id is None or person is None:
        raise Http404("This link is not valid.")
    done = False
    if request.method == "POST":
        profile_update(user=person, digest_enabled=False)
        done = True
    return render(request, "reminders/digest_off.html", {"person": person, "done": done})
