"""Document numbers (发文字号): one register for every official document the system issues.

A number reads ``{prefix}{word}〔{year}〕{seq}号`` — 整改办督〔2026〕3号. The word says which
sequence it belongs to; kinds that share a word share the sequence (a monthly bulletin and a
circular are both 通, so they count together and never collide). The prefix is the office's
机关代字 (``RECTIFY_DOC_NUMBER_PREFIX``, default 整改办).

:func:`allocate_number` is the only writer of :class:`~rectify.core.models.DocumentNumber`. It
takes the next number under the audit chain's lock (so two issuers, in threads or processes, on
SQLite or PostgreSQL, can never take the same one) and records an event in the same transaction.
It is idempotent per document: asking again for the same (kind, object) returns the number
already issued. It does not check permission itself: it is a step of the service that issues the
document (``supervision.services.issue_escalation``, ``documents.bulletin.generate_bulletin``),
which has already checked that the actor may issue it, and runs inside that service's
transaction.

Apps add their kinds with :func:`register_document_kind` (in their ``AppConfig.ready``) or by
listing them here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from rectify.core.audit import lock_chain, record_event
from rectify.core.models import DocumentNumber

# kind → (word of the number, what the document is called)
DOCUMENT_KINDS: dict[str, tuple[str, str]] = {
    "warning": ("预", "预警通知"),
    "circular": ("通", "通报"),
    "bulletin": ("通", "月度调度通报"),
    "supervision": ("督", "督办通知"),
    "listed": ("挂督", "挂牌督办通知"),
    "interview": ("约", "约谈通知"),
    "suspension": ("限", "区域限批通知"),
    "letter": ("函", "函"),
    "closeout": ("销", "销号文书"),
}


def register_document_kind(kind: str, word: str, label: str) -> None:
    """Add a kind of document (a later app's own). Re-registering the same kind identically is fine."""
    if DOCUMENT_KINDS.get(kind, (word, label)) != (word, label):
        raise ValueError(f"document kind {kind!r} is already registered as {DOCUMENT_KINDS[kind]}")
    DOCUMENT_KINDS[kind] = (word, label)


def number_prefix() -> str:
    return getattr(settings, "DOC_NUMBER_PREFIX", "") or "整改办"


def format_number(word: str, year: int, seq: int) -> str:
    return f"{number_prefix()}{word}〔{year}〕{seq}号"


def issued_number(*, kind: str, object_type: str, object_id: str | int) -> str:
    """The number already issued for this document, or "" (a read; allocates nothing)."""
    return (DocumentNumber.objects.filter(kind=kind, object_type=object_type, object_id=str(object_id))
            .values_list("number", flat=True).first() or "")


def number_in_use(number: str) -> bool:
    return DocumentNumber.objects.filter(number=number.strip()).exists()


def allocate_number(*, kind: str, year: int, object_type: str, object_id: str | int, actor=None,
                    actor_name: str = "") -> str:
    """Issue the next number of ``kind``'s sequence in ``year`` for one document and record it.

    Asking again for the same (kind, object_type, object_id) returns the number it already has
    and records nothing.
    """
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r}; register it in rectify.core.numbers")
    word, label = DOCUMENT_KINDS[kind]
    object_id = str(object_id)
    with transaction.atomic():
        lock_chain()  # one issuer at a time: the max below cannot change until this transaction ends
        existing = issued_number(kind=kind, object_type=object_type, object_id=object_id)
        if existing:
            return existing
        last = DocumentNumber.objects.filter(series=word, year=year).aggregate(m=Max("seq"))["m"] or 0
        seq = last + 1
        number = format_number(word, year, seq)
        row = DocumentNumber.objects.create(
            kind=kind, series=word, year=year, seq=seq, number=number, object_type=object_type,
            object_id=object_id, issued_at=timezone.now(),
            issued_by=actor if getattr(actor, "is_authenticated", False) else None)
        record_event(actor=actor, actor_name=actor_name, action="document_number_issued",
                     object_type=object_type, object_id=object_id, object_label=f"{label} {number}",
                     summary=f"编发文字号 {number}（{label}）",
                     after={"number": number, "kind": kind, "year": year, "seq": seq, "register": row.pk})
    return number
