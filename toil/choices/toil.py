"""The toil inventory's kinds: categories, how often, where an item stands, and the six
characteristics that make work toil."""

from django.db import models


class ToilCategory(models.TextChoices):
    INTERRUPTS = "interrupts", "Interrupts"
    ON_CALL = "on_call", "On-call response"
    RELEASES = "releases", "Releases and deploys"
    MANUAL_OPERATIONS = "manual_operations", "Manual operations"
    REQUESTS = "requests", "Requests from others"
    OTHER = "other", "Other"


class FrequencyUnit(models.TextChoices):
    WEEK = "week", "per week"
    MONTH = "month", "per month"


class ToilStatus(models.TextChoices):
    MANUAL = "manual", "Manual"
    PLANNED = "planned", "Automation planned"
    AUTOMATING = "automating", "Automating"
    AUTOMATED = "automated", "Automated"
    RETIRED = "retired", "Retired"


#: Statuses of work still done by hand: what the inventory's estimate counts.
MANUAL_STATUSES = frozenset({ToilStatus.MANUAL, ToilStatus.PLANNED, ToilStatus.AUTOMATING})

#: The six characteristics of toil (field name, label, what it means). Work that has fewer
#: than TOIL_CHARACTERISTICS_NEEDED of them may be something other than toil: project work,
#: overhead, or engineering that leaves the service better.
CHARACTERISTICS = (
    ("manual", "Manual", "A person has to do it."),
    ("repetitive", "Repetitive", "The same steps, again and again."),
    ("automatable", "Automatable", "A machine could do it."),
    ("tactical", "Tactical", "Reacting to something, not part of a plan."),
    ("no_enduring_value", "No enduring value", "The service is no better afterwards."),
    ("grows_with_service", "Grows with the service", "More traffic or users, more of it."),
)
CHARACTERISTIC_FIELDS = tuple(name for name, _, _ in CHARACTERISTICS)
TOIL_CHARACTERISTICS_NEEDED = 4
