"""How many API requests a user (or an unauthenticated caller) may make: LANEBRIDGE_API_THROTTLE(_ANON)."""

from django.core.cache import caches
from rest_framework import throttling
from rest_framework.settings import api_settings


class SharedCount:
    """Count in the cache every web process of the installation shares, at the rates settings give now."""

    cache = caches["throttle"]

    @property
    def THROTTLE_RATES(self) -> dict:  # noqa: N802 - DRF's name; DRF itself reads the rates once, at import
        return api_settings.DEFAULT_THROTTLE_RATES


class UserThrottle(SharedCount, throttling.UserRateThrottle):
    """Requests per signed-in user."""


class AnonThrottle(SharedCount, throttling.AnonRateThrottle):
    """Requests per address from callers without credentials."""
