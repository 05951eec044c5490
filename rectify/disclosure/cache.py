"""The portal's page cache, keyed by the audit chain's head.

Every service records its event last in the same transaction as its write (core.audit), so the
chain's length is a version number of the whole record that moves exactly when a write commits.
A cached page is stored under (chain length, path with query): the first request after any commit
sees a new length and renders afresh; a rolled-back write leaves no event and changes nothing.
The length is read anyway for the footer (one indexed query), so a cached page costs one query.

The cache is ``caches["portal"]``: per process memory by default (nothing to invalidate across
processes, since the key comes from the database) or Redis where configured. It is never the
database cache: a GET writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from rectify.core.models import Event

TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    time: object


def current_head() -> Head:
    row = Event.objects.order_by("-seq").values_list("seq", "hash", "created_at").first()
    return Head(*row) if row else Head(0, "0" * 64, None)


def _cache():
    """The portal cache, or None when ``PORTAL_CACHE_SECONDS`` is 0 (pages always rendered)."""
    if not getattr(settings, "PORTAL_CACHE_SECONDS", TIMEOUT_SECONDS) or "portal" not in settings.CACHES:
        return None
    return caches["portal"]


def cached_page(view):
    """Serve a GET from the cache while the chain has not moved; render and keep it otherwise.
    The response says ``X-Portal-Cache: hit|miss``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        head = current_head()
        request.portal_head = head
        cache = _cache()
        if request.method != "GET" or cache is None:
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        key = f"portal:{head.seq}:{head.hash[:16]}:{path}"
        stored = cache.get(key)
        if stored is not None:
            content, content_type = stored
            response = HttpResponse(content, content_type=content_type)
            response["X-Portal-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code == 200 and not response.streaming:
            cache.set(key, (response.content, response["Content-Type"]),
                      getattr(settings, "PORTAL_CACHE_SECONDS", TIMEOUT_SECONDS))
        response["X-Portal-Cache"] = "miss"
        return response

    return wrapper
