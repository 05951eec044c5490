"""Personal data at rest: SM4-GCM round trip, bound to its column, tamper-evident; keyed lookup
hash; masking as every screen but the office's shows it."""

from __future__ import annotations

import pytest

from rectify.core import crypto


def test_check_17_round_trip_and_fresh_nonce_each_time():
    token = crypto.encrypt("张三丰 13812345678", context="t.c")
    assert token.startswith(crypto.PREFIX) and "张三丰" not in token
    assert crypto.decrypt(token, context="t.c") == "张三丰 13812345678"
    assert crypto.encrypt("张三丰", context="t.c") != crypto.encrypt("张三丰", context="t.c")
    assert crypto.encrypt("", context="t.c") == "" and crypto.decrypt("", context="t.c") == ""


def test_a_value_moved_to_another_column_or_altered_does_not_decrypt():
    token = crypto.encrypt("李四", context="objection.name")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="objection.phone")
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(altered, context="objection.name")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("plain text", context="objection.name")


def test_check_17_lookup_hash_is_keyed_stable_and_normalised():
    a = crypto.lookup_hash("138 1234 5678", context="phone")
    assert a == crypto.lookup_hash("13812345678", context="phone") == crypto.lookup_hash("１３８１２３４５６７８", context="phone")
    assert a != crypto.lookup_hash("13812345678", context="other") and len(a) == 64
    assert crypto.lookup_hash("  ", context="phone") == ""
    from rectify.core.sm3 import sm3_hex

    assert a != sm3_hex(b"13812345678")  # not a plain digest: a dictionary of phone numbers won't find it


@pytest.mark.parametrize("name,masked", [("张三丰", "张**"), ("李", "李*"), ("", "")])
def test_mask_name(name, masked):
    assert crypto.mask_name(name) == masked


@pytest.mark.parametrize("phone,masked", [("13812345678", "138****5678"), ("0746-1234567", "074*****4567"),
                                          ("123", "***")])
def test_mask_phone(phone, masked):
    assert crypto.mask_phone(phone) == masked
