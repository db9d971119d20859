"""Sign-in protection around django-axes (configured in settings, "Sign-in protection"):
the client address it counts failures by, and the /metrics counters of failed sign-ins and
lockouts. This module imports no app."""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from prometheus_client import Counter
from rest_framework.throttling import BaseThrottle

FAILURES = Counter(
    "portal_signin_failures_total",
    "Failed sign-ins (wrong username or password, or refused while locked out), by form.",
    ["form"],
)
LOCKOUTS = Counter(
    "portal_signin_lockouts_total",
    "Lockouts: the failed sign-in that locks a username and address pair out, and each try "
    "of that pair while it is locked, by form.",
    ["form"],
)


def client_ip_address(request) -> str | None:
    """The client's address as the API's rate limits read it: REMOTE_ADDR, or behind
    API_NUM_PROXIES proxies the address the nearest of them appended to X-Forwarded-For.
    A lockout per pair then holds for the real client, not the proxy."""
    return BaseThrottle().get_ident(request) or None


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out pair gets (429), on the sign-in page and the admin's alike. It
    says nothing of whether the username exists: unknown ones are counted the same way."""
    return render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        status=429,
    )


def _form(request) -> str:
    path = getattr(request, "path", "") or ""
    return "admin" if path.startswith("/admin/") else "login"


def count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    FAILURES.labels(_form(request)).inc()


def count_lockout(sender, request=None, **kwargs) -> None:
    LOCKOUTS.labels(_form(request)).inc()


def connect_signals() -> None:
    """Called once from the portal's AppConfig.ready()."""
    from axes.signals import user_locked_out

    user_login_failed.connect(count_failure, dispatch_uid="portal.signin.count_failure")
    user_locked_out.connect(count_lockout, dispatch_uid="portal.signin.count_lockout")
