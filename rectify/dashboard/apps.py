from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "rectify.dashboard"
    label = "dashboard"
    verbose_name = "挂图作战"
