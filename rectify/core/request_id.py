"""The request id: set by the middleware, shown on error pages, carried by every log line of the
request (``%(request_id)s``). No Django imports: the logging configuration loads this module before
the apps are ready."""

from __future__ import annotations

import contextvars
import logging

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("rectify_request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Puts the request id on every log record, "-" outside requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
