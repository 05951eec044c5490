"""Authentication that honours the account lockout (登录失败处理)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone


class LockoutAwareBackend(ModelBackend):
    def user_can_authenticate(self, user):
        # A locked account stays locked even with the right password; Django then sends
        # user_login_failed, which the audit signal records.
        if user.locked_until and user.locked_until > timezone.now():
            return False
        return super().user_can_authenticate(user)
