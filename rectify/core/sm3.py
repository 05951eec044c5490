"""SM3 (GB/T 32905-2016) digest: OpenSSL's through hashlib when it has it, else pure Python."""

from __future__ import annotations

import hashlib
import struct

_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _MASK


def _p0(x: int) -> int:
    return x ^ _rotl(x, 9) ^ _rotl(x, 17)


def _p1(x: int) -> int:
    return x ^ _rotl(x, 15) ^ _rotl(x, 23)


def sm3_pure(data: bytes) -> str:
    length = len(data) * 8
    message = data + b"\x80" + b"\x00" * ((56 - (len(data) + 1) % 64) % 64) + struct.pack(">Q", length)
    v = list(_IV)
    for offset in range(0, len(message), 64):
        w = list(struct.unpack(">16I", message[offset:offset + 64]))
        for j in range(16, 68):
            w.append(_p1(w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
        w1 = [w[j] ^ w[j + 4] for j in range(64)]
        a, b, c, d, e, f, g, h = v
        for j in range(64):
            t = 0x79CC4519 if j < 16 else 0x7A879D8A
            ss1 = _rotl((_rotl(a, 12) + e + _rotl(t, j)) & _MASK, 7)
            ss2 = ss1 ^ _rotl(a, 12)
            if j < 16:
                ff, gg = a ^ b ^ c, e ^ f ^ g
            else:
                ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
            tt1 = (ff + d + ss2 + w1[j]) & _MASK
            tt2 = (gg + h + ss1 + w[j]) & _MASK
            d, c, b, a = c, _rotl(b, 9), a, tt1
            h, g, f, e = g, _rotl(f, 19), e, _p0(tt2)
        v = [x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h), strict=True)]
    return "".join(f"{x:08x}" for x in v)


def _openssl_available() -> bool:
    try:
        hashlib.new("sm3", b"")
    except (ValueError, TypeError):
        return False
    return True


HAVE_OPENSSL = _openssl_available()



def sm3_hex(data: bytes) -> str:
    """Hex SM3 digest of ``data``."""
    if HAVE_OPENSSL:
        return hashlib.new("sm3", data).hexdigest()
    return sm3_pure(data)


def sm3_hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 with SM3, block size 64): OpenSSL's when it has SM3, else pure Python."""
    if HAVE_OPENSSL:
        import hmac

        return hmac.new(key, message, "sm3").digest()
    block = 64
    if len(key) > block:
        key = bytes.fromhex(sm3_pure(key))
    key = key.ljust(block, b"\x00")
    inner = bytes.fromhex(sm3_pure(bytes(k ^ 0x36 for k in key) + message))
    return bytes.fromhex(sm3_pure(bytes(k ^ 0x5C for k in key) + inner))
