from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "rectify.api"
    label = "api"
    verbose_name = "接口"
