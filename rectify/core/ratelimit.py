"""Rate limits in the cache every server process shares (settings.CACHES)."""

from __future__ import annotations

from django.core.cache import cache


def spent(key: str) -> int:
    """How many attempts ``key`` has counted in the current window (0 when none)."""
    return int(cache.get(f"ratelimit:{key}") or 0)


def hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt under ``key``; False when the limit for the current window is exceeded."""
    full = f"ratelimit:{key}"
    cache.add(full, 0, window_seconds)
    try:
        count = cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.set(full, 1, window_seconds)
        count = 1
    return count <= limit
