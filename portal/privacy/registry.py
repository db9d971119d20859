"""Where the portal finds a person's data, beyond what it finds by itself.

Export and erasure (portal.privacy.export, portal.privacy.erasure) walk every model on their
own: every row with a foreign key (or many-to-many) to the person is theirs, and every text
or JSON column of every model is searched for their username, name and email. That covers
the records of every app, present and future, without this package importing any.

A provider is for records that need more than that: rows that name a person by username or
address in a way that must be deleted rather than rewritten (sign-in records), or that
should appear in the export in a readable shape of their own (emails sent to them, API
tokens without their digests). Each app registers its providers from its AppConfig.ready():

    from portal.privacy.registry import PersonalDataProvider, register

    register(PersonalDataProvider(
        name="reminders sent to you",
        models=(ReminderLog,),          # left out of the generic export walk
        export=lambda person: [...],    # JSON-ready dicts
        erase=lambda person, replacement: count,  # before the generic rewrite; may be None
    ))

A provider's ``export`` runs before the person is anonymised and ``erase`` runs before the
generic rewrite of text columns, both inside the erasure's transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalDataProvider:
    name: str
    export: Callable[[object], list[dict]]
    erase: Callable[[object, str], int] | None = None
    models: tuple[type, ...] = ()


_providers: dict[str, PersonalDataProvider] = {}


def register(provider: PersonalDataProvider) -> None:
    """Add (or replace, by name) a provider; called from AppConfig.ready()."""
    _providers[provider.name] = provider


def providers() -> list[PersonalDataProvider]:
    return list(_providers.values())


def handled_models() -> set[type]:
    """Models a provider exports in its own shape: the generic export walk leaves them out."""
    return {model for provider in _providers.values() for model in provider.models}
