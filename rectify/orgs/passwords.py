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
