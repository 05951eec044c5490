from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "rectify.supervision"
    label = "supervision"
    verbose_name = "督办"
