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


# Per-user throttles on the expensive operations (SECURITY.md check 4): uploads, exports, document
# generation, plan parsing and imports, each counted per hour in the shared cache, so the limit holds
# across every server process. settings.THROTTLES_PER_HOUR sets the numbers (RECTIFY_THROTTLE_*).
THROTTLE_LABELS = {"upload": "上传文件", "export": "导出", "document": "生成文书", "plan": "解析整改方案",
                   "import": "导入台账"}


def throttled(bucket: str, *, methods: tuple[str, ...] = ("POST",)):
    """Refuse a user's request to the decorated view (HTTP 429, a Chinese page saying when to retry)
    once they have made the bucket's hourly number of them. Only ``methods`` count: a GET of an
    upload form is free, a GET of an export is not."""
    from functools import wraps

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods and getattr(request.user, "is_authenticated", False):
                from django.conf import settings
                from django.shortcuts import render

                limit = settings.THROTTLES_PER_HOUR[bucket]
                if not hit(f"throttle:{bucket}:{request.user.pk}", limit=limit, window_seconds=3600):
                    response = render(request, "core/error.html", {
                        "status": 429, "request_id": getattr(request, "request_id", "-"),
                        "detail": f"{THROTTLE_LABELS[bucket]}过于频繁：每人每小时最多 {limit} 次，请稍后再试。"},
                        status=429)
                    response["Retry-After"] = "600"
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
