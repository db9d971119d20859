"""Writes of people's profiles."""

from django.db import transaction

from portal.profile.models import Profile


@transaction.atomic
def profile_update(*, user, **fields) -> Profile:
    """Set ``fields`` (time_zone, digest_enabled) on the user's profile, creating it."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile
