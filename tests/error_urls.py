"""The product's URLs plus one view that fails, for the 500 page test."""

from django.urls import path

from rectify.urls import handler400, handler403, handler404, handler500  # noqa: F401
from rectify.urls import urlpatterns as product_urls


def boom(request):
    raise RuntimeError("planted failure")


urlpatterns = [path("boom/", boom), *product_urls]
