"""Serving a stored file as a download that a browser will neither render nor sniff."""

from __future__ import annotations

import os

from django.http import FileResponse

from rectify.evidence.names import sanitise_name


def attachment_response(path: str | os.PathLike, *, download_name: str, mime: str) -> FileResponse:
    """A download of ``path`` that a browser will neither render nor sniff.

    Access control is the caller's job: call this only after the evidence row was reached
    through a scoped selector (SECURITY 10) and, for evidence, after ``EvidenceStore.verify``
    (or use ``EvidenceStore.response``, which does both checks on the file).
    ``download_name`` is sanitised; Django writes ``filename=`` or RFC 5987 ``filename*=``.
    """
    response = FileResponse(
        open(path, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename=sanitise_name(download_name),
        content_type=mime,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
