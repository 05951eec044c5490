from django.apps import AppConfig


class PlanparseConfig(AppConfig):
    name = "rectify.planparse"
    label = "planparse"
    verbose_name = "整改方案解析"
