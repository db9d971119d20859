"""The portal's own data-protection duties: erasing a person, and purging its old logs."""

from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.models import SentEmail
from portal.privacy.models import Erasure
from portal.privacy.registry import providers
from portal.privacy.walk import (
    concrete_models,
    first_and_last_names,
    is_linked,
    links_to_user,
    mentioning,
    mentions,
    pattern_for,
    personal_strings,
    rewrite,
    text_fields,
)


def former_member_name(person) -> str:
    return f"former member #{person.pk}"


def _anonymise_account(person) -> None:
    person.username = f"former-member-{person.pk}"
    person.first_name = "former member"
    person.last_name = f"#{person.pk}"
    person.email = ""
    person.set_unusable_password()
    person.is_active = person.is_staff = person.is_superuser = False
    person.save()
    person.groups.clear()
    person.user_permissions.clear()


def _rewrite_everywhere(person, strings: list[str], names: list[str], replacement: str) -> int:
    """Rewrite every text and JSON column of every model that names the person; rows are
    updated in place (no signals, no new history rows), so records keep their history and
    figures. The email, full name and username are replaced wherever they appear; the first
    or last name alone only in rows that are the person's (a foreign key to them) or that
    name them fully too, so that another person who shares a first name keeps it. Returns
    how many rows changed."""
    strong = pattern_for(strings)
    everything = pattern_for([*strings, *names])
    changed = 0
    for model in concrete_models():
        fields = text_fields(model)
        if not fields:
            continue
        links = links_to_user(model)
        for instance in mentioning(model, fields, [*strings, *names]):
            values = {field.attname: getattr(instance, field.attname) for field in fields}
            theirs = is_linked(instance, links, person) or any(
                mentions(value, strong) for value in values.values()
            )
            if not theirs:
                continue
            updates = {}
            for name, value in values.items():
                new = rewrite(value, everything, replacement)
                if new != value:
                    updates[name] = new
            if updates:
                model._default_manager.filter(pk=instance.pk).update(**updates)
                changed += 1
    return changed


@transaction.atomic
def person_erase(*, person, by=None, via: str = Erasure.Via.COMMAND) -> Erasure:
    """Erase a person: their account is deactivated and becomes "former member #N" (username
    former-member-N, no email, no password), their sign-in records and API tokens are deleted,
    and their username, name and email are replaced by "former member #N" in every text of
    every record. Incidents, post-mortems, timelines and history keep their rows, links and
    figures: they now name the former member. Logged as an Erasure (who, when, how)."""
    if Erasure.objects.filter(person=person).exists():
        raise ValidationError({"person": "This person's data has already been erased."})
    if by is not None and by.pk == person.pk:
        raise ValidationError({"person": "Ask an SRE lead to erase your own account."})
    strings = personal_strings(person)
    names = first_and_last_names(person)
    replacement = former_member_name(person)
    for provider in providers():
        if provider.erase is not None:
            provider.erase(person, replacement)
    _anonymise_account(person)
    _rewrite_everywhere(person, strings, names, replacement)
    return Erasure.objects.create(person=person, erased_by=by, erased_at=timezone.now(), via=via)


@transaction.atomic
def portal_logs_purge(*, now: datetime) -> dict[str, int]:
    """Delete sign-in records and sent-email log entries older than PORTAL_LOG_RETENTION_DAYS.
    Returns how many of each went."""
    cutoff = now - timedelta(days=settings.PORTAL_LOG_RETENTION_DAYS)
    return {
        "sign-ins": AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
        "failed sign-ins": AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
        "counted failures": AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0],
        "sent emails": SentEmail.objects.filter(sent_at__lt=cutoff).delete()[0],
    }
