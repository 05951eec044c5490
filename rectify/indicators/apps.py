from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "rectify.indicators"
    label = "indicators"
    verbose_name = "目标指标"
