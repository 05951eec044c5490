"""Key rotation (密钥更新, GB/T 39786): ``rectify rotate-key`` makes a new version of the audit chain
key and/or the data key (core/keys.py) and records the rotation in the audit chain.

**Chain key.** The rotation event is the last link made with the old version and names the new one;
every later link is made with the new one, and ``rectify verify`` follows the switch (core/audit.py).
Old links are never re-made (on PostgreSQL the events table refuses UPDATE anyway): the old version is
kept to check them. Whoever learns an old key can no longer forge anything after the rotation.

**Data key.** Every SM4-encrypted column (any model field that is a ``core.crypto.EncryptedTextField``)
is decrypted with the version its value names and encrypted again with the new one, and every keyed
lookup column (``core.crypto.LOOKUP_COLUMNS``) is computed again, in one transaction with the event.
Server processes cache the data key version: restart them after the rotation (``rectify serve`` and
workers), or run it while they are stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction

from rectify.core import crypto
from rectify.core.audit import KEY_ROTATED, _lock_chain, record_event
from rectify.core.keys import create_version, latest_version, remove_version
from rectify.core.models import ChainHead


@dataclass
class Rotation:
    key: str
    version: int
    rows: int = 0


def rotate_chain_key(*, actor=None, actor_name: str = "") -> Rotation:
    """Make the next chain key version and switch the chain to it (one event, under the old key)."""
    with transaction.atomic():
        _, _, current = _lock_chain()
        new = current + 1
        if latest_version("chain_key") < new:
            create_version("chain_key", new)
        record_event(actor=actor, actor_name=actor_name, action=KEY_ROTATED, object_type="core.chainhead",
                     object_id=1, object_label="审计链密钥",
                     summary=f"更换审计链密钥：第 {current} 版 → 第 {new} 版（此后的事件以新密钥链接）",
                     before={"chain_key_version": current}, after={"chain_key_version": new})
        ChainHead.objects.filter(pk=1).update(key_version=new)
    return Rotation("chain_key", new)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, crypto.EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rotate_data_key(*, actor=None, actor_name: str = "") -> Rotation:
    """Make the next data key version, re-encrypt every SM4 column and recompute every keyed lookup
    column under it, and record the rotation — all or nothing."""
    old = crypto.current_version()
    new = latest_version("data_key") + 1
    create_version("data_key", new)
    crypto.current_version.cache_clear()
    rows = 0
    try:
        with transaction.atomic():
            _lock_chain()  # one writer of the record at a time, from the start
            for model, names in encrypted_fields():
                for obj in model._default_manager.only("pk", *names).iterator(chunk_size=500):
                    model._default_manager.filter(pk=obj.pk).update(**{n: getattr(obj, n) for n in names})
                    rows += 1
            for label, hash_field, source_field, context in crypto.LOOKUP_COLUMNS:
                model = apps.get_model(label)
                for obj in model._default_manager.only("pk", source_field).iterator(chunk_size=500):
                    model._default_manager.filter(pk=obj.pk).update(
                        **{hash_field: crypto.lookup_hash(getattr(obj, source_field) or "", context=context)})
            record_event(actor=actor, actor_name=actor_name, action="data_key_rotated", object_type="core.datakey",
                         object_id=new, object_label="个人信息加密密钥",
                         summary=f"更换个人信息加密密钥（SM4）：第 {old} 版 → 第 {new} 版，重新加密 {rows} 条记录，"
                                 f"重算检索哈希",
                         before={"data_key_version": old}, after={"data_key_version": new, "rows": rows})
    except BaseException:
        # Nothing was re-encrypted: remove the new version again, so that new values keep the old one.
        remove_version("data_key", new)
        crypto.current_version.cache_clear()
        raise
    return Rotation("data_key", new, rows)
