"""A challenge that needs no external service (人机验证): a small arithmetic question whose answer
travels signed in the form (HMAC under SECRET_KEY, salted, valid for an hour), used once.

It stops form-filling scripts that do not read the page, not a determined person; the rate limit
per address (core.ratelimit) bounds the rest. No image, no third party, works without JavaScript
and reads out on a screen reader.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

SALT = "rectify.disclosure.challenge"
MAX_AGE_SECONDS = 3600
NUMERALS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def new_challenge() -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    if secrets.randbelow(2) and a > b:
        question, answer = f"{a} 减 {b} 等于几？（请填阿拉伯数字）", a - b
    else:
        question, answer = f"{a} 加 {b} 等于几？（请填阿拉伯数字）", a + b
    token = signing.dumps({"a": answer, "n": secrets.token_hex(8)}, salt=SALT, compress=True)
    return Challenge(question, token)


def check_answer(token: str, answer: str) -> bool:
    """True once for a correct answer to an unexpired question; a used question is refused."""
    if not token or len(token) > 300:
        return False
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return False
    answer = (answer or "").strip()
    if not answer.isdigit() or len(answer) > 3 or int(answer) != data.get("a"):
        return False
    # one use only: a replayed form (same nonce) fails even with the right answer
    return bool(cache.add(f"challenge:{data.get('n')}", 1, MAX_AGE_SECONDS))
