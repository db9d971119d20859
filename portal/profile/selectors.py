"""Reads of people's profiles (one query each, whatever the number of people)."""

from django.conf import settings

from portal.profile.models import Profile


def profile_of(user) -> Profile:
    """The user's profile, or an unsaved one with the defaults when they have none yet."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def zones_and_digest_choices(user_ids) -> dict[int, tuple[str, bool]]:
    """{user id: (IANA zone, digest wanted)} for the given people; those without a profile
    get the portal's zone and the digest."""
    choices = dict.fromkeys(user_ids, (settings.TIME_ZONE, True))
    rows = Profile.objects.filter(user_id__in=list(user_ids)).values_list(
        "user_id", "time_zone", "digest_enabled"
    )
    for user_id, zone, enabled in rows:
        choices[user_id] = (zone or settings.TIME_ZONE, enabled)
    return choices
