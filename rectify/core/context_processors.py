from django.conf import settings


def product(request):
    return {
        "PRODUCT_NAME": "督察整改调度平台",
        "SESSION_IDLE_MINUTES": settings.SESSION_IDLE_TIMEOUT_MINUTES,
    }
