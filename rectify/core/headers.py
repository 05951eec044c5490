"""Response headers shared by the application and the static files (whitenoise serves those before
any middleware runs, so it is given the same policy through ``WHITENOISE_ADD_HEADERS_FUNCTION``).
No Django imports: settings.py imports this module."""

from __future__ import annotations

# Everything the UI needs is vendored; nothing may load from elsewhere.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def static_headers(headers, path: str, url: str) -> None:
    """Whitenoise's hook: the same CSP and sniffing rule on every static response."""
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
