"""Password rules of 等保 2.0 level 3 beyond Django's own validators."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError


def character_classes(password: str) -> int:
    return sum([
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])


class CharacterClassValidator:
    """At least 3 of 4 classes: lower case, upper case, digits, symbols."""

    def validate(self, password, user=None):
        if character_classes(password) < 3:
            raise ValidationError("密码须包含大写字母、小写字母、数字、符号中的至少三类。", code="password_classes")

    def get_help_text(self):
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"


class MaximumLengthValidator:
    """Long passphrases are welcome (ASVS), but bound the hashing work."""

    def validate(self, password, user=None):
        if len(password) > 128:
            raise ValidationError("密码不能超过 128 个字符。", code="password_too_long")

    def get_help_text(self):
        return "密码最长 128 个字符，可使用长口令。"


class HistoryValidator:
    """The last N passwords cannot be reused."""

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        recent = list(user.password_history.values_list("password", flat=True)[: settings.PASSWORD_HISTORY])
        if user.password:
            recent.append(user.password)
        if any(check_password(password, encoded) for encoded in recent):
            raise ValidationError(f"不能使用最近 {settings.PASSWORD_HISTORY} 次用过的密码。", code="password_reused")

    def get_help_text(self):
        return f"不能使用最近 {settings.PASSWORD_HISTORY} 次用过的密码。"


# Words that make up most guessable passwords here, after undoing l33t spelling (p@ssw0rd →
# password). Digits, years and symbols around them add no strength (Admin@123456, P@ssw0rd2026).
GUESSABLE_WORDS = (
    "administrator", "password", "passwd", "admin", "root", "user", "guest", "welcome", "letmein", "iloveyou",
    "woaini", "qwerty", "abcd", "abc", "love", "system", "super", "manager", "default", "login", "china",
    "zhongguo", "huawei", "pass", "rectify", "ducha", "zhenggai", "zhengfu", "huanbao", "shengtai",
)
# Rows and columns of the keyboard (shifted symbols count as their digits: 1qaz@WSX = 1qaz2wsx).
KEYBOARD_RUNS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
                 "abcdefghijklmnopqrstuvwxyz")
_SHIFTED = str.maketrans("!@#$%^&*()", "1234567890")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"})


def _covered_by_runs(text: str, covered: list[bool]) -> None:
    """Mark every stretch of 4+ characters that walks along a keyboard row or column (either way)."""
    runs = [*KEYBOARD_RUNS, *(r[::-1] for r in KEYBOARD_RUNS)]
    for start in range(len(text)):
        for end in range(len(text), start + 3, -1):
            if any(text[start:end] in run for run in runs):
                for i in range(start, end):
                    covered[i] = True
                break


def _covered_by_words(text: str, words: list[str], covered: list[bool]) -> None:
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while word and start != -1:
            for i in range(start, start + len(word)):
                covered[i] = True
            start = text.find(word, start + 1)


class GuessablePasswordValidator:
    """Refuses what an attacker tries first (等保 check 1): passwords made only of common words, the
    product's and the city's names (``RECTIFY_PASSWORD_BANNED_WORDS``), keyboard walks and digit runs,
    dressed up with symbols, years and l33t spelling — and any password containing the username.
    What is left once those are taken out must be at least four letters of the user's own."""

    message = "密码过于容易猜到：不能只由常见单词、键盘连续字符、年份数字、系统或城市名称组成（如 Admin@123456、P@ssw0rd2026）。"

    def validate(self, password, user=None):
        lowered = password.lower()
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and (username in lowered or username in lowered.translate(_LEET)):
            raise ValidationError("密码不能包含用户名。", code="password_contains_username")
        covered = [not c.isalpha() for c in lowered]
        _covered_by_runs(lowered.translate(_SHIFTED), covered)
        words = [*GUESSABLE_WORDS, *(w.lower() for w in getattr(settings, "PASSWORD_BANNED_WORDS", []))]
        _covered_by_words(lowered.translate(_LEET), words, covered)
        own = [c for c, gone in zip(lowered, covered, strict=True) if not gone]
        if len(own) < 4:
            raise ValidationError(self.message, code="password_guessable")

    def get_help_text(self):
        return "不能只由常见单词、键盘连续字符、年份或系统、城市名称组成，也不能包含用户名。"
