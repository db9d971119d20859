"""Background work of the portal's data protection."""

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task
def purge_portal_logs() -> None:
    """Nightly (beat): the portal's own retention of sign-in records and sent-email logs."""
    from portal.privacy.actions import portal_logs_purge

    deleted = portal_logs_purge(now=timezone.now())
    logger.info("Purged old portal logs: %s", deleted)
