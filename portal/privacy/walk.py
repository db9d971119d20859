"""The generic walk over every model of every installed app: which rows point at a person,
which text columns may hold their name, and how a text is rewritten without them."""

import datetime
import decimal
import re
import uuid
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Cast

#: Columns never searched or rewritten: secrets and encoded blobs, not text about anyone.
NOT_TEXT = {
    ("auth", "user", "password"),
    ("sessions", "session", "session_data"),
    ("knox", "authtoken", "digest"),
}


def concrete_models() -> Iterator[type[models.Model]]:
    """Every concrete model, historical (simple-history) ones included, in a stable order."""
    for model in sorted(apps.get_models(), key=lambda model: model._meta.label_lower):
        if not model._meta.abstract and not model._meta.proxy and model._meta.managed:
            yield model


def text_fields(model) -> list[models.Field]:
    """The model's columns that hold text: char, text (email, slug, URL…) and JSON."""
    meta = model._meta
    return [
        field
        for field in meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField, models.JSONField))
        and not field.choices
        and (meta.app_label, meta.model_name, field.name) not in NOT_TEXT
    ]


def links_to_user(model) -> list[models.Field]:
    """The model's foreign keys and many-to-many fields to the user model."""
    user_model = get_user_model()
    return [
        field
        for field in model._meta.get_fields()
        if (field.many_to_one or field.one_to_one or field.many_to_many)
        and field.concrete
        and field.related_model is user_model
    ]


def personal_strings(person) -> list[str]:
    """What identifies the person in text: email, full name, username; longest first, so that
    an email is replaced whole before the username inside it."""
    strings = {person.email.strip(), person.get_full_name().strip(), person.get_username()}
    return sorted((text for text in strings if text), key=lambda text: (-len(text), text))


def first_and_last_names(person) -> list[str]:
    """The person's first and last names, each alone: they identify the person only in a
    record that is theirs or already names them (see portal.privacy.actions)."""
    names = {person.first_name.strip(), person.last_name.strip()}
    return sorted((name for name in names if len(name) >= 2), key=lambda name: (-len(name), name))


def pattern_for(strings: Iterable[str]) -> re.Pattern:
    """Any of the strings as a whole word (not inside a longer name), in any case."""
    alternatives = "|".join(re.escape(text) for text in strings)
    return re.compile(rf"(?<![\w.@+-])(?:{alternatives})(?![\w@+-]|\.\w)", re.IGNORECASE)


def mentioning(model, fields: list[models.Field], strings: list[str]) -> models.QuerySet:
    """Rows of the model whose text columns contain any of the strings (in any case): a
    superset of the mentions, which pattern_for() then decides."""
    queryset = model._default_manager.all()
    condition = models.Q()
    for field in fields:
        column = field.name
        if isinstance(field, models.JSONField):
            column = f"_text_{field.name}"
            queryset = queryset.annotate(**{column: Cast(field.name, models.TextField())})
        for text in strings:
            condition |= models.Q(**{f"{column}__icontains": text})
    return queryset.filter(condition).order_by("pk")


def rewrite(value, pattern: re.Pattern, replacement: str):
    """The value (a string, or JSON made of dicts, lists and strings) with every match
    replaced; keys of JSON objects too."""
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [rewrite(item, pattern, replacement) for item in value]
    if isinstance(value, dict):
        return {
            rewrite(key, pattern, replacement): rewrite(item, pattern, replacement)
            for key, item in value.items()
        }
    return value


def is_linked(instance, links: list[models.Field], person) -> bool:
    """Does this row point at the person through one of its foreign keys?"""
    return any(
        getattr(instance, field.attname, None) == person.pk
        for field in links
        if not field.many_to_many
    )


def mentions(value, pattern: re.Pattern) -> bool:
    return rewrite(value, pattern, "\x00") != value


def json_ready(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, datetime.timedelta)):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return None
    return value


def row(instance, *, exclude: Iterable[str] = ()) -> dict:
    """A row as JSON: its columns, foreign keys as ids."""
    skipped = set(exclude)
    meta = instance._meta
    return {
        field.attname: json_ready(getattr(instance, field.attname))
        for field in meta.concrete_fields
        if field.name not in skipped
        and (meta.app_label, meta.model_name, field.name) not in NOT_TEXT
    }
