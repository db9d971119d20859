"""Liveness and readiness probes, open without signing in.

Anyone can call them, so a failed check says only what failed; the error itself (which
may name hosts, users or paths) goes to the log.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.celery import app as celery_app
from portal.models import Heartbeat
from portal.tasks import HEARTBEAT

logger = logging.getLogger(__name__)


@login_not_required
@require_GET
@never_cache
def healthz(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure to reach the database means not ready
        logger.warning("Readiness: the database is unreachable", exc_info=True)
        return {"ok": False, "error": "the database is unreachable"}
    return {"ok": True}


def _check_broker() -> dict:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(
                max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT
            )
    except Exception:  # any failure to reach the broker means not ready
        logger.warning("Readiness: the broker is unreachable", exc_info=True)
        return {"ok": False, "error": "the broker is unreachable"}
    return {"ok": True}


def _check_heartbeat(database_ok: bool) -> dict:
    """Whether worker and beat ran the heartbeat recently. Reported, not required:
    the web process can serve while the workers restart."""
    if not database_ok:
        return {"ok": False, "last_run": None}
    beat = Heartbeat.objects.filter(name=HEARTBEAT).first()
    if beat is None:
        return {"ok": False, "last_run": None}
    stale_after = timedelta(seconds=settings.HEARTBEAT_STALE_AFTER_SECONDS)
    return {
        "ok": timezone.now() - beat.last_run < stale_after,
        "last_run": beat.last_run.isoformat(),
    }


@login_not_required
@require_GET
@never_cache
def readyz(request):
    """The database and the broker are reachable; the worker heartbeat is reported too."""
    database = _check_database()
    broker = _check_broker()
    checks = {"database": database, "broker": broker, "worker": _check_heartbeat(database["ok"])}
    ready = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
