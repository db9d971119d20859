"""Incident references, INC-YYYY-NNNN: numbered from 1 each year, unique and gap-free."""

from incidents.models.incidents import IncidentReferenceCounter


def format_reference(year: int, number: int) -> str:
    return f"INC-{year}-{number:04d}"


def next_incident_reference(year: int) -> str:
    """Take the next number of ``year``. Must run inside the transaction that saves the
    incident: the counter row stays locked until it commits, and a rollback gives the
    number back, so concurrent declarations queue up and leave no holes."""
    # Create the year's row if it is the first incident of the year; a concurrent first
    # insert waits for ours and then does nothing.
    IncidentReferenceCounter.objects.bulk_create(
        [IncidentReferenceCounter(year=year)], ignore_conflicts=True
    )
    counter = IncidentReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return format_reference(year, counter.last_number)
