"""Whole responses to signed-in GETs, kept for a few seconds and keyed on the data's version.

A page costs several queries and its rendering; the same person asking for the same page
again before anything changed gets the same bytes. What "changed" means is decided by the
database, not by the code that writes: every table the pages read carries a statement-level
trigger that moves one sequence (``portal_data_version``), so inserts, updates, deletes,
bulk statements, COPY, raw SQL, the admin, the worker and other processes all move it. The
version is one read of the sequence per request; a stored response is used only when it was
made at the same version, for the same person (the whole Cookie header: session, CSRF secret,
zone), the same path and query, the same htmx target and Accept header, and the same zone.

Pages also change with time alone ("open for 3 h", "overdue", "stale"): a stored response
lives ``PAGE_CACHE_SECONDS`` at most (0 turns the cache off). Nothing is stored or served
when the person has a message waiting (a message is shown once), for a response that sets a
cookie or changes the session, for a request without its CSRF cookie yet, for anything but
a 200, for downloads and bodies over half a megabyte, or on a database without the sequence
(SQLite under ``make run``).

The tables left without a trigger are the ones no page shows and that change on their own
(sessions, sign-in attempts, beat's schedule, which beat writes after every run).
"""

import hashlib
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone

logger = logging.getLogger(__name__)

SEQUENCE = "portal_data_version"
FUNCTION = "portal_bump_data_version"
TRIGGER = "portal_data_version_bump"
#: Tables no page shows, which change on their own (name prefixes).
UNTRACKED_PREFIXES = (
    "django_session",
    "axes_",
    "django_celery_beat_",
    "django_migrations",
    # Beat writes it every minute; only the health checks read it.
    "portal_heartbeat",
)
#: The largest body kept: pages are tens of kilobytes; exports and downloads are not kept.
MAX_BODY_BYTES = 512 * 1024
#: Request headers a view may answer differently to (besides cookies).
VARYING_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_TARGET", "HTTP_HX_BOOSTED", "HTTP_ACCEPT")


def install_version_triggers(using: str = "default", **kwargs) -> None:
    """Create the sequence, its function and a trigger on every tracked table (after every
    migrate, so tables added since get theirs). PostgreSQL only; idempotent."""
    from django.db import connections

    target = connections[using]
    if target.vendor != "postgresql":
        return
    with target.cursor() as cursor:
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM nextval('{SEQUENCE}'); RETURN NULL; END $$"
        )
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid "
            "AND t.tgname = %s)",
            [TRIGGER],
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND t.tgname = %s",
            [TRIGGER],
        )
        for (table,) in cursor.fetchall():
            if table.startswith(UNTRACKED_PREFIXES):  # untracked since its trigger was made
                cursor.execute(f"DROP TRIGGER {TRIGGER} ON {target.ops.quote_name(table)}")
        for table in tables:
            if table.startswith(UNTRACKED_PREFIXES):
                continue
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {target.ops.quote_name(table)} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {FUNCTION}()"
            )


def data_version() -> int | None:
    """The sequence's current value (None without it). Not transactional, on purpose: a
    write moves it for everyone at once, even one rolled back (a harmless miss)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value, is_called FROM {SEQUENCE}")
        row = cursor.fetchone()
    return None if row is None else row[0] * 2 + int(row[1])


def _key(request, version: int) -> str:
    parts = [
        request.get_full_path(),
        request.META.get("HTTP_COOKIE", ""),
        timezone.get_current_timezone_name(),
        str(version),
        *(request.META.get(header, "") for header in VARYING_HEADERS),
    ]
    return "page:" + hashlib.blake2b("\x00".join(parts).encode(), digest_size=20).hexdigest()


class PageCacheMiddleware:
    """Serve a signed-in GET from the stored response of the same request at the same data
    version, else store a 200 worth keeping. After the session, CSRF, authentication, zone
    and messages middlewares (it reads what they set); the response headers of the ones
    after it (CSP, frame options) are stored with the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.PAGE_CACHE_SECONDS
        if (
            not seconds
            or request.method != "GET"
            or not request.user.is_authenticated
            # The API answers a token's owner, who may not be the session's person.
            or "HTTP_AUTHORIZATION" in request.META
            or len(messages.get_messages(request))
        ):
            return self.get_response(request)
        try:
            version = data_version()
        except Exception:  # the sequence is missing (not migrated yet): serve uncached
            logger.warning("No data version: pages are not cached.", exc_info=True)
            return self.get_response(request)
        if version is None:
            return self.get_response(request)
        store = caches["pages"]
        key = _key(request, version)
        stored = store.get(key)
        if stored is not None and stored[0] > time.monotonic():
            _, status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not request.session.modified
            # The page's forms carry a token of the CSRF secret in the request's cookie; a
            # request without one gets a new secret in a cookie set further out.
            and settings.CSRF_COOKIE_NAME in request.COOKIES
            and "no-store" not in response.get("Cache-Control", "")
            and not response.has_header("Content-Disposition")
            and len(response.content) <= MAX_BODY_BYTES
        ):
            store.set(
                key,
                (time.monotonic() + seconds, 200, list(response.items()), response.content),
                seconds,
            )
        return response
