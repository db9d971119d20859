"""Writes of freeze windows: validated (toil.freezes checks their rules) and atomic."""

from django.db import transaction

from toil.models.changes import (
    FreezeWindow,
)

FREEZE_FIELDS = (
    "name",
    "reason",
    "scope",
    "team",
    "service",
    "start",
    "end",
    "time_zone",
    "recurrence",
)


@transaction.atomic
def freeze_create(*, by, overriders=(), **fields) -> FreezeWindow:
    freeze = FreezeWindow(created_by=by, **fields)
    freeze.full_clean()
    freeze.save()
    freeze.overriders.set(overriders)
    return freeze


@transaction.atomic
def freeze_update(*, freeze: FreezeWindow, by, overriders=None, **fields) -> FreezeWindow:
    for name, value in fields.items():
        if name not in FREEZE_FIELDS:
            raise TypeError(f"freeze_update() got an unexpected field {name!r}")
        setattr(freeze, name, value)
    freeze.full_clean()
    freeze.save()
    if overriders is not None:
        freeze.overriders.set(overriders)
    return freeze


@transaction.atomic
def freeze_delete(*, freeze: FreezeWindow, by) -> None:
    freeze.delete()
