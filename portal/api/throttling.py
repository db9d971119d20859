"""API rate limits (DRF's throttles), per user and, for callers without one, per address.

Two differences from DRF's own classes:
- the rates are read when a request comes in, so a change of
  REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies (DRF's classes copy them at import);
- a cache that cannot be reached (a shared Redis restarting) lets requests through: a rate
  limit protects the portal, it must not take the API down with the cache.
"""

import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _FailOpen:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache failure: serve the request, say so in the log
            logger.warning("Rate limit not applied: the cache is unavailable", exc_info=True)
            return True


class UserRateThrottle(_FailOpen, throttling.UserRateThrottle):
    """Per signed-in user (token or session); per client address for anonymous callers."""


class AnonRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    """Callers without a portal user (the Alertmanager webhook), per client address."""
