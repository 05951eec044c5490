"""Authentication that honours the account lockout (登录失败处理)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone


class LockoutAwareBackend(ModelBackend):
    def user_can_authenticate(self, user):
        # A locked account stays locked even with the right password; Django then sends
        # user_login_failed, which the audit signal records.
        if user.locked_until and user.locked_until > timezone.now():
            return False
        return super().user_can_authenticate(user)

    def get_user(self, user_id):
        """The signed-in user of a request, with their unit in the same query: every page reads
        it (the header names it, every scope starts from it), and as a lazy relation it was a
        query of its own on each request."""
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("unit").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
