"""Writes of the dashboard app: issuing and revoking display tokens (大屏令牌), each in the record."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.dashboard.models import DisplayToken
from rectify.dashboard.scope import manages_displays
from rectify.orgs.models import User
from rectify.orgs.scope import unit_within

KEY_PREFIX = "wall_"


def digest_of(key: str) -> str:
    return sm3_hex(key.encode())


def issue_display_token(*, actor: User, name: str) -> tuple[DisplayToken, str]:
    """Issue a wall-screen link; returns the token and its key (shown this once)."""
    if not manages_displays(actor) or actor.unit is None:
        raise PermissionDenied("只有整改办可以签发大屏令牌。")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["请填写用途（如“二楼会议室大屏”，不超过 100 个字）。"]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = DisplayToken.objects.create(office=actor.unit, name=name, prefix=key[len(KEY_PREFIX):][:8],
                                            digest=digest_of(key), issued_by=actor, issued_at=timezone.now())
        record_event(actor=actor, action="display_token_issued", obj=token, summary=f"签发大屏令牌「{token}」",
                     after={"token": token.pk, "name": name, "prefix": token.prefix})
    return token, key


def revoke_display_token(*, actor: User, token: DisplayToken) -> DisplayToken:
    """Revoke (吊销): the wall stops at its next refresh."""
    if not (manages_displays(actor) and unit_within(token.office, actor.unit)):
        raise PermissionDenied("只有整改办可以吊销大屏令牌。")
    with transaction.atomic():
        locked = DisplayToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at:
            raise ValidationError(f"大屏令牌「{locked}」已吊销。")
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(actor=actor, action="display_token_revoked", obj=locked, summary=f"吊销大屏令牌「{locked}」",
                     before={"revoked": False}, after={"revoked": True})
    return locked


def wall_viewer(key: str) -> User | None:
    """Whose board a wall shows: the issuer of a live token for this key (read-only, no session)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    token = (DisplayToken.objects.select_related("issued_by", "issued_by__unit")
             .filter(digest=digest_of(key), revoked_at__isnull=True).first())
    if token is None or not token.issued_by.is_active or not manages_displays(token.issued_by):
        return None
    return token.issued_by


# --- leader instructions (领导批示) --------------------------------------------------------------

MAX_TEXT = 2000


def issue_instruction(*, actor: User, text: str, task=None, county=None):
    """批示: a leader writes on a task it sees (reaching the task's responsible units) or on one of
    its counties (reaching the county); each receiving unit's people are reminded."""
    from rectify.dashboard.models import Instruction, InstructionReceipt
    from rectify.dashboard.scope import instructs_on_county, instructs_on_task
    from rectify.ledger.models import TaskUnit, UnitRole

    if (task is None) == (county is None):
        raise ValidationError("批示须针对一项任务或一个县市区。")
    if task is not None and not instructs_on_task(actor, task):
        raise PermissionDenied("只有能看到该任务的市领导可以批示。")
    if county is not None and not instructs_on_county(actor, county):
        raise PermissionDenied("只能对自己联系的县市区批示。")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise ValidationError({"text": [f"请填写批示内容（不超过 {MAX_TEXT} 字）。"]})
    units = ([tu.unit for tu in TaskUnit.objects.filter(task=task, role=UnitRole.RESPONSIBLE).select_related("unit")
              .order_by("ordinal", "id")] if task is not None else [county])
    if not units:
        raise ValidationError("该任务尚未确定主体责任单位，批示无法送达。")
    with transaction.atomic():
        ins = Instruction.objects.create(leader=actor, task=task, county=county, text=text, created_at=timezone.now())
        InstructionReceipt.objects.bulk_create(InstructionReceipt(instruction=ins, unit=u) for u in units)
        names = "、".join(u.name for u in units)
        event: dict[str, Any] = dict(action="instruction_issued", summary=f"{actor}批示：{text[:200]}（送{names}办理）",
                     after={"instruction": ins.pk, "units": [u.name for u in units], "text": text})
        if task is not None:  # on the task's timeline
            record_event(actor=actor, object_type="ledger.task", object_id=task.pk, object_label=str(task)[:300],
                         **event)
        else:
            record_event(actor=actor, obj=ins, **event)
        transaction.on_commit(lambda: _notify_units(ins, units))
    return ins


def _notify_units(ins, units) -> None:
    from rectify.core.notify import notify
    from rectify.core.roles import UNIT_ROLES

    for unit in units:
        users = User.objects.filter(role__in=UNIT_ROLES, unit=unit, is_active=True)
        notify(users=users, kind="instruction", title=f"{ins.leader}批示：{ins.text[:60]}", body=ins.text,
               url=f"/board/instructions/{ins.pk}/", key=f"instruction:{ins.pk}:{unit.pk}")


def record_instruction_action(*, actor: User, receipt, text: str):
    """The receiving unit records what it did about the instruction (办理情况): the one transition
    service of ``INSTRUCTION_FLOW``."""
    from django.http import Http404

    from rectify.dashboard.models import InstructionReceipt
    from rectify.dashboard.workflows import INSTRUCTION_FLOW

    text = (text or "").strip()
    with transaction.atomic():
        locked = (InstructionReceipt.objects.visible_to(actor).select_for_update(of=("self",))
                  .select_related("instruction", "instruction__task", "unit").filter(pk=receipt.pk).first())
        if locked is None:
            raise Http404("批示不存在或无权操作。")
        rule = INSTRUCTION_FLOW.authorise(actor, locked, "record")
        if not text or len(text) > MAX_TEXT:
            raise ValidationError({"action_text": [f"请填写办理情况（不超过 {MAX_TEXT} 字）。"]})
        locked.status, locked.action_text, locked.acted_by, locked.acted_at = rule.target, text, actor, timezone.now()
        locked.save(update_fields=["status", "action_text", "acted_by", "acted_at"])
        ins = locked.instruction
        event: dict[str, Any] = dict(action=INSTRUCTION_FLOW.event_of(rule), summary=f"{locked.unit.name}办理批示：{text[:200]}",
                     before={"status": "open"}, after={"instruction": ins.pk, "status": locked.status, "text": text})
        if ins.task_id:
            record_event(actor=actor, object_type="ledger.task", object_id=ins.task_id,
                         object_label=str(ins.task)[:300], **event)
        else:
            record_event(actor=actor, obj=ins, **event)
    receipt.refresh_from_db()
    return receipt
