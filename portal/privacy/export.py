"""A person's data export: everything the portal holds about them, as JSON."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.privacy.registry import handled_models, providers
from portal.privacy.walk import (
    concrete_models,
    json_ready,
    links_to_user,
    mentioning,
    mentions,
    pattern_for,
    personal_strings,
    row,
    text_fields,
)

FORMAT = "reliability-portal personal data export, version 1"


def _account(person) -> dict:
    return {
        "username": person.get_username(),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "is_active": person.is_active,
        "date_joined": json_ready(person.date_joined),
        "last_login": json_ready(person.last_login),
        "groups": sorted(person.groups.values_list("name", flat=True)),
    }


def personal_data_export(person) -> dict:
    """The person's account; every row of every app linked to them (by foreign key or
    many-to-many: memberships, incidents they command, timeline entries and post-mortems they
    wrote, action items they own, history rows of their changes…); every other row whose
    text names them (status updates sent to their address, timeline entries about them…);
    and each registered provider's section (sign-in history, emails sent to them, API tokens)."""
    user_model = get_user_model()
    skipped = handled_models() | {user_model}
    strings = personal_strings(person)
    pattern = pattern_for(strings)
    linked: dict[str, list[dict]] = {}
    mentioned: dict[str, list[dict]] = {}
    for model in concrete_models():
        if model in skipped:
            continue
        label = model._meta.label_lower
        by_pk: dict[object, dict] = {}
        for field in links_to_user(model):
            rows = model._default_manager.filter(**{field.name: person}).order_by("pk")
            for instance in rows.distinct():
                record = by_pk.get(instance.pk)
                if record is None:
                    record = by_pk[instance.pk] = {"linked_by": [], **row(instance)}
                record["linked_by"].append(field.name)
        if by_pk:
            linked[label] = list(by_pk.values())
        fields = text_fields(model)
        if fields and strings:
            for instance in mentioning(model, fields, strings):
                if instance.pk in by_pk:
                    continue
                if any(mentions(getattr(instance, field.attname), pattern) for field in fields):
                    mentioned.setdefault(label, []).append(row(instance))
    export = {
        "format": FORMAT,
        "generated_at": json_ready(timezone.now()),
        "account": _account(person),
        "records": linked,
        "mentions": mentioned,
    }
    for provider in providers():
        export[provider.name] = provider.export(person)
    return export
