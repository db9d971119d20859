"""Keeps each person's reported time zone on their profile, so that work done for them
while they are away (the 08:00 digest) happens in their zone."""

from portal.timezones import viewer_zone

#: The zone last stored for this session: a request writes only when the browser reports a
#: different one, so pages make no extra query otherwise.
SESSION_KEY = "profile_time_zone"


class ProfileTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone = viewer_zone(request)
            if zone is not None and request.session.get(SESSION_KEY) != zone.key:
                from portal.profile.actions import profile_update

                profile_update(user=user, time_zone=zone.key)
                request.session[SESSION_KEY] = zone.key
        return self.get_response(request)
