from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "rectify.dispatch"
    label = "dispatch"
    verbose_name = "调度报送"
