"""Background work of the toil inventory: recomputing the monthly figures that pages, the API
and the monthly report read (toil.models.inventory.TeamToilMonth)."""

from celery import shared_task


@shared_task
def recompute_dirty_toil_months() -> None:
    """Recompute the months that changes marked dirty, each once. Rung a few seconds after a
    change commits and, as a sweep (settings.PORTAL_SWEEPS), every minute and when a worker
    starts, so marks whose ring was lost are done too."""
    from toil.actions.toil import toil_months_recompute_dirty

    toil_months_recompute_dirty()


@shared_task
def refresh_toil_months() -> None:
    """Beat's refresh of the current month (and of months never computed), whose figures move
    with the clock even when nothing changes."""
    from toil.actions.toil import toil_months_refresh

    toil_months_refresh()
