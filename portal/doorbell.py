"""The broker is a doorbell; the database is the truth.

Work a request asks for is recorded in the database first (an unsent status update, an SLO
marked dirty, a pending reminder). Enqueueing a task only *rings the bell* so that a worker
comes sooner: if the broker is down, the ring is lost, the request still answers its normal
2xx, and a periodic sweep (``portal.tasks.sweep``, also run when a worker starts) finds the
recorded work and does it. So a ring must never raise, and never wait long for a broker that
is not there.

This module imports no app.
"""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def ring(task, *args, countdown: float | None = None, **kwargs) -> bool:
    """Enqueue ``task`` now; False (and a log line) when the broker could not take it.

    ``retry=False``: kombu would otherwise retry the publish for seconds while the broker is
    down, holding the request that rang.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown, retry=False)
    except Exception as error:  # the broker is unreachable or refused: the sweep will come
        logger.warning(
            "Could not enqueue %s (%s); the sweep will pick the work up.",
            getattr(task, "name", task),
            error.__class__.__name__,
        )
        return False
    return True


def ring_by_name(name: str, *args, **kwargs) -> bool:
    """``ring`` for a task known by its registered name (portal code imports no app)."""
    from portal.celery import app

    return ring(app.signature(name), *args, **kwargs)


def ring_on_commit(task, *args, countdown: float | None = None, **kwargs) -> None:
    """Ring once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(ring, task, *args, countdown=countdown, **kwargs))
