from django.conf import settings


def product(request):
    context = {
        "PRODUCT_NAME": "督察整改调度平台",
        "SESSION_IDLE_MINUTES": settings.SESSION_IDLE_TIMEOUT_MINUTES,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from rectify.core.notify import unread_count
        from rectify.core.roles import ADMIN_ROLES, OFFICE_ROLES

        context["UNREAD_COUNT"] = unread_count(user)
        context["IS_OFFICE"] = user.role in OFFICE_ROLES
        context["IS_ADMIN_ROLE"] = user.role in ADMIN_ROLES  # 系统/安全管理员: no business pages
    return context
