"""API rate limits (DRF's throttles), with their rates read when a request comes in so that
a change of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] applies without a restart of the class
(DRF's own classes copy the rates once, at import)."""

from rest_framework import throttling
from rest_framework.settings import api_settings


class UserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in user (token or session); per client address for anonymous callers."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Callers without a portal user (the Alertmanager webhook), per client address."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
